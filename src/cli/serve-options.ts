/**
 * `serval serve` options: one table of flags, environment variables and config-file keys, and the
 * merge `flags > environment > --config file > defaults`. Every bad value is a `UsageError` that
 * names where it came from (flag, variable or file key); the CLI prints it and exits 2.
 */
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { loadAddon } from '../binding.js';
import type { ModelControlMode } from '../server/routes.js';
import type { LogFormat } from '../server/logger.js';
import { parseCacheConfig } from '../cache/cache-config.js';
import { MAX_REQUEST_ID_SPACES } from '../model/native-enqueue.js';
import { autoHttpThreads } from '../server/threaded-transport.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ServeConfig {
  modelRepository: string;
  httpPort: number;
  /** Absent: no gRPC listener (`--grpc-port off`). */
  grpcPort?: number;
  host: string;
  modelControlMode: ModelControlMode;
  loadModel: string[];
  repositoryPollSecs: number;
  /** Absent: the runtime's default policy. */
  policy?: string;
  /** Absent: the runtime's default admission policy (none). */
  admission?: string;
  maxBodyMb: number;
  authTokenFile?: string;
  logFormat: LogFormat;
  drainTimeoutSecs: number;
  shutdownGraceSecs: number;
  strictReadiness: boolean;
  maxJsonBodyMb: number;
  maxBufferedBodyMb: number;
  bodyTimeoutSecs: number;
  /** HTTP threads, the main thread included (`auto`: from the cores, src/server/threaded-transport.ts). */
  httpThreads: number;
  /** `--cache-config local,size=BYTES`: the response cache of models with `response_cache { enable: true }`. */
  cacheConfig?: { sizeBytes: number };
  /** Audit trail directory (absent: no trail), its overflow policy and checkpoint key file. */
  auditLog?: string;
  auditOverflow?: string;
  auditKeyFile?: string;
}

export type ServeKey = keyof ServeConfig;

interface OptionSpec {
  key: ServeKey | 'config';
  flags: string;
  env: string;
  help: string;
}

