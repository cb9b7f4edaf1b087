/**
 * The built-in `uncertainty` backend: reduces the outputs of N member models (one FP32 input per member, all of
 * the same dims) row by row into the statistics its config's outputs name, chosen by the output name's ending:
 *
 *   ...mean        element-wise mean over members (dims as the inputs)
 *   ...std         element-wise population standard deviation over members (dims as the inputs)
 *   ...vote_share  [1]: the share of members that vote for the majority class (binary: p >= vote_threshold,
 *                  parameter, default 0.5; several classes: each member's argmax)
 *   ...entropy     [1]: entropy in bits of the mean class distribution (binary: [1 - p, p])
 *
 * Runs as a JavaScript-backend model (js-model-worker.ts), so it is batched like any member.
 */
import type { ModelConfig } from '../repository/model-config.js';
import type { JsBatch, JsBatchOutputs, JsModelContext } from './js-model-api.js';

type Statistic = 'mean' | 'std' | 'vote_share' | 'entropy';
const STATISTICS: readonly Statistic[] = ['vote_share', 'entropy', 'mean', 'std'];

let outputs: { name: string; statistic: Statistic }[] = [];
let inputNames: string[] = [];
let width = 1;
let threshold = 0.5;
let rowDims: number[] = [];

export function initialize({ config }: JsModelContext): void {
  if (config.maxBatchSize === 0) throw new Error('the uncertainty backend needs max_batch_size > 0 (it reduces row by row)');
  if (config.input.length < 2) throw new Error('the uncertainty backend needs at least 2 inputs (one per member)');
  const first = config.input[0]!;
  for (const t of config.input) {
    if (t.dataType !== 'FP32') throw new Error(`input '${t.name}' must be TYPE_FP32, got ${t.dataType}`);
    if (t.dims.join(',') !== first.dims.join(',') || t.dims.includes(-1)) {
      throw new Error(`input '${t.name}' has dims [${t.dims.join(', ')}]: every input needs the same fixed dims as '${first.name}' [${first.dims.join(', ')}]`);
    }
  }
  inputNames = config.input.map((t) => t.name);
  rowDims = first.dims;
  width = first.dims.reduce((a, b) => a * b, 1);
  threshold = Number(config.parameters['vote_threshold'] ?? 0.5);
  if (!(threshold > 0 && threshold < 1)) throw new Error(`parameter vote_threshold must be in (0, 1), got ${config.parameters['vote_threshold']}`);
  outputs = config.output.map((o) => ({ name: o.name, statistic: statisticOf(config, o) }));
}

function statisticOf(config: ModelConfig, o: ModelConfig['output'][number]): Statistic {
  const statistic = STATISTICS.find((s) => o.name.endsWith(s));
  if (!statistic) throw new Error(`output '${o.name}' names no statistic: end its name with ${STATISTICS.join(', ')}`);
  if (o.dataType !== 'FP32') throw new Error(`output '${o.name}' must be TYPE_FP32`);
  const want = statistic === 'mean' || statistic === 'std' ? config.input[0]!.dims : [1];
  if (o.dims.join(',') !== want.join(',')) throw new Error(`output '${o.name}' (${statistic}) must have dims [${want.join(', ')}], got [${o.dims.join(', ')}]`);
  return statistic;
}

export function execute(batch: JsBatch): JsBatchOutputs {
  const rows = batch.size;
  const members = inputNames.map((n) => batch.inputs[n]!.data as Float32Array);
  const n = members.length;
  const mean = new Float32Array(rows * width);
  const std = new Float32Array(rows * width);
  const vote = new Float32Array(rows);
  const entropy = new Float32Array(rows);
  const classMean = new Float64Array(width === 1 ? 2 : width);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let k = 0; k < width; k++) {
      let s = 0;
      for (const m of members) s += m[base + k]!;
      const mu = s / n;
      let v = 0;
      for (const m of members) v += (m[base + k]! - mu) ** 2;
      mean[base + k] = mu;
      std[base + k] = Math.sqrt(v / n);
    }
    // Class distribution of the mean, and each member's vote.
    const votes = new Array<number>(classMean.length).fill(0);
    if (width === 1) {
      classMean[0] = 1 - mean[base]!;
      classMean[1] = mean[base]!;
      for (const m of members) votes[m[base]! >= threshold ? 1 : 0]!++;
    } else {
      for (let k = 0; k < width; k++) classMean[k] = mean[base + k]!;
      for (const m of members) votes[argmax(m, base, width)]!++;
    }
    vote[r] = Math.max(...votes) / n;
    let h = 0;
    for (const p of classMean) if (p > 0) h -= p * Math.log2(p);
    entropy[r] = h;
  }
  const result: JsBatchOutputs = {};
  const perRow = [rows, ...rowDims];
  for (const o of outputs) {
    if (o.statistic === 'mean') result[o.name] = { data: mean, dims: perRow };
    else if (o.statistic === 'std') result[o.name] = { data: std, dims: perRow };
    else result[o.name] = { data: o.statistic === 'vote_share' ? vote : entropy, dims: [rows, 1] };
  }
  return result;
}

function argmax(a: Float32Array, base: number, width: number): number {
  let best = 0;
  for (let k = 1; k < width; k++) if (a[base + k]! > a[base + best]!) best = k;
  return best;
}
