/**
 * The DAG of an ensemble's steps, built from `ensemble_scheduling` and checked where config.pbtxt is parsed:
 * every tensor a step reads is an ensemble input or another step's output, no tensor has two producers, every
 * ensemble output is produced, and the steps form no cycle. Errors name the file, line and field at fault.
 * The checks that need the member models' configs (names, types, shapes) are in ensemble-members.ts.
 */
import type { InvalidConfigError } from '../errors.js';
import type { EnsembleStepConfig, ModelConfig } from '../repository/model-config.js';
import type { ConfigSource } from '../repository/parse-config.js';
import { configError } from '../repository/schema-decoder.js';

/** Where a tensor of the ensemble comes from: an ensemble input (step -1) or a step's output. */
export interface TensorProducer {
  step: number;
  /** The member's output name (the ensemble input's own name for step -1). */
  memberTensor: string;
}

export class EnsembleGraph {
  /** Ensemble tensor name → its producer. */
  readonly producers = new Map<string, TensorProducer>();
  /** Per step: the steps that must finish before it can start. */
  readonly dependsOn: number[][];
  /** Per step: the steps that read one of its outputs. */
  readonly dependents: number[][];
  /** Per step: the member outputs someone reads (a later step or the ensemble's outputs); the rest are not requested. */
  readonly neededOutputs: string[][];
  /** Steps in an order where each comes after those it depends on. */
  readonly order: number[];

  constructor(readonly steps: readonly EnsembleStepConfig[], inputs: readonly string[], outputs: readonly string[], private readonly where: StepLocator) {
    for (const name of inputs) this.producers.set(name, { step: -1, memberTensor: name });
    steps.forEach((s, i) => {
      for (const [memberOutput, tensor] of Object.entries(s.outputMap)) {
        const previous = this.producers.get(tensor);
        if (previous) {
          const by = previous.step < 0 ? 'it is an ensemble input' : `step ${previous.step} ("${steps[previous.step]!.modelName}") already produces it`;
          throw where.error(i, `output_map[${JSON.stringify(memberOutput)}]`, `writes tensor "${tensor}", but ${by}`);
        }
        this.producers.set(tensor, { step: i, memberTensor: memberOutput });
      }
    });
    this.dependsOn = steps.map((s, i) => {
      const deps = new Set<number>();
      for (const [memberInput, tensor] of Object.entries(s.inputMap)) {
        const p = this.producers.get(tensor);
        if (!p) throw where.error(i, `input_map[${JSON.stringify(memberInput)}]`, `reads tensor "${tensor}", which no ensemble input or step output provides`);
        if (p.step === i) throw where.error(i, `input_map[${JSON.stringify(memberInput)}]`, `reads tensor "${tensor}", which the same step writes (a cycle)`);
        if (p.step >= 0) deps.add(p.step);
      }
      return [...deps];
    });
    this.dependents = steps.map(() => []);
    this.dependsOn.forEach((deps, i) => deps.forEach((d) => this.dependents[d]!.push(i)));
    this.order = this.topologicalOrder();
    const needed = steps.map(() => new Set<string>());
    const need = (tensor: string) => {
      const p = this.producers.get(tensor)!;
      if (p.step >= 0) needed[p.step]!.add(p.memberTensor);
    };
    steps.forEach((s) => Object.values(s.inputMap).forEach(need));
    outputs.forEach((name, i) => {
      if (!this.producers.has(name)) throw where.outputError(i, `is not produced by any step (no output_map names "${name}")`);
      need(name);
    });
    this.neededOutputs = needed.map((n) => [...n]);
  }

  /** Kahn's algorithm; the steps left over form (or hang off) a cycle, which is reported at the first of them. */
  private topologicalOrder(): number[] {
    const waiting = this.dependsOn.map((d) => d.length);
    const ready = waiting.flatMap((n, i) => (n === 0 ? [i] : []));
    const order: number[] = [];
    while (ready.length > 0) {
      const s = ready.shift()!;
      order.push(s);
      for (const d of this.dependents[s]!) if (--waiting[d]! === 0) ready.push(d);
    }
    if (order.length < this.steps.length) {
      const stuck = this.steps.map((_, i) => i).filter((i) => !order.includes(i));
      const names = stuck.map((i) => `${i} ("${this.steps[i]!.modelName}")`).join(', ');
      throw this.where.error(stuck[0]!, undefined, `is part of a cycle: steps ${names} wait on each other's outputs`);
    }
    return order;
  }
}

/** Builds errors that point at a step (or one of its fields) or an ensemble output in config.pbtxt. */
export interface StepLocator {
  error(step: number, field: string | undefined, message: string): InvalidConfigError;
  outputError(output: number, message: string): InvalidConfigError;
}

export function sourceLocator(source: ConfigSource): StepLocator {
  return {
    error(step, field, message) {
      const stepPath = `ensemble_scheduling.step[${step}]`;
      const path = field ? `${stepPath}.${field}` : stepPath;
      return configError(source.file, source.lines.get(path) ?? source.lines.get(stepPath), `field '${path}' ${message}`);
    },
    outputError(output, message) {
      return configError(source.file, source.lines.get(`output[${output}]`), `field 'output[${output}]' ${message}`);
    },
  };
}

/** Parse-time checks of an ensemble config; throws `InvalidConfigError` with file:line. */
export function checkEnsembleGraph(config: ModelConfig, source: ConfigSource): EnsembleGraph {
  const steps = config.ensembleScheduling!.step;
  const where = sourceLocator(source);
  steps.forEach((s, i) => {
    if (s.modelName === config.name) throw where.error(i, 'model_name', `names the ensemble itself (a cycle)`);
  });
  return new EnsembleGraph(steps, config.input.map((t) => t.name), config.output.map((t) => t.name), where);
}
