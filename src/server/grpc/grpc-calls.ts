/**
 * What every gRPC handler of serval shares: the service context, bearer auth from the `authorization`
 * metadata, cancellation as an AbortSignal, and turning a failure into the status sent (logged when it is
 * a fault rather than load shedding).
 */
import * as grpc from '@grpc/grpc-js';
import type { BearerAuth } from '../auth.js';
import type { Logger } from '../logger.js';
import type { ModelControlMode } from '../routes.js';
import type { ServingRuntime } from '../serving-runtime.js';
import { GrpcStatusError, toServiceError } from './grpc-status.js';

export interface GrpcServiceContext {
  runtime: ServingRuntime;
  logger: Logger;
  modelControlMode: ModelControlMode;
  /** Absent: no authentication. */
  auth?: BearerAuth;
  serverVersion: string;
  /** True once shutdown began: ServerReady answers false. */
  isDraining(): boolean;
  /** Last inference time (ms since the epoch) by `name/version`, shared with the HTTP routes. */
  lastInference: Map<string, number>;
  /** Counts each answered request by method and status name (`serval_grpc_requests_total`). */
  metrics?: { countGrpcRequest(method: string, code: string): void };
}

/** Throws UNAUTHENTICATED unless the call's metadata carries the bearer token (when auth is on). */
export function authenticate(ctx: GrpcServiceContext, metadata: grpc.Metadata): void {
  if (!ctx.auth) return;
  const value = metadata.get('authorization')[0];
  if (!ctx.auth.accepts(typeof value === 'string' ? value : undefined)) {
    throw new GrpcStatusError(grpc.status.UNAUTHENTICATED, 'missing or wrong bearer token (metadata "authorization: Bearer <token>")');
  }
}

export interface CancellableCall {
  cancelled: boolean;
  on(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

/**
 * An AbortSignal that fires when the client cancels the call or its deadline passes; `detach` once the
 * answer is known (grpc-js also reports a call that ended normally as cancelled when its stream closes).
 */
export function abortOnCancel(call: CancellableCall): { signal: AbortSignal; detach(): void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (call.cancelled) abort();
  else call.on('cancelled', abort);
  return { signal: controller.signal, detach: () => call.removeListener('cancelled', abort) };
}

/** The status a failed call is answered with; faults (INTERNAL) are logged. */
export function failure(ctx: GrpcServiceContext, method: string, err: unknown): grpc.ServiceError & { details: string } {
  const e = toServiceError(err);
  // UNAVAILABLE, RESOURCE_EXHAUSTED and DEADLINE_EXCEEDED are load shedding, not faults.
  if (e.code === grpc.status.INTERNAL || e.code === grpc.status.UNKNOWN) ctx.logger.warn('gRPC request failed', { method, err });
  return Object.assign(new Error(e.details), { code: e.code, details: e.details, metadata: new grpc.Metadata() });
}
