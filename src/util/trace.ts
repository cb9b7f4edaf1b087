/**
 * Request-arrival traces (for `serval train-policy` and the benchmark harness): a CSV with a header row and
 * one arrival per row. The time column holds either a
 * timestamp (`2023-11-16 18:17:03.9799600`, ISO `T` and a trailing `Z` accepted; read as UTC) or a number in
 * seconds or milliseconds (`--time-unit`). Times come back in seconds relative to the earliest arrival, sorted.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../errors.js';

/** The Azure LLM "code" trace shipped in bench/traces (CC-BY 4.0; Patel et al., "Splitwise", ISCA 2024; see its README). */
export const CODE_TRACE = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../bench/traces/azure_llm_2023_code.csv' : '../../../bench/traces/azure_llm_2023_code.csv', import.meta.url));

export type TimeUnit = 's' | 'ms';

export interface TraceOptions {
  /** Name of the time column in the header row. */
  column: string;
  /** Unit of a numeric time column. @default 's' */
  unit?: TimeUnit;
  /** File name for error messages. */
  source?: string;
}

export interface Trace {
  /** Arrival times in seconds since the first arrival, ascending. */
  times: number[];
  /** Span from first to last arrival, in seconds. */
  spanSeconds: number;
  /** Mean arrival rate over the span (requests per second). */
  meanRate: number;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$/;

/** Seconds since the Unix epoch (UTC) for a timestamp cell, or undefined when the cell is not one. */
export function parseTimestamp(cell: string): number | undefined {
  const m = TIMESTAMP.exec(cell);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m;
  const whole = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(whole)) return undefined;
  return whole / 1000 + (frac ? Number(`0.${frac}`) : 0);
}

/** @throws InvalidArgumentError naming the file (and line) when the trace is malformed. */
export function parseTraceCsv(text: string, options: TraceOptions): Trace {
  const source = options.source ?? 'trace';
  const scale = (options.unit ?? 's') === 'ms' ? 1e-3 : 1;
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '');
  const col = header.indexOf(options.column);
  if (col < 0) {
    throw new InvalidArgumentError(`${source}: no column '${options.column}' in the header (columns: ${header.join(', ') || 'none'})`);
  }
  const raw: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const cell = splitCsvLine(lines[i])[col];
    if (cell === undefined) throw new InvalidArgumentError(`${source}:${i + 1}: the row has no '${options.column}' column`);
    const stamp = parseTimestamp(cell);
    const value = stamp ?? (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(cell) ? Number(cell) * scale : NaN);
    if (!Number.isFinite(value)) {
      throw new InvalidArgumentError(`${source}:${i + 1}: '${cell}' is neither a timestamp (YYYY-MM-DD HH:MM:SS.fff) nor a number`);
    }
    raw.push(value);
  }
  if (raw.length < 2) throw new InvalidArgumentError(`${source}: a trace needs at least 2 arrivals, found ${raw.length}`);
  raw.sort((a, b) => a - b);
  const first = raw[0];
  const times = raw.map((t) => t - first);
  const spanSeconds = times[times.length - 1];
  if (!(spanSeconds > 0)) throw new InvalidArgumentError(`${source}: all arrivals have the same time`);
  return { times, spanSeconds, meanRate: (times.length - 1) / spanSeconds };
}

export async function loadTrace(file: string, options: Omit<TraceOptions, 'source'>): Promise<Trace> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read trace ${file}: ${(err as Error).message}`);
  }
  return parseTraceCsv(text, { ...options, source: file });
}

/** Splits one CSV row; double-quoted cells may contain commas (`""` is a literal quote). */
function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',').map((c) => c.trim());
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { cells.push(cur.trim()); cur = ''; }
    else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}