/** Flags in `--help` order; each also reads `env` and (except --config) the config-file key `key`. */
export const SERVE_OPTIONS: readonly OptionSpec[] = [
  { key: 'modelRepository', flags: '--model-repository <dir>', env: 'SERVAL_MODEL_REPOSITORY', help: 'Triton-layout model repository (required)' },
  { key: 'httpPort', flags: '--http-port <port>', env: 'SERVAL_HTTP_PORT', help: 'HTTP port; 0 picks a free one (default: 8000)' },
  { key: 'grpcPort', flags: '--grpc-port <port>', env: 'SERVAL_GRPC_PORT', help: 'v2 gRPC API port; 0 picks a free one, off disables gRPC (default: 8001)' },
  { key: 'httpThreads', flags: '--http-threads <n|auto>', env: 'SERVAL_HTTP_THREADS', help: 'HTTP threads on the port, the main one included; the others answer inference requests themselves (uWS only; default: auto = one per 4 cores, so 1 on up to 7 cores)' },
  { key: 'host', flags: '--host <address>', env: 'SERVAL_HOST', help: 'address to listen on (default: 127.0.0.1)' },
  { key: 'modelControlMode', flags: '--model-control-mode <mode>', env: 'SERVAL_MODEL_CONTROL_MODE', help: 'none | poll | explicit (default: none)' },
  { key: 'loadModel', flags: '--load-model <name>', env: 'SERVAL_LOAD_MODEL', help: 'model to load at start in explicit mode; repeatable, * = all (env var: comma-separated list)' },
  { key: 'repositoryPollSecs', flags: '--repository-poll-secs <n>', env: 'SERVAL_REPOSITORY_POLL_SECS', help: 'rescan interval in poll mode (default: 15)' },
  { key: 'policy', flags: '--policy <name>', env: 'SERVAL_POLICY', help: `placement policy: least_outstanding (default), ${policyNames('placement')}, learned:FILE` },
  { key: 'admission', flags: '--admission <name>', env: 'SERVAL_ADMISSION', help: `admission policy of models whose config sets no admission_policy: none (default), ${policyNames('admission')}` },
  { key: 'maxBodyMb', flags: '--max-body-mb <n>', env: 'SERVAL_MAX_BODY_MB', help: 'largest request body accepted, in MiB; larger ones get 413 (default: 64)' },
  { key: 'authTokenFile', flags: '--auth-token-file <file>', env: 'SERVAL_AUTH_TOKEN_FILE', help: 'require "Authorization: Bearer <token>" (token read from file) except on health and metrics' },
  { key: 'logFormat', flags: '--log-format <format>', env: 'SERVAL_LOG_FORMAT', help: 'pretty | json (default: pretty)' },
  { key: 'maxJsonBodyMb', flags: '--max-json-body-mb <n>', env: 'SERVAL_MAX_JSON_BODY_MB', help: 'largest JSON part of a request, in MiB (the whole body without Inference-Header-Content-Length); larger ones get 413 (default: 8)' },
  { key: 'maxBufferedBodyMb', flags: '--max-buffered-body-mb <n>', env: 'SERVAL_MAX_BUFFERED_BODY_MB', help: 'request-body bytes held by all connections at once, in MiB; a body past it gets 503 (default: 256)' },
  { key: 'bodyTimeoutSecs', flags: '--body-timeout-secs <n>', env: 'SERVAL_BODY_TIMEOUT_SECS', help: 'a request body must arrive in full within this time of its headers, else 408 and the connection closes (default: 10)' },
  { key: 'strictReadiness', flags: '--strict-readiness <bool>', env: 'SERVAL_STRICT_READINESS', help: 'true: /v2/health/ready is 200 only while every model asked for is ready; false: while the server is up (default: true)' },
  { key: 'shutdownGraceSecs', flags: '--shutdown-grace-secs <n>', env: 'SERVAL_SHUTDOWN_GRACE_SECS', help: 'on SIGTERM/SIGINT, how long to keep serving with readiness false before draining (default: 5)' },
  { key: 'drainTimeoutSecs', flags: '--drain-timeout-secs <n>', env: 'SERVAL_DRAIN_TIMEOUT_SECS', help: 'on SIGTERM/SIGINT, after the grace period, how long to wait for accepted requests (default: 30)' },
  { key: 'cacheConfig', flags: '--cache-config <spec>', env: 'SERVAL_CACHE_CONFIG', help: 'response cache for models with response_cache { enable: true }: local,size=BYTES (K/M/G suffix; default: no cache)' },
  { key: 'auditLog', flags: '--audit-log <dir>', env: 'SERVAL_AUDIT_LOG', help: 'keep a hash-chained audit record of every request in this directory (SQLite segments; serval audit verify DIR)' },
  { key: 'auditOverflow', flags: '--audit-overflow <policy>', env: 'SERVAL_AUDIT_OVERFLOW', help: 'when the audit writer falls behind: block | drop | fail-closed (default: block)' },
  { key: 'auditKeyFile', flags: '--audit-key-file <file>', env: 'SERVAL_AUDIT_KEY_FILE', help: 'sign audit checkpoints (HMAC-SHA256) with the key in this file' },
  { key: 'config', flags: '--config <file>', env: 'SERVAL_CONFIG', help: 'JSON file with any of the options above in camelCase (e.g. {"httpPort": 8000})' },
];

/** The registry's policies of one kind (native/core/policy_registry.cc), for the help text. */
function policyNames(kind: 'placement' | 'admission'): string {
  const skip = kind === 'placement' ? 'least_outstanding' : 'none';
  return loadAddon().buildInfo().policyTable.filter((p) => p.kind === kind && p.name !== skip).map((p) => p.name).join(', ');
}

const FILE_KEYS = new Set<string>(SERVE_OPTIONS.map((o) => o.key).filter((k) => k !== 'config'));

