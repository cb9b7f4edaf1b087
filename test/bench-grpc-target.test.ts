/**
 * `serval bench --protocol grpc`: the gRPC target against a served fake runtime (metadata, model list,
 * prepared ModelInfer calls, server counters, failure codes) and one short run through the CLI.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBenchCli } from '../bench/cli.js';
import { GrpcTarget } from '../bench/targets/grpc.js';
import { GrpcH2Channel, hasField } from '../bench/targets/grpc-h2.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';
import { rejected } from './helpers/caught.js';

function sink(): Writable & { text: string } {
  const w = new Writable({ write(chunk, _enc, cb) { w.text += String(chunk); cb(); } }) as Writable & { text: string };
  w.text = '';
  return w;
}

describe('bench gRPC target', () => {
  let server: RunningServer;
  let address: string;

  beforeAll(async () => {
    server = await startServer({ runtime: new FakeRuntime(), port: 0, grpcPort: 0, transport: 'node' });
    address = `127.0.0.1:${server.grpcPort}`;
  });
  afterAll(() => server?.close());

  it('metadata, model list, calls and server counters', async () => {
    const target = new GrpcTarget({ url: `grpc://${address}` });
    try {
      expect(await target.listModels()).toEqual(expect.arrayContaining(['scorer', 'echo']));
      expect(await target.metadata('scorer')).toEqual({
        name: 'scorer',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [{ name: 'probability', datatype: 'FP32', shape: [-1, 1] }],
      });
      const send = await target.prepare('scorer', [[{ name: 'input', datatype: 'FP32', shape: [1, 4], data: Float32Array.of(1, 2, 3, 4) }]]);
      for (let i = 0; i < 3; i++) await send();
      const counters = await target.serverCounters(['scorer']);
      expect(counters?.computeCount).toBe(3);
      expect(counters?.queueCount).toBe(3);
    } finally {
      await target.close();
    }
  });

  it('bad input: an unknown model is UNKNOWN_MODEL; a failed call carries GRPC_<STATUS>', async () => {
    const target = new GrpcTarget({ url: address });
    try {
      expect((await rejected(target.metadata('nope'))).code).toBe('UNKNOWN_MODEL');
      const send = await target.prepare('failing', [[{ name: 'code', datatype: 'BYTES', shape: [1], data: ['QUEUE_FULL'] }]]);
      expect((await rejected(send())).code).toBe('GRPC_RESOURCE_EXHAUSTED');
    } finally {
      await target.close();
    }
  });

  it('timed calls: a client deadline is GRPC_DEADLINE_EXCEEDED, an unreachable server GRPC_UNAVAILABLE', async () => {
    const slow = new GrpcTarget({ url: address, requestTimeoutMs: 100 });
    const send = await slow.prepare('slow', [[{ name: 'x', datatype: 'INT32', shape: [1], data: Int32Array.of(1) }]]);
    expect((await rejected(send())).code).toBe('GRPC_DEADLINE_EXCEEDED');
    await slow.close();
    const channel = new GrpcH2Channel('127.0.0.1:1');
    expect((await rejected(channel.unary('/inference.GRPCInferenceService/ModelInfer', Buffer.alloc(5), 1000)) as unknown as { status: number }).status).toBe(14);
    channel.close();
  });

  it('hasField: top-level fields of a serialized message, false on truncated input', () => {
    // field 1 string "ab", field 5 length-delimited (empty), field 2 varint 300, field 3 fixed32.
    const msg = Uint8Array.of(0x0a, 2, 0x61, 0x62, 0x2a, 0, 0x10, 0xac, 0x02, 0x1d, 1, 2, 3, 4);
    expect([1, 2, 3, 5].map((f) => hasField(msg, f))).toEqual([true, true, true, true]);
    expect(hasField(msg, 4)).toBe(false);
    expect(hasField(Uint8Array.of(0x0a, 5, 0x61), 5)).toBe(false);
    expect(hasField(Uint8Array.of(0x10, 0xff), 5)).toBe(false);
  });

  it('bad input: an unreachable server is TARGET_UNAVAILABLE', async () => {
    const target = new GrpcTarget({ url: '127.0.0.1:1' });
    expect((await rejected(target.listModels())).code).toBe('TARGET_UNAVAILABLE');
    await target.close();
  });

  it('serval bench --protocol grpc runs a short closed-loop step', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'serval-bench-grpc-')), 'r.json');
    const stdout = sink();
    const stderr = sink();
    const code = await runBenchCli(
      ['--url', `grpc://${address}`, '--protocol', 'grpc', '--model', 'scorer', '--concurrency-range', '2', '--duration', '1', '--measurement-interval-ms', '250', '--json', json, '--quiet'],
      { stdout, stderr: stderr as unknown as NodeJS.WriteStream },
    );
    expect(code, stderr.text).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { steps: Array<{ ok: number; failed: number; series: string }> };
    expect(report.steps[0]!.ok).toBeGreaterThan(10);
    expect(report.steps[0]!.failed).toBe(0);
    expect(report.steps[0]!.series).toMatch(/grpc/);
  });
});
