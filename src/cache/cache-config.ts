/**
 * `--cache-config local,size=BYTES` (Triton's `--cache-config local,size=...`): the server-wide response cache.
 * `local` is the only cache; the size takes an optional K, M or G suffix (powers of 1024).
 */
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `{ sizeBytes }`, or throws an Error saying what is wrong with `spec`. */
export function parseCacheConfig(spec: string): { sizeBytes: number } {
  const [kind, ...settings] = spec.split(',').map((s) => s.trim());
  if (kind !== 'local') throw new Error(`cache '${kind}' is not supported: use local,size=BYTES`);
  let sizeBytes: number | undefined;
  for (const setting of settings) {
    const m = /^size=(\d+)([kKmMgG]?)$/.exec(setting);
    if (!m) throw new Error(`unknown cache setting '${setting}': use size=BYTES (K, M or G suffix allowed)`);
    sizeBytes = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  }
  if (sizeBytes === undefined) throw new Error('the local cache needs size=BYTES');
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1) throw new Error(`cache size must be a positive number of bytes, got ${sizeBytes}`);
  return { sizeBytes };
}
