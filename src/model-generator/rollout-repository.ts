/**
 * Writes a model repository for rollout scenarios (bench/named/rollout.ts and the rollout tests): one model
 * whose versions are rollout_scorer builds with different options (src/model-generator/onnx/rollout-scorer.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRolloutScorer, type RolloutScorerOptions } from './onnx/rollout-scorer.js';

/** Writes `<root>/<model>/<version>/model.onnx` for each version, and `config.pbtxt` (`{name}` replaced by `model`). */
export function writeRolloutModel(root: string, model: string, versions: Record<number, RolloutScorerOptions>, config: string): void {
  for (const [version, options] of Object.entries(versions)) {
    mkdirSync(join(root, model, version), { recursive: true });
    writeFileSync(join(root, model, version, 'model.onnx'), buildRolloutScorer(options));
  }
  writeFileSync(join(root, model, 'config.pbtxt'), config.replaceAll('{name}', model));
}

/** A config for rollout_scorer: batching, one CPU instance, every version served, plus `extra` lines. */
export function rolloutScorerConfig(extra = ''): string {
  return [
    'name: "{name}"',
    'max_batch_size: 8',
    'dynamic_batching { max_queue_delay_microseconds: 500 }',
    'instance_group [ { count: 1 kind: KIND_CPU } ]',
    'version_policy { all { } }',
    extra,
  ].join('\n');
}
