/**
 * Load-time checks of an ensemble against its members' (auto-completed) configs: every mapped tensor exists in
 * the member, every required member input is fed, and the type and shape of each tensor agree between the step
 * that writes it (or the ensemble input) and the steps that read it (or the ensemble output). Errors name the
 * ensemble's config.pbtxt, line and field.
 */
import { toTritonType, type DataType } from '../dtypes.js';
import type { ModelConfig, TensorConfig } from '../repository/model-config.js';
import type { EnsembleGraph, StepLocator } from './ensemble-graph.js';

interface TensorType { dataType: DataType; shape: number[]; what: string }

/** The full shape a request carries for `t` (batch dimension first when the model batches). */
function fullShape(config: ModelConfig, t: TensorConfig): number[] {
  return config.maxBatchSize > 0 ? [-1, ...t.dims] : [...t.dims];
}

function compatible(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === -1 || b[i] === -1 || d === b[i]);
}

const show = (t: TensorType) => `${toTritonType(t.dataType)} [${t.shape.join(', ')}] (${t.what})`;

export function checkEnsembleMembers(ensemble: ModelConfig, graph: EnsembleGraph, members: readonly ModelConfig[], where: StepLocator): void {
  const types = new Map<string, TensorType>();
  for (const t of ensemble.input) types.set(t.name, { dataType: t.dataType, shape: fullShape(ensemble, t), what: `ensemble input "${t.name}"` });
  graph.steps.forEach((step, i) => {
    const member = members[i]!;
    if (ensemble.maxBatchSize > 0 && member.maxBatchSize > 0 && member.maxBatchSize < ensemble.maxBatchSize) {
      throw where.error(i, 'model_name', `names "${member.name}", whose max_batch_size ${member.maxBatchSize} is below the ensemble's ${ensemble.maxBatchSize}`);
    }
    for (const [memberOutput, tensor] of Object.entries(step.outputMap)) {
      const out = member.output.find((o) => o.name === memberOutput);
      if (!out) {
        throw where.error(i, `output_map[${JSON.stringify(memberOutput)}]`,
          `names output "${memberOutput}", which model "${member.name}" does not have (it has ${member.output.map((o) => `"${o.name}"`).join(', ')})`);
      }
      types.set(tensor, { dataType: out.dataType, shape: fullShape(member, out), what: `output "${memberOutput}" of step ${i} ("${member.name}")` });
    }
  });
  graph.steps.forEach((step, i) => {
    const member = members[i]!;
    for (const [memberInput, tensor] of Object.entries(step.inputMap)) {
      const field = `input_map[${JSON.stringify(memberInput)}]`;
      const input = member.input.find((t) => t.name === memberInput);
      if (!input) {
        throw where.error(i, field, `names input "${memberInput}", which model "${member.name}" does not have (it has ${member.input.map((t) => `"${t.name}"`).join(', ')})`);
      }
      const have = types.get(tensor)!;
      const want: TensorType = { dataType: input.dataType, shape: fullShape(member, input), what: `input "${memberInput}" of "${member.name}"` };
      if (have.dataType !== want.dataType || !compatible(have.shape, want.shape)) {
        throw where.error(i, field, `feeds tensor "${tensor}", ${show(have)}, to ${show(want)}: type or shape mismatch`);
      }
    }
    const missing = member.input.find((t) => !t.optional && !(t.name in step.inputMap));
    if (missing) throw where.error(i, 'input_map', `does not feed input "${missing.name}" of model "${member.name}"`);
  });
  ensemble.output.forEach((o, k) => {
    const have = types.get(o.name)!;
    const want: TensorType = { dataType: o.dataType, shape: fullShape(ensemble, o), what: `ensemble output "${o.name}"` };
    if (have.dataType !== want.dataType || !compatible(have.shape, want.shape)) {
      throw where.outputError(k, `is ${show(want)} but is written as ${show(have)}: type or shape mismatch`);
    }
  });
}
