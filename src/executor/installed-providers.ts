/**
 * The onnxruntime execution providers installed on this machine: what onnxruntime-node's binding can use
 * (`listSupportedBackends()`) whose library is present beside it. Read from disk on each call.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { installedProviders, type ProviderName } from './execution-providers.js';

/** Where onnxruntime-node keeps its binding and the provider libraries installed beside it. */
function ortBinaryDir(): string {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Providers to consider installed. SERVAL_ORT_PROVIDERS (comma-separated, e.g. "cuda") overrides the
 * detection: for a provider library installed elsewhere on the loader path.
 */
export function availableProviders(): Set<ProviderName> {
  const forced = process.env['SERVAL_ORT_PROVIDERS'];
  if (forced !== undefined) {
    const names = forced.split(',').map((n) => n.trim()).filter((n): n is ProviderName => n === 'cuda' || n === 'tensorrt');
    return new Set<ProviderName>(['cpu', ...names]);
  }
  const dir = ortBinaryDir();
  return installedProviders(ort.listSupportedBackends(), (file) => existsSync(join(dir, file)));
}