/** A value and where it came from, for error messages. */
export interface Sourced {
  value: unknown;
  from: string;
}

/**
 * Merges the layers. `cli` holds only the options given on the command line (commander's parsed
 * values, strings or string arrays); `env` is usually `process.env`.
 */
export function resolveServeConfig(cli: Partial<Record<ServeKey | 'config', unknown>>, env: NodeJS.ProcessEnv): ServeConfig {
  const configSrc = cli.config !== undefined
    ? { value: cli.config, from: '--config' }
    : env['SERVAL_CONFIG'] ? { value: env['SERVAL_CONFIG'], from: 'SERVAL_CONFIG' } : undefined;
  const configPath = configSrc ? str(configSrc) : undefined;
  const file = configPath ? readConfigFile(configPath) : {};
  const fileDir = configPath ? path.dirname(path.resolve(configPath)) : process.cwd();

  const get = (key: ServeKey): Sourced | undefined => {
    const spec = SERVE_OPTIONS.find((o) => o.key === key)!;
    if (cli[key] !== undefined) return { value: cli[key], from: spec.flags.split(' ')[0]! };
    const e = env[spec.env];
    if (e !== undefined && e !== '') return { value: e, from: spec.env };
    if (Object.hasOwn(file, key)) return { value: file[key], from: `${configPath}: "${key}"` };
    return undefined;
  };
  /** Paths from the config file are relative to the file; others to the working directory. */
  const pathOf = (key: ServeKey): string | undefined => {
    const src = get(key);
    if (!src) return undefined;
    return path.resolve(src.from.startsWith(`${configPath}:`) ? fileDir : process.cwd(), str(src));
  };

  const repoSrc = get('modelRepository');
  if (!repoSrc) {
    throw new UsageError('serve needs --model-repository DIR (or SERVAL_MODEL_REPOSITORY, or "modelRepository" in the config file)');
  }
  const modelRepository = pathOf('modelRepository')!;
  if (!isDirectory(modelRepository)) throw new UsageError(`${repoSrc.from}: ${modelRepository} is not a directory`);

  const cfg: ServeConfig = {
    modelRepository,
    httpPort: withDefault(get('httpPort'), 8000, (s) => int(s, 0, 65535)),
    host: withDefault(get('host'), '127.0.0.1', str),
    modelControlMode: withDefault(get('modelControlMode'), 'none', (s) => choice(s, ['none', 'poll', 'explicit'] as const)),
    loadModel: withDefault(get('loadModel'), [], list),
    repositoryPollSecs: withDefault(get('repositoryPollSecs'), 15, (s) => positive(s)),
    maxBodyMb: withDefault(get('maxBodyMb'), 64, (s) => positive(s)),
    logFormat: withDefault(get('logFormat'), 'pretty', (s) => choice(s, ['pretty', 'json'] as const)),
    drainTimeoutSecs: withDefault(get('drainTimeoutSecs'), 30, (s) => positive(s, true)),
    shutdownGraceSecs: withDefault(get('shutdownGraceSecs'), 5, (s) => positive(s, true)),
    strictReadiness: withDefault(get('strictReadiness'), true, bool),
    maxJsonBodyMb: withDefault(get('maxJsonBodyMb'), 8, (s) => positive(s)),
    maxBufferedBodyMb: withDefault(get('maxBufferedBodyMb'), 256, (s) => positive(s)),
    bodyTimeoutSecs: withDefault(get('bodyTimeoutSecs'), 10, (s) => positive(s)),
    httpThreads: withDefault(get('httpThreads'), autoHttpThreads(availableParallelism()), (s) =>
      s.value === 'auto' ? autoHttpThreads(availableParallelism()) : int(s, 1, MAX_REQUEST_ID_SPACES - 1)),
  };
  if (cfg.maxBufferedBodyMb < cfg.maxBodyMb) {
    throw new UsageError(
      `--max-buffered-body-mb (${cfg.maxBufferedBodyMb}) must be at least --max-body-mb (${cfg.maxBodyMb}): a body that size could never be read`,
    );
  }
  const grpcPort = withDefault(get('grpcPort'), 8001, (s) => (s.value === 'off' ? undefined : int(s, 0, 65535)));
  if (grpcPort !== undefined) cfg.grpcPort = grpcPort;
  const policy = get('policy');
  if (policy) cfg.policy = str(policy);
  const admission = get('admission');
  if (admission) cfg.admission = str(admission);
  const cache = get('cacheConfig');
  if (cache) {
    try {
      cfg.cacheConfig = parseCacheConfig(str(cache));
    } catch (err) {
      throw new UsageError(`${cache.from}: ${(err as Error).message}`);
    }
  }
  const auditLog = pathOf('auditLog');
  if (auditLog) cfg.auditLog = auditLog;
  const overflow = get('auditOverflow');
  if (overflow) cfg.auditOverflow = choice(overflow, ['block', 'drop', 'fail-closed'] as const);
  const keyFile = pathOf('auditKeyFile');
  if (keyFile) cfg.auditKeyFile = keyFile;
  const tokenFile = pathOf('authTokenFile');
  if (tokenFile) cfg.authTokenFile = tokenFile;
  return cfg;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`config file ${file} must hold a JSON object`);
  }
  const unknown = Object.keys(value).filter((k) => !FILE_KEYS.has(k));
  if (unknown.length > 0) {
    throw new UsageError(`config file ${file}: unknown option(s) ${unknown.join(', ')}; known: ${[...FILE_KEYS].join(', ')}`);
  }
  return value as Record<string, unknown>;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function withDefault<T>(src: Sourced | undefined, fallback: T, coerce: (s: Sourced) => T): T {
  return src === undefined ? fallback : coerce(src);
}

