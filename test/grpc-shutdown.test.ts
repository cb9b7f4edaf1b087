/**
 * gRPC at shutdown: a drain answers the calls in progress, then refuses new ones; `close()` frees the
 * port; a port in use fails startup with a clear error and leaves nothing running.
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { startServer } from '../src/server/server.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';
import { inferenceClient, type Message } from './fixtures/grpc-client.js';
import { rejected } from './helpers/caught.js';

const slowRequest = { model_name: 'slow', inputs: [{ name: 'x', datatype: 'INT32', shape: [1], contents: { int_contents: [7] } }] };

describe('gRPC shutdown', () => {
  it('drain: the call in flight is answered, ServerReady was true before, new calls are refused', async () => {
    const fake = new FakeRuntime();
    fake.slowMs = 300;
    const server = await startServer({ runtime: fake, port: 0, grpcPort: 0, transport: 'node' });
    const client = inferenceClient(`127.0.0.1:${server.grpcPort}`);
    expect(await client.call('ServerReady')).toEqual({ ready: true });
    const inflight = client.call('ModelInfer', slowRequest);
    await expect.poll(() => fake.lastOptions !== undefined).toBe(true);
    const drained = server.drain(5000);
    const answer = await inflight;
    expect(Buffer.from(answer['raw_output_contents'][0]).readInt32LE(0)).toBe(7);
    await drained;
    expect(fake.calls).toContain('close');
    const after = await rejected(client.call('ServerLive', {}, { deadlineMs: 2000 }));
    expect(after.code).toBe(status.UNAVAILABLE);
    client.close();
  });

  it('drain: an open ModelStreamInfer stream gets the answers it is owed, then ends OK; the drain does not wait for the client', async () => {
    const fake = new FakeRuntime();
    fake.slowMs = 200;
    const server = await startServer({ runtime: fake, port: 0, grpcPort: 0, transport: 'node' });
    const client = inferenceClient(`127.0.0.1:${server.grpcPort}`);
    const stream = client.raw['ModelStreamInfer']!() as NodeJS.ReadWriteStream & { on(e: 'status', l: (s: { code: number }) => void): void };
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<number>((resolve) => stream.on('status', (st) => resolve(st.code)));
    stream.write({ ...slowRequest, id: 'before' });
    await expect.poll(() => fake.lastOptions !== undefined).toBe(true);
    // The client never half-closes; a 20 s drain must still finish as soon as the stream's answer is sent.
    await server.drain(20_000);
    expect(await ended).toBe(status.OK);
    expect(answers.map((a) => [a['infer_response'].id, a['error_message']])).toEqual([['before', '']]);
    client.close();
  }, 10_000);

  it('close() frees the gRPC port for the next server', async () => {
    const first = await startServer({ runtime: new FakeRuntime(), port: 0, grpcPort: 0, transport: 'node' });
    const port = first.grpcPort!;
    await first.close();
    const second = await startServer({ runtime: new FakeRuntime(), port: 0, grpcPort: port, transport: 'node' });
    expect(second.grpcPort).toBe(port);
    const client = inferenceClient(`127.0.0.1:${port}`);
    expect(await client.call('ServerLive')).toEqual({ live: true });
    client.close();
    await second.close();
  });

  it('bad input: a gRPC port in use fails startup and closes the runtime', async () => {
    const holder = await startServer({ runtime: new FakeRuntime(), port: 0, grpcPort: 0, transport: 'node' });
    const fake = new FakeRuntime();
    await expect(startServer({ runtime: fake, port: 0, grpcPort: holder.grpcPort!, transport: 'node' })).rejects.toThrow(/cannot listen for gRPC on 127\.0\.0\.1:\d+/);
    expect(fake.calls).toContain('close');
    await holder.close();
  });
});
