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
