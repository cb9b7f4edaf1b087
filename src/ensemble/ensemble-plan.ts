/** An ensemble's steps in the form a request runs them: maps as arrays, the member outputs each step fetches. */
import type { ModelConfig } from '../repository/model-config.js';
import type { EnsembleGraph } from './ensemble-graph.js';

export interface PlannedStep {
  model: string;
  /** -1: the newest ready version at request time. */
  version: number;
  /** [member input, ensemble tensor] */
  inputs: [string, string][];
  /** [member output, ensemble tensor], only those someone reads. */
  outputs: [string, string][];
  /** The member outputs requested from the step. */
  fetch: string[];
}

export interface EnsemblePlan {
  name: string;
  graph: EnsembleGraph;
  steps: PlannedStep[];
}

export function planEnsemble(config: ModelConfig, graph: EnsembleGraph): EnsemblePlan {
  const steps = graph.steps.map((s, i): PlannedStep => {
    const fetch = graph.neededOutputs[i]!;
    return {
      model: s.modelName,
      version: s.modelVersion,
      inputs: Object.entries(s.inputMap),
      outputs: Object.entries(s.outputMap).filter(([memberOutput]) => fetch.includes(memberOutput)),
      fetch,
    };
  });
  return { name: config.name, graph, steps };
}
