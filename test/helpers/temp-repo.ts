/** Temporary model repositories for runtime tests: fixture model files with test-specific config.pbtxt. */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_REPOSITORY, FIXTURE_REPOSITORY } from '../../src/model-generator/generate.js';

export interface TempModel {
  /** Directory name in the temporary repository. */
  name: string;
  /** A model of the bundled repository or of test/fixtures/repo to copy the ONNX file from. */
  from: string;
  /** config.pbtxt text; none when omitted (auto-complete). `{name}` is replaced by the model name. */
  config?: string;
  versions?: number[];
}

export function modelFile(from: string, version = 1): string {
  const bundled = ['fraud_mlp', 'image_cnn', 'tabular_mixed'].includes(from);
  return join(bundled ? BUNDLED_REPOSITORY : FIXTURE_REPOSITORY, from, String(version), 'model.onnx');
}

export function makeRepo(models: TempModel[]): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'serval-repo-'));
  for (const m of models) {
    const dir = join(root, m.name);
    for (const v of m.versions ?? [1]) {
      mkdirSync(join(dir, String(v)), { recursive: true });
      copyFileSync(modelFile(m.from), join(dir, String(v), 'model.onnx'));
    }
    if (m.config !== undefined) writeFileSync(join(dir, 'config.pbtxt'), m.config.replaceAll('{name}', m.name));
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A config for the slow_identity fixture (FP32 [-1,4] → [-1,4], a few ms per run). */
export function slowIdentityConfig(opts: { maxBatch?: number; batching?: string; instances?: number } = {}): string {
  return [
    'name: "{name}"',
    `max_batch_size: ${opts.maxBatch ?? 8}`,
    opts.batching ?? 'dynamic_batching { }',
    `instance_group [ { count: ${opts.instances ?? 1} kind: KIND_CPU } ]`,
  ].join('\n');
}

export function rows(n: number, value = 1): { data: Float32Array; dims: number[] } {
  return { data: new Float32Array(n * 4).fill(value), dims: [n, 4] };
}
