/**
 * The harness's view of request-arrival traces (the parser lives in src/util/trace.ts, which
 * `serval train-policy` shares): malformed traces are BenchErrors with code INVALID_FILE, and the
 * `--time-unit` flag is parsed here.
 */
import { ServalError } from '../src/errors.js';
import * as traces from '../src/util/trace.js';
import { BenchError, invalidArgument } from './errors.js';

export { parseTimestamp, type Trace, type TraceOptions, type TimeUnit } from '../src/util/trace.js';

export function parseTraceCsv(text: string, options: traces.TraceOptions): traces.Trace {
  return asBenchError(() => traces.parseTraceCsv(text, options));
}

export async function loadTrace(file: string, options: Omit<traces.TraceOptions, 'source'>): Promise<traces.Trace> {
  return asBenchError(() => traces.loadTrace(file, options));
}

export function parseTimeUnit(text: string): traces.TimeUnit {
  if (text !== 's' && text !== 'ms') throw invalidArgument(`--time-unit must be 's' or 'ms', got '${text}'`);
  return text;
}

/** A trace the parser rejects is a file error to the harness (exit code 2, like a bad flag). */
function asBenchError<T>(fn: () => T): T {
  const convert = (err: unknown): never => {
    if (err instanceof ServalError) throw new BenchError('INVALID_FILE', err.message, { cause: err });
    throw err;
  };
  try {
    const out = fn();
    return (out instanceof Promise ? out.catch(convert) : out) as T;
  } catch (err) {
    return convert(err);
  }
}
