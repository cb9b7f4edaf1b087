/**
 * `serval route` (ClusterRuntime behind the v2 server) in front of real `serval serve` replicas: the same
 * API and answers as a replica, requests spread by the native placement policy, load reports parsed,
 * bad input refused at the router, a killed replica ejected with no request failing (fallback to the other
 * replica) and probed back after a restart, and DNS membership changes followed under load.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterRuntime } from '../src/cluster/cluster-runtime.js';
import { formatLoadReport, parseLoadReport } from '../src/cluster/load-report.js';
import { resolveRouteConfig } from '../src/cluster/route-options.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { call } from './fixtures/http-call.js';
import { inferenceClient } from './fixtures/grpc-client.js';
import { startServal, tempRepository, type ServalProcess } from './fixtures/serval-process.js';

const body = (x: number) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 128], data: new Array(128).fill(x) }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, f: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function openRouter(args: Record<string, unknown>, lookup?: (host: string) => Promise<{ address: string; family: number }[]>) {
  const config = resolveRouteConfig({ probeIntervalSecs: '0.2', dnsRefreshSecs: '0.2', drainTimeoutSecs: '5', ...args }, {});
  const runtime = await ClusterRuntime.open({ config, startTimeoutMs: 20_000, ...(lookup ? { lookup } : {}) });
  const server = await startServer({ runtime, port: 0, ...(config.grpcPort !== undefined ? { grpcPort: config.grpcPort } : {}) });
  return { runtime, server };
}

describe('serval route over two replicas', () => {
  const repo = tempRepository(['fraud_mlp', 'tabular_mixed']);
  let a: ServalProcess;
  let b: ServalProcess;
  let router: { runtime: ClusterRuntime; server: RunningServer };

  beforeAll(async () => {
    // b is killed and restarted on its port later: node:http sets SO_REUSEADDR on every socket it opens, so the
    // port binds again while connections of the killed process sit in TIME_WAIT (uWS's do not allow that).
    [a, b] = await Promise.all([
      startServal(['--model-repository', repo, '--grpc-port', 'off']),
      startServal(['--model-repository', repo, '--grpc-port', 'off'], { SERVAL_HTTP_TRANSPORT: 'node' }),
    ]);
    router = await openRouter({ upstream: [a.url, b.url], policy: 'round_robin', ejectAfterFailures: '1', slotsPerUpstream: '1' });
  }, 120_000);

  afterAll(async () => {
    await router?.server.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('serves the replicas\' metadata and the same answers', async () => {
    const url = router.server.url;
    expect((await call(url, 'GET', '/v2/health/ready')).status).toBe(200);
    const meta = await call(url, 'GET', '/v2/models/fraud_mlp');
    expect(meta.json).toEqual((await call(a.url, 'GET', '/v2/models/fraud_mlp')).json);
    const routed = await call(url, 'POST', '/v2/models/fraud_mlp/infer', body(0.25));
    const direct = await call(a.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.25));
    expect(routed.status).toBe(200);
    expect(routed.json.outputs).toEqual(direct.json.outputs);
  });

  it('INT64, BOOL and BYTES tensors go through the router unchanged (JSON and binary answers)', async () => {
    const mixed = {
      inputs: [
        { name: 'ids', datatype: 'INT64', shape: [2, 4], data: [1, 2, 3, 4, 9007199254740993, -1, 0, 1] },
        { name: 'flags', datatype: 'BOOL', shape: [2, 4], data: [false, false, true, false, false, false, false, false] },
        { name: 'text', datatype: 'BYTES', shape: [2, 1], data: ['héllo', 'wörld'] },
      ],
    };
    for (const body of [mixed, { ...mixed, parameters: { binary_data_output: true } }]) {
      const routed = await call(router.server.url, 'POST', '/v2/models/tabular_mixed/infer', body);
      const direct = await call(a.url, 'POST', '/v2/models/tabular_mixed/infer', body);
      expect(routed.status).toBe(200);
      expect(routed.raw.equals(direct.raw)).toBe(true);
    }
  });

  it('replicas report their load with every answer (ORCA TEXT header)', async () => {
    const r = await call(a.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.5));
    const report = parseLoadReport(r.headers['endpoint-load-metrics'] as string);
    expect(report).toBeDefined();
    expect(report!.queueDepth).toBeGreaterThanOrEqual(0);
    expect(parseLoadReport(formatLoadReport({ queueDepth: 3, inFlight: 5, predictedDelayMs: 1.25 }))).toEqual({ queueDepth: 3, inFlight: 5, predictedDelayMs: 1.25 });
    expect(parseLoadReport('TEXT cpu_utilization=0.5')).toBeUndefined();
    expect(parseLoadReport(undefined)).toBeUndefined();
  });

  it('round_robin places requests on both replicas', async () => {
    const fraud = () => router.runtime.stats().models.find((m) => m.name === 'fraud_mlp')!;
    const before = fraud().instances.map((i) => i.placements);
    for (let i = 0; i < 10; i++) expect((await call(router.server.url, 'POST', '/v2/models/fraud_mlp/infer', body(i / 10))).status).toBe(200);
    const after = fraud().instances.map((i, k) => i.placements - (before[k] ?? 0));
    expect(after.length).toBe(2);
    for (const n of after) expect(n).toBe(5);
  });

  it("the router's metrics list each replica, with the load it last reported", async () => {
    const text = (await call(router.server.url, 'GET', '/metrics')).raw.toString();
    for (const u of [a.url, b.url]) {
      expect(text).toContain(`serval_upstream_up{upstream="${u}"} 1`);
      expect(text).toMatch(new RegExp(`serval_upstream_queue_depth\\{upstream="${u}"\\} \\d+`));
    }
    expect(text).toContain('kind="KIND_REMOTE"');
  });

  it('bad input is refused at the router with the replica\'s error code', async () => {
    const bad = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] };
    const routed = await call(router.server.url, 'POST', '/v2/models/fraud_mlp/infer', bad);
    const direct = await call(a.url, 'POST', '/v2/models/fraud_mlp/infer', bad);
    expect(routed.status).toBe(400);
    expect(routed.status).toBe(direct.status);
    expect((await call(router.server.url, 'POST', '/v2/models/nope/infer', body(1))).status).toBe(404);
  });

  it('a killed replica is ejected without failing requests, and probed back after a restart', async () => {
    const port = new URL(b.url).port;
    const fraud = () => router.runtime.stats().models.find((m) => m.name === 'fraud_mlp');
    const okBefore = fraud()!.success;
    await b.stop('SIGKILL');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(router.server.url, 'POST', '/v2/models/fraud_mlp/infer', body(i / 20))));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    await until('ejection', () => router.runtime.upstreamStatus().some((u) => u.url === b.url && u.state === 'ejected'));
    await until('a generation without it', () => fraud()?.instances.length === 1);
    const metrics = (await call(router.server.url, 'GET', '/metrics')).raw.toString();
    expect(metrics).toContain(`serval_upstream_up{upstream="${b.url}"} 0`);
    expect(metrics).toContain(`serval_upstream_ejections_total{upstream="${b.url}"} 1`);
    b = await startServal(['--model-repository', repo, '--grpc-port', 'off', '--http-port', port], { SERVAL_HTTP_TRANSPORT: 'node' });
    await until('probe back', () => router.runtime.upstreamStatus().every((u) => u.state === 'ready'));
    await until('new generation', () => fraud()?.instances.length === 2);
    for (let i = 0; i < 4; i++) expect((await call(router.server.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.1))).status).toBe(200);
    const s = fraud()!;
    // Totals carry over generations: nothing failed, every request counted once.
    expect(s.failure).toEqual({});
    expect(s.success - okBefore).toBe(24);
  }, 120_000);
  it('with every replica gone: clear 5xx answers and readiness 503, never a crash; back when one returns', async () => {
    const port = new URL(b.url).port;
    await Promise.all([a.stop('SIGKILL'), b.stop('SIGKILL')]);
    const failed = await call(router.server.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.5));
    expect(failed.status).toBe(500);
    expect(failed.json.error).toMatch(/replica/);
    await until('both ejected', () => router.runtime.upstreamStatus().every((u) => u.state !== 'ready'));
    await until('models unavailable', () => !router.runtime.isReady('fraud_mlp') && !router.runtime.isReady('tabular_mixed'));
    expect((await call(router.server.url, 'GET', '/v2/health/ready')).status).toBe(503);
    const none = await call(router.server.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.5));
    expect(none.status).toBe(503);
    expect(none.json.error).toMatch(/no ready replica/);
    b = await startServal(['--model-repository', repo, '--grpc-port', 'off', '--http-port', port], { SERVAL_HTTP_TRANSPORT: 'node' });
    await until('ready again', () => router.runtime.isReady());
    expect((await call(router.server.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.5))).status).toBe(200);
  }, 120_000);
});

describe('serval route follows DNS', () => {
  const repo = tempRepository(['fraud_mlp']);
  const replicas: ServalProcess[] = [];
  let router: { runtime: ClusterRuntime; server: RunningServer } | undefined;

  afterAll(async () => {
    await router?.server.close();
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it('adds and removes replicas as the name\'s addresses change, dropping no request', async () => {
    // Two replicas on one port at two loopback addresses, as pods behind a headless Service.
    const first = await startServal(['--model-repository', repo, '--grpc-port', 'off', '--host', '127.0.0.1']);
    replicas.push(first);
    const port = new URL(first.url).port;
    replicas.push(await startServal(['--model-repository', repo, '--grpc-port', 'off', '--host', '127.0.0.2', '--http-port', port]));
    let answer = ['127.0.0.1'];
    let resolverDown = false;
    const lookup = async (host: string) => {
      if (host !== 'replicas.test' || resolverDown) throw new Error('ENOTFOUND');
      return answer.map((address) => ({ address, family: 4 }));
    };
    router = await openRouter({ upstreamDns: [`replicas.test:${port}`], policy: 'least_outstanding' }, lookup);
    const rt = router.runtime;
    expect(rt.upstreamStatus().map((u) => u.url)).toEqual([`http://127.0.0.1:${port}`]);
    let stop = false;
    let paused = false;
    const statuses: number[] = [];
    const load = (async () => {
      while (!stop) {
        if (paused) await sleep(10);
        else statuses.push((await call(router!.server.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.3))).status);
      }
    })();
    // fraud_mlp has 2 instances per replica: the router gives each replica 2 slots.
    expect(rt.stats().models[0]?.instances.length).toBe(2);
    const prior = rt.replicaProfiles('fraud_mlp')[0]!.profile;
    await until('a measured profile', () => rt.replicaProfiles('fraud_mlp').some((p) => p.executions > 0));
    // No traffic across this change, so the new generation's profiles can only be inherited, not re-measured.
    paused = true;
    await sleep(100);
    const measured = rt.replicaProfiles('fraud_mlp').filter((p) => p.executions > 0);
    expect(measured[0]!.profile).not.toEqual(prior);
    answer = ['127.0.0.1', '127.0.0.2'];
    await until('second replica', () => rt.stats().models[0]?.instances.length === 4);
    // The first replica's instances keep what they measured; the new replica's start from the prior.
    const inherited = rt.replicaProfiles('fraud_mlp');
    for (const p of measured) {
      const same = inherited.filter((q) => q.upstream === p.upstream).map((q) => q.profile[0]!.seconds);
      expect(same.some((s) => Math.abs(s / p.profile[0]!.seconds - 1) < 1e-3)).toBe(true);  // seeded (float32 storage)
    }
    expect(inherited.filter((q) => q.upstream.includes('127.0.0.2')).map((q) => q.profile)).toEqual([prior, prior]);
    paused = false;
    answer = ['127.0.0.2'];
    await until('first replica removed', () => rt.stats().models[0]?.instances.length === 2 && rt.upstreamStatus().length === 1);
    expect(rt.upstreamStatus()[0]!.url).toBe(`http://127.0.0.2:${port}`);
    await until('traffic on the new set', () => statuses.length > 10);
    stop = true;
    await load;
    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // A failed lookup keeps the current replicas.
    resolverDown = true;
    await sleep(500);
    expect(rt.upstreamStatus().length).toBe(1);
  }, 120_000);
});

describe('serval route follows model rollouts', () => {
  const repo = tempRepository(['fraud_mlp']);
  let replica: ServalProcess | undefined;
  let router: { runtime: ClusterRuntime; server: RunningServer } | undefined;

  afterAll(async () => {
    await router?.server.close();
    await replica?.stop();
  });

  it('a new version on the replicas replaces the served one, failing no request', async () => {
    replica = await startServal(['--model-repository', repo, '--grpc-port', 'off', '--model-control-mode', 'poll', '--repository-poll-secs', '0.3']);
    router = await openRouter({ upstream: [replica.url], modelRefreshSecs: '0.3' });
    const infer = () => call(router!.server.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.2));
    expect((await infer()).json.model_version).toBe('1');
    let stop = false;
    const statuses: number[] = [];
    const load = (async () => { while (!stop) statuses.push((await infer()).status); })();
    cpSync(join(repo, 'fraud_mlp', '1'), join(repo, 'fraud_mlp', '2'), { recursive: true });
    await until('version 2 at the router', async () => (await call(router!.server.url, 'GET', '/v2/models/fraud_mlp')).json.versions[0] === '2', 60_000);
    stop = true;
    await load;
    expect((await infer()).json.model_version).toBe('2');
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  }, 120_000);
});

describe('serval route --forward-on main', () => {
  const repo = tempRepository(['fraud_mlp', 'slow_identity']);
  let replica: ServalProcess | undefined;
  let router: { runtime: ClusterRuntime; server: RunningServer } | undefined;

  afterAll(async () => {
    await router?.server.close();
    await replica?.stop();
  });

  it('answers as the replica does, batching with max_queue_delay and under concurrency, with no forwarder thread', async () => {
    replica = await startServal(['--model-repository', repo, '--grpc-port', 'off']);
    router = await openRouter({ upstream: [replica.url], forwardOn: 'main', grpcPort: '0' });
    const url = router.server.url;
    const routed = await call(url, 'POST', '/v2/models/fraud_mlp/infer', body(0.75));
    expect(routed.json.outputs).toEqual((await call(replica.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.75))).json.outputs);
    // The router's v2 gRPC API serves the same model.
    const grpc = inferenceClient(`127.0.0.1:${router.server.grpcPort}`);
    try {
      const res = await grpc.call('ModelInfer', {
        model_name: 'fraud_mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 128] }],
        raw_input_contents: [Buffer.from(new Float32Array(128).fill(0.75).buffer)],
      }, { deadlineMs: 20_000 });
      const bytes = Uint8Array.from(res['raw_output_contents'][0]);
      expect(Array.from(new Float32Array(bytes.buffer))).toEqual(routed.json.outputs[0].data);
    } finally {
      grpc.close();
    }
    // slow_identity waits up to 2 ms (max_queue_delay) for a batch: the main thread must look again when it passes.
    const meta = (await call(url, 'GET', '/v2/models/slow_identity')).json;
    const input = meta.inputs[0];
    const shape = input.shape.map((d: number) => (d < 0 ? 1 : d));
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    const one = async (k: number) => call(url, 'POST', '/v2/models/slow_identity/infer',
      { inputs: [{ name: input.name, datatype: input.datatype, shape, data: new Array(n).fill(k) }] });
    expect((await one(3)).json.outputs[0].data[0]).toBe(3);
    const many = await Promise.all(Array.from({ length: 24 }, (_, k) => one(k)));
    many.forEach((r, k) => {
      expect(r.status).toBe(200);
      expect(r.json.outputs[0].data[0]).toBe(k);
    });
    const s = router.runtime.stats().models.find((m) => m.name === 'slow_identity')!;
    expect(s.executionCount).toBeLessThan(s.success);  // requests were batched
  }, 120_000);
});

describe('serval route --upstream-grpc-port', () => {
  const repo = tempRepository(['fraud_mlp', 'tabular_mixed']);
  let replica: ServalProcess | undefined;
  let router: { runtime: ClusterRuntime; server: RunningServer } | undefined;

  afterAll(async () => {
    await router?.server.close();
    await replica?.stop();
  });

  it("sends batches over the replicas' v2 gRPC API with the same answers as HTTP", async () => {
    replica = await startServal(['--model-repository', repo]);
    const grpcPort = /gRPC listening on [^:\s]+:(\d+)/.exec(replica.output())![1]!;
    router = await openRouter({ upstream: [replica.url], upstreamGrpcPort: grpcPort });
    const grpcCalls = async () => {
      const text = (await call(replica!.url, 'GET', '/metrics')).raw.toString();
      return Number(/serval_grpc_requests_total\{method="ModelInfer",code="OK"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const before = await grpcCalls();
    const routed = await call(router.server.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.4));
    expect(routed.json.outputs).toEqual((await call(replica.url, 'POST', '/v2/models/fraud_mlp/infer', body(0.4))).json.outputs);
    const mixed = {
      inputs: [
        { name: 'ids', datatype: 'INT64', shape: [1, 4], data: [1, 2, 3, 9007199254740993] },
        { name: 'flags', datatype: 'BOOL', shape: [1, 4], data: [false, true, false, false] },
        { name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['grüß'] },
      ],
    };
    const a = await call(router.server.url, 'POST', '/v2/models/tabular_mixed/infer', mixed);
    const b = await call(replica.url, 'POST', '/v2/models/tabular_mixed/infer', mixed);
    expect(a.status).toBe(200);
    expect(a.raw.equals(b.raw)).toBe(true);
    expect(await grpcCalls()).toBe(before + 2);
  }, 120_000);
});
