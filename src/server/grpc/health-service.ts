/**
 * `grpc.health.v1.Health/Check`, the standard gRPC health checking protocol that Kubernetes gRPC probes
 * call: SERVING while the server is ready (the answer ServerReady gives: models loaded, not draining),
 * NOT_SERVING otherwise. The whole server ("") and `inference.GRPCInferenceService` are known services;
 * any other name is NOT_FOUND, as the protocol specifies. Needs no token, like the HTTP health probes.
 */
import * as grpc from '@grpc/grpc-js';
import type { ServingRuntime } from '../serving-runtime.js';
import { SERVICE_NAME } from './proto.js';

export interface HealthContext {
  runtime: Pick<ServingRuntime, 'isReady'>;
  isDraining(): boolean;
}

const KNOWN = new Set(['', SERVICE_NAME]);

export function createHealthService(ctx: HealthContext): grpc.UntypedServiceImplementation {
  return {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const service = call.request.service;
      if (!KNOWN.has(service)) {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${JSON.stringify(service)}` });
        return;
      }
      callback(null, { status: !ctx.isDraining() && ctx.runtime.isReady() ? 'SERVING' : 'NOT_SERVING' });
    },
  };
}
