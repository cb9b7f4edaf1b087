/**
 * The benchmark harness's error grammar: every error a user can cause (a bad flag, an unknown model, a target
 * that does not answer, a malformed trace) is a `BenchError` with a stable `code`. The CLI prints its message
 * without a stack and exits with `exitCodeFor(code)`.
 */

export type BenchErrorCode =
  /** A flag or argument is malformed (range syntax, unknown arrival process, bad number). */
  | 'INVALID_ARGUMENT'
  /** A trace or input-data file cannot be read or parsed; the message names file and line. */
  | 'INVALID_FILE'
  /** The model is not served by the target. */
  | 'UNKNOWN_MODEL'
  /** The target cannot be reached (connection refused, DNS, runtime not built). */
  | 'TARGET_UNAVAILABLE'
  /** The target answered, but not as an Open Inference Protocol v2 server would. */
  | 'TARGET_ERROR'
  /** A trial's child process failed. */
  | 'TRIAL_FAILED';

export class BenchError extends Error {
  readonly code: BenchErrorCode;
  constructor(code: BenchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BenchError';
    this.code = code;
  }
}

export function invalidArgument(message: string): BenchError {
  return new BenchError('INVALID_ARGUMENT', message);
}

/** Usage errors exit with 2 (like commander), everything else with 1. */
export function exitCodeFor(code: string): number {
  return code === 'INVALID_ARGUMENT' || code === 'INVALID_FILE' ? 2 : 1;
}
