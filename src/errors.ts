/**
 * serval's error grammar: every error a caller can branch on is a `ServalError` with a stable `code`.
 * The HTTP server maps codes to status codes through `httpStatusFor` (one table, Triton's choices).
 */

export type ServalErrorCode =
  | 'UNKNOWN_MODEL'
  | 'INVALID_INPUT'
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'QUEUE_FULL'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'CLOSED'
  | 'MODEL_UNAVAILABLE'
  | 'EXECUTION_FAILED'
  | 'SHED'
  | 'INTERNAL';

export class ServalError extends Error {
  readonly code: ServalErrorCode;
  constructor(code: ServalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServalError';
    this.code = code;
  }
}

/** The model (or version) is not in the repository or not loaded. */
export class UnknownModelError extends ServalError {
  constructor(message: string) { super('UNKNOWN_MODEL', message); this.name = 'UnknownModelError'; }
}

/** A request's tensors do not match the model: the message names the input, dtype or shape. */
export class InvalidInputError extends ServalError {
  constructor(message: string) { super('INVALID_INPUT', message); this.name = 'InvalidInputError'; }
}

/** An option passed to a serval API is malformed. */
export class InvalidArgumentError extends ServalError {
  constructor(message: string) { super('INVALID_ARGUMENT', message); this.name = 'InvalidArgumentError'; }
}

/** A config.pbtxt or model file is invalid; the message names file, line and field. */
export class InvalidConfigError extends ServalError {
  constructor(message: string) { super('INVALID_CONFIG', message); this.name = 'InvalidConfigError'; }
}

/** The instance's queue for this priority level is at `max_queue_size`. */
export class QueueFullError extends ServalError {
  constructor(message: string) { super('QUEUE_FULL', message); this.name = 'QueueFullError'; }
}

/** The request's queue deadline passed before it was scheduled. */
export class TimeoutError extends ServalError {
  constructor(message: string) { super('TIMEOUT', message); this.name = 'TimeoutError'; }
}

/** The caller's AbortSignal fired before the request was scheduled. */
export class CancelledError extends ServalError {
  constructor(message: string) { super('CANCELLED', message); this.name = 'CancelledError'; }
}

/** The runtime (or model) is closing or closed. */
export class ClosedError extends ServalError {
  constructor(message: string) { super('CLOSED', message); this.name = 'ClosedError'; }
}

/** The model exists but is not ready (loading, failed to load, unloading). */
export class ModelUnavailableError extends ServalError {
  constructor(message: string) { super('MODEL_UNAVAILABLE', message); this.name = 'ModelUnavailableError'; }
}

/** ONNX Runtime failed, or the executor thread died while running the request's batch. */
export class ExecutionFailedError extends ServalError {
  constructor(message: string) { super('EXECUTION_FAILED', message); this.name = 'ExecutionFailedError'; }
}

/**
 * Admission control refused the request: it could not be answered within its deadline, or the model is
 * overloaded. Sent at once, never after waiting in a queue (except a request that became late while
 * queued). Retry later or elsewhere; HTTP 429 with a Retry-After header.
 */
export class ShedError extends ServalError {
  constructor(message: string) { super('SHED', message); this.name = 'ShedError'; }
}

const CLASSES: Record<ServalErrorCode, new (message: string) => ServalError> = {
  UNKNOWN_MODEL: UnknownModelError,
  INVALID_INPUT: InvalidInputError,
  INVALID_ARGUMENT: InvalidArgumentError,
  INVALID_CONFIG: InvalidConfigError,
  QUEUE_FULL: QueueFullError,
  TIMEOUT: TimeoutError,
  CANCELLED: CancelledError,
  CLOSED: ClosedError,
  MODEL_UNAVAILABLE: ModelUnavailableError,
  EXECUTION_FAILED: ExecutionFailedError,
  SHED: ShedError,
  INTERNAL: class InternalError extends ServalError {
    constructor(message: string) { super('INTERNAL', message); this.name = 'InternalError'; }
  },
};

/** Builds the subclass for `code` (used where the native core reports a status code). */
export function errorFromCode(code: ServalErrorCode, message: string): ServalError {
  const Cls = CLASSES[code] ?? CLASSES.INTERNAL;
  return new Cls(message);
}

const HTTP_STATUS: Record<ServalErrorCode, number> = {
  UNKNOWN_MODEL: 404,
  INVALID_INPUT: 400,
  INVALID_ARGUMENT: 400,
  INVALID_CONFIG: 400,
  QUEUE_FULL: 503,
  TIMEOUT: 503,
  CANCELLED: 499,
  CLOSED: 503,
  MODEL_UNAVAILABLE: 503,
  EXECUTION_FAILED: 500,
  SHED: 429,
  INTERNAL: 500,
};

/** The HTTP status serval serve answers with for an error code (Triton's choices where Triton has one). */
export function httpStatusFor(code: ServalErrorCode): number {
  return HTTP_STATUS[code] ?? 500;
}

/**
 * `message` with the absolute model repository path(s) in it made repository-relative, for text sent to
 * clients: onnxruntime and the config parser name files by absolute path, and a server's directory layout
 * is not a client's business. `/srv/models/fraud/1/model.onnx` → `fraud/1/model.onnx`.
 */
export function redactPaths(message: string, roots: readonly string[]): string {
  let out = message;
  // Longest first: one root may contain another (`/private/tmp/m` and `/tmp/m` on macOS).
  for (const root of [...roots].sort((a, b) => b.length - a.length)) {
    if (root.length <= 1) continue;
    const base = root.endsWith('/') || root.endsWith('\\') ? root.slice(0, -1) : root;
    // A path under the root loses the root and its separator; the root on its own is named.
    const pattern = new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:[/\\\\](?=[^\\s/\\\\]))?`, 'g');
    out = out.replace(pattern, (m) => (m.length > base.length ? '' : '<model repository>'));
  }
  return out;
}