export function str(s: Sourced): string {
  if (typeof s.value !== 'string' || s.value === '') throw new UsageError(`${s.from} must be a non-empty string`);
  return s.value;
}

function num(s: Sourced): number {
  const n = typeof s.value === 'number' ? s.value : typeof s.value === 'string' && s.value.trim() !== '' ? Number(s.value) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`${s.from} must be a number, got ${JSON.stringify(s.value)}`);
  return n;
}

export function int(s: Sourced, min: number, max: number): number {
  const n = num(s);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${s.from} must be an integer from ${min} to ${max}, got ${JSON.stringify(s.value)}`);
  }
  return n;
}

export function positive(s: Sourced, allowZero = false): number {
  const n = num(s);
  if (n < 0 || (!allowZero && n === 0)) {
    throw new UsageError(`${s.from} must be ${allowZero ? 'zero or more' : 'greater than zero'}, got ${JSON.stringify(s.value)}`);
  }
  return n;
}

/** true/false (flags and env: the words; the config file: a JSON boolean too). */
export function bool(s: Sourced): boolean {
  if (typeof s.value === 'boolean') return s.value;
  if (s.value === 'true') return true;
  if (s.value === 'false') return false;
  throw new UsageError(`${s.from} must be true or false, got ${JSON.stringify(s.value)}`);
}

export function choice<T extends string>(s: Sourced, choices: readonly T[]): T {
  if (!choices.includes(s.value as T)) {
    throw new UsageError(`${s.from} must be one of ${choices.join(', ')}, got ${JSON.stringify(s.value)}`);
  }
  return s.value as T;
}

/** Repeated flags arrive as an array, env as a comma-separated string, the file as an array. */
function list(s: Sourced): string[] {
  const items = typeof s.value === 'string' ? s.value.split(',') : s.value;
  if (!Array.isArray(items) || items.some((x) => typeof x !== 'string')) {
    throw new UsageError(`${s.from} must be a list of model names`);
  }
  return items.map((x: string) => x.trim()).filter((x) => x !== '');
}
