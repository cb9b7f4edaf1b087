/**
 * The standard gRPC health service (grpc.health.v1.Health/Check) that Kubernetes gRPC probes call:
 * SERVING while ready, NOT_SERVING when not, NOT_FOUND for an unknown service, no token needed.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerAuth } from '../src/server/auth.js';
import { healthClientConstructor } from '../src/server/grpc/proto.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';
import { rejected } from './helpers/caught.js';

describe('gRPC health checking', () => {
  let server: RunningServer;
  let fake: FakeRuntime;
  let client: grpc.Client & Record<string, (...args: unknown[]) => void>;
  const check = (service: string) =>
    new Promise<{ status: string }>((resolve, reject) =>
      client['Check']!({ service }, (err: grpc.ServiceError | null, res: { status: string }) => (err ? reject(err) : resolve(res))),
    );

  beforeAll(async () => {
    fake = new FakeRuntime();
    server = await startServer({ runtime: fake, port: 0, grpcPort: 0, transport: 'node', auth: new BearerAuth('token') });
    const Client = healthClientConstructor();
    client = new Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure()) as typeof client;
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('SERVING for the server and the inference service, without a token', async () => {
    expect(await check('')).toEqual({ status: 'SERVING' });
    expect(await check('inference.GRPCInferenceService')).toEqual({ status: 'SERVING' });
  });

  it('NOT_SERVING while the runtime is not ready', async () => {
    const ready = fake.isReady.bind(fake);
    fake.isReady = () => false;
    try {
      expect(await check('')).toEqual({ status: 'NOT_SERVING' });
    } finally {
      fake.isReady = ready;
    }
  });

  it('bad input: an unknown service is NOT_FOUND', async () => {
    expect((await rejected(check('no.such.Service'))).code).toBe(grpc.status.NOT_FOUND);
  });
});
