// Admission control through the real runtime and server: option and config validation, SHED at once
// (ShedError, HTTP 429 with Retry-After), stats and metrics by reason, priorities, and nothing lost on close.
// Deterministic: the latency profile is seeded far from the request budgets, so no decision depends on
// how fast this machine runs the model.
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, ShedError } from '../src/index.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { call } from './fixtures/http-call.js';
import { parsePrometheusText, sampleValue } from './fixtures/prom-text.js';
import { rejected } from './helpers/caught.js';
import { makeRepo, rows, slowIdentityConfig } from './helpers/temp-repo.js';

let cleanup: (() => void) | undefined;
let rt: Runtime | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rt?.close();
  rt = undefined;
  cleanup?.();
});

function repo(extra = '', levels = ''): string {
  const r = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 4, batching: `dynamic_batching { ${levels} }` }) + '\n' + extra }]);
  cleanup = r.cleanup;
  return r.root;
}

/** Says every batch of the model's one instance takes 10 s: any request with a budget under that is late. */
function seedSlow(runtime: Runtime): void {
  runtime.seedLatencyProfile('slow', [[1, 2, 4].map((b) => ({ batchSize: b, seconds: 10 }))]);
}

describe('admission policies', () => {
  it('bad input: an unknown admission policy is INVALID_ARGUMENT at open, naming the choices', async () => {
    const err = await rejected(Runtime.open({ modelRepository: repo(), admission: 'lifo' as never }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/deadline, codel, adaptive_concurrency/);
  });

  it('bad input: a bad admission_policy or codel parameter makes the model UNAVAILABLE with the reason', async () => {
    rt = await Runtime.open({ modelRepository: repo('parameters { key: "admission_policy" value { string_value: "sometimes" } }') });
    expect(rt.models()[0]).toMatchObject({ state: 'UNAVAILABLE', reason: expect.stringMatching(/admission_policy 'sometimes'/) });
    await rt.close();
    rt = await Runtime.open({ modelRepository: repo('parameters { key: "codel_target_ms" value { string_value: "-5" } }') });
    expect(rt.models()[0]).toMatchObject({ state: 'UNAVAILABLE', reason: expect.stringMatching(/codel_target_ms must be a positive number/) });
  });

  it('bad input: sloMs must be a finite non-negative number', async () => {
    rt = await Runtime.open({ modelRepository: repo(), admission: 'deadline' });
    for (const sloMs of [-1, Number.NaN, Infinity, '5' as never]) {
      expect((await rejected(rt.infer('slow', { x: rows(1) }, { sloMs }))).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('deadline: a request that cannot make its budget is shed at once with SHED; one that can is served', async () => {
    rt = await Runtime.open({ modelRepository: repo(), admission: 'deadline' });
    seedSlow(rt);
    const shed = await rejected(rt.infer('slow', { x: rows(1) }, { sloMs: 50 }));
    expect(shed).toBeInstanceOf(ShedError);
    expect(shed.code).toBe('SHED');
    expect(shed.message).toMatch(/shed \(deadline\)/);
    expect((await rejected(rt.infer('slow', { x: rows(1) }, { timeoutMs: 50 }))).code).toBe('SHED');  // a queue timeout is a deadline too
    const out = await rt.infer('slow', { x: rows(2, 3) }, { sloMs: 60_000 });
    expect(Array.from(out['y']!.data as Float32Array)).toEqual(new Array(8).fill(3));
    await rt.infer('slow', { x: rows(1) });  // no deadline: admitted
    const s = rt.stats();
    expect(s.admission).toBe('deadline');
    const m = s.models[0]!;
    expect(m).toMatchObject({ admission: 'deadline', shed: { deadline: 2 }, failure: { SHED: 2 }, success: 2, inFlight: 0 });
    expect(m.predictionCount).toBe(2);  // every admitted, answered request's latency was predicted
    expect(m.predictionErrorMean).toBeGreaterThan(0);
  });

  it('the config parameter overrides the runtime default, and slo_ms is every request\'s budget', async () => {
    rt = await Runtime.open({ modelRepository: repo('parameters { key: "admission_policy" value { string_value: "deadline" } }\nparameters { key: "slo_ms" value { string_value: "100" } }') });
    seedSlow(rt);
    expect(rt.admission).toBe('none');
    expect((await rejected(rt.infer('slow', { x: rows(1) }))).code).toBe('SHED');
    await expect(rt.infer('slow', { x: rows(1) }, { sloMs: 60_000 })).resolves.toBeDefined();  // its own, longer objective
    expect(rt.stats().models[0]!.admission).toBe('deadline');
  });

  it('without admission (the default) nothing is shed, whatever the prediction', async () => {
    rt = await Runtime.open({ modelRepository: repo() });
    seedSlow(rt);
    await expect(rt.infer('slow', { x: rows(1) }, { sloMs: 1 })).resolves.toBeDefined();
    expect(rt.stats().models[0]).toMatchObject({ admission: 'none', shed: {} });
  });

  it('lower priorities are shed first', async () => {
    rt = await Runtime.open({ modelRepository: repo('', 'priority_levels: 2 default_priority_level: 1'), admission: 'deadline' });
    // 10 s per batch; a budget of 12 s: level 1 keeps all of it, level 2 keeps 75% (9 s).
    // (Level 2 first: a served request teaches the profile the model's real, faster speed.)
    seedSlow(rt);
    expect((await rejected(rt.infer('slow', { x: rows(1) }, { sloMs: 12_000, priority: 2 }))).code).toBe('SHED');
    await expect(rt.infer('slow', { x: rows(1) }, { sloMs: 12_000, priority: 1 })).resolves.toBeDefined();
  });

  it('adaptive_concurrency sheds over its limit and reports the limit; nothing admitted is lost on close', async () => {
    rt = await Runtime.open({ modelRepository: repo('parameters { key: "concurrency_initial_limit" value { string_value: "3" } }'), admission: 'adaptive_concurrency' });
    const pending = Array.from({ length: 10 }, () => rt!.infer('slow', { x: rows(1) }).then(() => 'ok', (e: { code: string }) => e.code));
    await rt.close();
    const codes = await Promise.all(pending);
    // Ten requests sent in one synchronous burst against a limit of 3: at least 3 are served, and the rest
    // are shed unless a batch finished within the burst (microseconds; the model takes milliseconds).
    expect(codes.filter((c) => c === 'ok').length).toBeGreaterThanOrEqual(3);
    expect(codes.filter((c) => c === 'SHED').length).toBeGreaterThanOrEqual(5);
    expect(codes.every((c) => c === 'ok' || c === 'SHED')).toBe(true);
    rt = undefined;
  });

  it('over HTTP: 429 with Retry-After and a JSON error; counted in /metrics by reason', async () => {
    rt = await Runtime.open({ modelRepository: repo(), admission: 'deadline' });
    seedSlow(rt);
    server = await startServer({ runtime: rt, port: 0 });
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }], parameters: { slo_ms: 20 } };
    const res = await call(server.url, 'POST', '/v2/models/slow/infer', body);
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json.error).toMatch(/shed \(deadline\)/);
    const bad = await call(server.url, 'POST', '/v2/models/slow/infer', { ...body, parameters: { slo_ms: 'soon' } });
    expect(bad.status).toBe(400);
    const ok = await call(server.url, 'POST', '/v2/models/slow/infer', { ...body, parameters: { slo_ms: 60_000 } });
    expect(ok.status).toBe(200);
    const metrics = parsePrometheusText((await call(server.url, 'GET', '/metrics')).raw.toString());
    expect(sampleValue(metrics, 'serval_inference_request_shed_total', { model: 'slow', version: '1', reason: 'deadline' })).toBe(1);
    expect(sampleValue(metrics, 'serval_inference_request_failure_total', { model: 'slow', version: '1', reason: 'SHED' })).toBe(1);
    expect(sampleValue(metrics, 'serval_admission_in_flight', { model: 'slow', version: '1', admission: 'deadline' })).toBe(0);
    server = undefined;  // startServer owns the runtime: close it once, through the runtime
  });
});
