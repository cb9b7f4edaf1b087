/**
 * Model versions: the numeric subdirectories of a model directory, and Triton's version_policy over them.
 */
import { readdir } from 'node:fs/promises';
import type { VersionPolicyConfig } from './model-config.js';
import type { ConfigSource } from './parse-config.js';
import { configError } from './schema-decoder.js';
import { sourceError } from './validate-config.js';

/** Triton's rule: a version directory is named by a positive integer without leading zeros; others are ignored. */
const VERSION_DIR = /^[1-9][0-9]{0,15}$/;

/** The versions present under `modelDir`, ascending. */
export async function scanVersions(modelDir: string): Promise<number[]> {
  const entries = await readdir(modelDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && VERSION_DIR.test(e.name))
    .map((e) => Number(e.name))
    .filter((v) => Number.isSafeInteger(v))
    .sort((a, b) => a - b);
}

/**
 * The versions `policy` serves out of `available`, ascending:
 * `latest { num_versions: n }` the n highest, `all {}` every one, `specific { versions }` those listed.
 * Throws `InvalidConfigError` when none is left, or when `specific` names a version that is not present.
 */
export function selectVersions(available: readonly number[], policy: VersionPolicyConfig, source: ConfigSource): number[] {
  const sorted = [...available].sort((a, b) => a - b);
  if (sorted.length === 0) {
    throw configError(source.file, undefined, 'the model has no version directories (expected <model>/<N>/ with N >= 1)');
  }
  if ('all' in policy) return sorted;
  if ('latest' in policy) return sorted.slice(-policy.latest.numVersions);
  const missing = policy.specific.versions.filter((v) => !sorted.includes(v));
  if (missing.length > 0) {
    throw sourceError(source, 'version_policy.specific.versions',
      `lists version ${missing.join(', ')}, which has no directory (present: ${sorted.join(', ')})`);
  }
  return sorted.filter((v) => policy.specific.versions.includes(v));
}
