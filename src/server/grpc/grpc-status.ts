/**
 * How serval errors become gRPC statuses: one table from `ServalError.code` to `grpc.status`. A code
 * missing from the table (one added to serval later) takes the status that matches its HTTP status, so
 * it is never answered as OK or as an unexplained UNKNOWN.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { httpStatusFor, ServalError, type ServalErrorCode } from '../../errors.js';

const GRPC_STATUS: Partial<Record<ServalErrorCode, status>> = {
  UNKNOWN_MODEL: status.NOT_FOUND,
  INVALID_INPUT: status.INVALID_ARGUMENT,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  INVALID_CONFIG: status.INVALID_ARGUMENT,
  QUEUE_FULL: status.RESOURCE_EXHAUSTED,
  TIMEOUT: status.DEADLINE_EXCEEDED,
  CANCELLED: status.CANCELLED,
  CLOSED: status.UNAVAILABLE,
  MODEL_UNAVAILABLE: status.UNAVAILABLE,
  EXECUTION_FAILED: status.INTERNAL,
  // Admission shed it: the server is out of capacity for this deadline; the client may retry (gRPC's own
  // choice for load shedding).
  SHED: status.RESOURCE_EXHAUSTED,
  INTERNAL: status.INTERNAL,
};

const BY_HTTP_STATUS: Record<number, status> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  409: status.FAILED_PRECONDITION,
  429: status.RESOURCE_EXHAUSTED,
  499: status.CANCELLED,
  501: status.UNIMPLEMENTED,
  503: status.UNAVAILABLE,
  504: status.DEADLINE_EXCEEDED,
};

/** The gRPC status for a serval error code. */
export function grpcStatusFor(code: ServalErrorCode): status {
  return GRPC_STATUS[code] ?? BY_HTTP_STATUS[httpStatusFor(code)] ?? status.INTERNAL;
}

/** A status carried through the handlers when the answer is not a ServalError (auth, model control mode). */
export class GrpcStatusError extends Error {
  constructor(readonly status: status, message: string) {
    super(message);
    this.name = 'GrpcStatusError';
  }
}

/** What a handler's failure is sent as: a ServalError by its code, anything else INTERNAL. */
export function toServiceError(err: unknown): Partial<ServiceError> & { code: status; details: string } {
  if (err instanceof GrpcStatusError) return { code: err.status, details: err.message };
  if (err instanceof ServalError) return { code: grpcStatusFor(err.code), details: err.message };
  return { code: status.INTERNAL, details: `internal error: ${(err as Error)?.message ?? String(err)}` };
}
