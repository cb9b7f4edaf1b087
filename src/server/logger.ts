/**
 * A small structured logger for `serval serve`: one line per event on stdout, either human-readable
 * (`pretty`) or one JSON object per line (`json`, for log shippers).
 */

export type LogFormat = 'pretty' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  /** @default 'pretty' */
  format?: LogFormat;
  /** Events below this level are dropped. @default 'info' */
  level?: LogLevel;
  /** Where lines go. @default process.stdout.write */
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'pretty';
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    const time = new Date().toISOString();
    if (format === 'json') {
      write(`${JSON.stringify({ level, time, msg, ...fields }, jsonSafe)}\n`);
      return;
    }
    const extra = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${prettyValue(v)}`).join('') : '';
    write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra}\n`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  return value;
}

function prettyValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v, jsonSafe) ?? String(v);
}
