/**
 * The baselines' view of a model repository: one onnxruntime-node session per model, straight from
 * `<repo>/<model>/<newest version>/model.onnx`, with no serval code in between. Metadata comes from the
 * session itself (symbolic dimensions become -1), `max_batch_size` from config.pbtxt when it says one.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { fromOrtType, toOrtType } from '../../src/dtypes.js';
import { BenchError } from '../errors.js';
import type { ModelInfo, TensorInfo } from '../inputs.js';
import type { WireTensor } from '../protocol/v2-codec.js';

export interface OrtModel {
  name: string;
  session: ort.InferenceSession;
  info: ModelInfo;
  /** From config.pbtxt; 0 when the model does not batch, undefined when the config does not say. */
  maxBatchSize?: number;
}

/** Names of the repository's models: folders with a numeric version folder holding an .onnx file. */
export async function listRepositoryModels(repo: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(repo);
  } catch (err) {
    throw new BenchError('TARGET_UNAVAILABLE', `cannot read model repository ${repo}: ${(err as Error).message}`);
  }
  const out: string[] = [];
  for (const name of entries.sort()) if (await findModelFile(repo, name).catch(() => undefined)) out.push(name);
  return out;
}

/** The newest version's .onnx file of `name` (model.onnx preferred); UNKNOWN_MODEL when there is none. */
export async function findModelFile(repo: string, name: string): Promise<string> {
  try {
    const versions = (await readdir(join(repo, name))).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const files = (await readdir(join(repo, name, v))).filter((f) => f.endsWith('.onnx'));
      if (files.length) return join(repo, name, v, files.includes('model.onnx') ? 'model.onnx' : files[0]);
    }
  } catch {
    // fall through: no such folder
  }
  throw new BenchError('UNKNOWN_MODEL', `unknown model '${name}': no <version>/*.onnx under ${join(repo, name)}`);
}

export async function loadOrtModel(repo: string, name: string, intraOpThreads = 1): Promise<OrtModel> {
  const file = await findModelFile(repo, name);
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: intraOpThreads, interOpNumThreads: 1, executionMode: 'sequential' });
  const tensors = (list: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] =>
    list.map((m) => ({
      name: m.name,
      datatype: m.isTensor ? (fromOrtType(m.type) ?? m.type) : 'UNSUPPORTED',
      shape: m.isTensor ? m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) : [],
    }));
  const config = await readFile(join(repo, name, 'config.pbtxt'), 'utf8').catch(() => '');
  const mbs = /^\s*max_batch_size\s*:\s*(\d+)/m.exec(config);
  return {
    name,
    session,
    info: { name, inputs: tensors(session.inputMetadata), outputs: tensors(session.outputMetadata) },
    maxBatchSize: mbs ? Number(mbs[1]) : undefined,
  };
}

/** onnxruntime-node feeds for one request. */
export function toFeeds(inputs: WireTensor[]): Record<string, ort.Tensor> {
  return Object.fromEntries(inputs.map((t) => [t.name, new ort.Tensor(toOrtType(t.datatype), t.data as never, t.shape)]));
}
