/**
 * Transport selection: the native uWS binary loads here (never the slow JS fallback); when it cannot,
 * serval serves with node:http and says so; `SERVAL_HTTP_TRANSPORT` is validated.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogFields, Logger } from '../src/server/logger.js';
import { loadNativeUws } from '../src/server/uws-transport.js';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (msg: string, fields?: LogFields) => void lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

const options = (logger: Logger) => ({
  maxBodyBytes: 1024, maxJsonBodyBytes: 1024, maxBufferedBodyBytes: 4096, bodyTimeoutMs: 10_000, logger, handler: () => ({ status: 204 }),
});

afterEach(() => {
  vi.doUnmock('../src/server/uws-transport.js');
  vi.resetModules();
  vi.unstubAllEnvs();
});

describe('HTTP transport selection', () => {
  it('loads the native uWS binary', () => {
    const loaded = loadNativeUws();
    expect(loaded.ok).toBe(true);
    if (loaded.ok) expect(Function.prototype.toString.call(loaded.uws.App)).toMatch(/\[native code\]/);
  });

  it('auto picks uWS when it loads', async () => {
    const { createHttpTransport } = await import('../src/server/http-transport.js');
    const t = await createHttpTransport(options(recordingLogger()), 'auto');
    expect(t.kind).toBe('uws');
    await t.close();
  });

  it('falls back to node:http with a warning when the uWS binary cannot load', async () => {
    vi.doMock('../src/server/uws-transport.js', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../src/server/uws-transport.js')>()),
      loadNativeUws: () => ({ ok: false, reason: 'ABI mismatch (test)' }),
    }));
    const { createHttpTransport } = await import('../src/server/http-transport.js');
    const logger = recordingLogger();
    const t = await createHttpTransport(options(logger), 'auto');
    expect(t.kind).toBe('node');
    expect(logger.lines.join('\n')).toMatch(/warn uWebSockets.js native binary did not load.*ABI mismatch \(test\)/);
    await t.close();
    await expect(createHttpTransport(options(logger), 'uws')).rejects.toThrow(/did not load: ABI mismatch/);
  });

  it('bad input: SERVAL_HTTP_TRANSPORT must be uws, node or auto', async () => {
    vi.stubEnv('SERVAL_HTTP_TRANSPORT', 'libuv');
    const { createHttpTransport } = await import('../src/server/http-transport.js');
    await expect(createHttpTransport(options(recordingLogger()))).rejects.toThrow(/SERVAL_HTTP_TRANSPORT must be uws, node or auto/);
    vi.stubEnv('SERVAL_HTTP_TRANSPORT', 'node');
    const t = await createHttpTransport(options(recordingLogger()));
    expect(t.kind).toBe('node');
    await t.close();
  });
});

describe('logger', () => {
  it('writes pretty and JSON lines', async () => {
    const { createLogger } = await import('../src/server/logger.js');
    const out: string[] = [];
    createLogger({ format: 'pretty', write: (l) => out.push(l) }).info('model loaded', { model: 'fraud_mlp', instances: 2, note: 'a b' });
    expect(out[0]).toMatch(/^\S+Z INFO  model loaded model=fraud_mlp instances=2 note="a b"\n$/);
    createLogger({ format: 'json', write: (l) => out.push(l) }).warn('odd', { err: new Error('boom'), n: 10n });
    expect(JSON.parse(out[1]!)).toMatchObject({ level: 'warn', msg: 'odd', err: { message: 'boom' }, n: '10' });
    createLogger({ level: 'warn', write: (l) => out.push(l) }).info('dropped');
    expect(out).toHaveLength(2);
  });
});
