/**
 * gRPC bearer auth (metadata `authorization`) and explicit model control: ServerLive and ServerReady stay
 * open like the HTTP health probes, everything else needs the token; load/unload need explicit mode.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerAuth } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';
import { bearer, inferenceClient, type InferenceClient } from './fixtures/grpc-client.js';
import { rejected } from './helpers/caught.js';

const TOKEN = 's3cret-token';

describe('gRPC bearer auth and explicit model control', () => {
  let server: RunningServer;
  let fake: FakeRuntime;
  let client: InferenceClient;

  beforeAll(async () => {
    fake = new FakeRuntime();
    server = await startServer({ runtime: fake, port: 0, grpcPort: 0, auth: new BearerAuth(TOKEN), modelControlMode: 'explicit', transport: 'node' });
    client = inferenceClient(`127.0.0.1:${server.grpcPort}`);
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('ServerLive and ServerReady need no token', async () => {
    expect(await client.call('ServerLive')).toEqual({ live: true });
    expect(await client.call('ServerReady')).toEqual({ ready: true });
  });

  it.each(['ServerMetadata', 'ModelMetadata', 'ModelReady', 'ModelConfig', 'ModelStatistics', 'RepositoryIndex', 'ModelInfer', 'RepositoryModelLoad'])(
    'bad input: %s without a token, or with a wrong one, is UNAUTHENTICATED',
    async (method) => {
      const request = { name: 'scorer', model_name: 'scorer' };
      expect((await rejected(client.call(method, request))).code).toBe(status.UNAUTHENTICATED);
      expect((await rejected(client.call(method, request, { token: 'wrong' }))).code).toBe(status.UNAUTHENTICATED);
    },
  );

  it('the token opens the API', async () => {
    expect((await client.call('ModelMetadata', { name: 'scorer' }, { token: TOKEN }))['name']).toBe('scorer');
  });

  it('bad input: ModelStreamInfer without the token ends UNAUTHENTICATED', async () => {
    const stream = client.raw['ModelStreamInfer']!() as NodeJS.ReadWriteStream;
    const code = await new Promise<number>((resolve) => stream.on('error', (e: { code: number }) => resolve(e.code)));
    expect(code).toBe(status.UNAUTHENTICATED);
    const ok = client.raw['ModelStreamInfer']!(bearer(TOKEN)) as NodeJS.ReadWriteStream & { on(e: 'status', l: (s: { code: number }) => void): void };
    const ended = new Promise<number>((resolve) => ok.on('status', (s) => resolve(s.code)));
    ok.end();
    expect(await ended).toBe(status.OK);
  });

  it('explicit mode: load and unload with the token; unsupported load parameters are INVALID_ARGUMENT', async () => {
    await client.call('RepositoryModelLoad', { model_name: 'extra' }, { token: TOKEN });
    expect(fake.calls).toContain('load extra');
    await client.call('RepositoryModelUnload', { model_name: 'extra' }, { token: TOKEN });
    expect(fake.calls).toContain('unload extra');
    const bad = await rejected(client.call('RepositoryModelLoad', { model_name: 'extra', parameters: { config: { string_param: '{}' } } }, { token: TOKEN }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    const broken = await rejected(client.call('RepositoryModelLoad', { model_name: 'broken' }, { token: TOKEN }));
    expect(broken.code).toBe(status.INVALID_ARGUMENT);
  });
});
