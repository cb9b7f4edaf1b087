/**
 * An ensemble's steps in the form a request runs them: every ensemble tensor numbered (a request keeps its
 * tensors in an array by slot, not in an object keyed by name), the maps as [member name, slot] pairs, and the
 * member outputs each step fetches.
 */
import type { ModelConfig } from '../repository/model-config.js';
import type { EnsembleGraph } from './ensemble-graph.js';

export interface PlannedStep {
  model: string;
  /** -1: the newest ready version at request time. */
  version: number;
  /** [member input, tensor slot] */
  inputs: [string, number][];
  /** [member output, tensor slot], only those someone reads. */
  outputs: [string, number][];
  /** The member outputs requested from the step. */
  fetch: string[];
}

export interface EnsemblePlan {
  name: string;
  graph: EnsembleGraph;
  steps: PlannedStep[];
  /** Number of tensor slots. */
  slots: number;
  /** [ensemble input name, slot] */
  inputs: [string, number][];
  /** Ensemble output name → slot. */
  outputs: Map<string, number>;
}

export function planEnsemble(config: ModelConfig, graph: EnsembleGraph): EnsemblePlan {
  const slotOf = new Map<string, number>();
  const slot = (tensor: string) => {
    let s = slotOf.get(tensor);
    if (s === undefined) slotOf.set(tensor, (s = slotOf.size));
    return s;
  };
  const inputs = config.input.map((t): [string, number] => [t.name, slot(t.name)]);
  const steps = graph.steps.map((s, i): PlannedStep => {
    const fetch = graph.neededOutputs[i]!;
    return {
      model: s.modelName,
      version: s.modelVersion,
      inputs: Object.entries(s.inputMap).map(([member, tensor]) => [member, slot(tensor)]),
      outputs: Object.entries(s.outputMap).filter(([member]) => fetch.includes(member)).map(([member, tensor]) => [member, slot(tensor)]),
      fetch,
    };
  });
  const outputs = new Map(config.output.map((t) => [t.name, slot(t.name)]));
  return { name: config.name, graph, steps, slots: slotOf.size, inputs, outputs };
}
