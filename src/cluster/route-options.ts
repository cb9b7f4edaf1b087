/**
 * `serval route` options: one table of flags and environment variables (as `serval serve` has), and the
 * merge `flags > environment > defaults`. Every bad value is a `UsageError` naming the flag or variable.
 */
import { bool, choice, int, positive, SERVE_OPTIONS, str, UsageError, withDefault, type Sourced } from '../cli/serve-options.js';
import type { LogFormat } from '../server/logger.js';

export interface DnsUpstream { host: string; port: number }

export interface RouteConfig {
  /** Static replicas (base URLs such as http://10.0.0.5:8000). */
  upstream: string[];
  /** DNS names (a headless Service) whose A/AAAA records are the replicas, re-resolved every `dnsRefreshSecs`. */
  upstreamDns: DnsUpstream[];
  httpPort: number;
  /** Absent: no gRPC listener. */
  grpcPort?: number;
  host: string;
  policy: string;
  admission: string;
  /** Native instances (batches in flight) per replica; absent: the replica's own instance count. */
  slotsPerUpstream?: number;
  dnsRefreshSecs: number;
  /** How often the models (new ones, new versions) are re-read from a ready replica. */
  modelRefreshSecs: number;
  /** The replicas' v2 gRPC port: batches go over gRPC (ModelInfer) instead of HTTP. Absent: HTTP. */
  upstreamGrpcPort?: number;
  /** Where batches are sent from: one thread per router instance, or the main thread (no hand-off). */
  forwardOn: 'threads' | 'main';
  /** Consecutive failed forwards that eject a replica. */
  ejectAfterFailures: number;
  /** How often an ejected replica's readiness is probed. */
  probeIntervalSecs: number;
  /** Timeout of one forwarded batch. */
  upstreamTimeoutSecs: number;
  maxBodyMb: number;
  logFormat: LogFormat;
  strictReadiness: boolean;
  shutdownGraceSecs: number;
  drainTimeoutSecs: number;
}

export type RouteKey = keyof RouteConfig;

interface OptionSpec { key: RouteKey; flags: string; env: string; help: string }

/** Flags `serval serve` has too, with its help text (the router listens and shuts down the same way). */
const SHARED: readonly RouteKey[] = ['httpPort', 'host', 'maxBodyMb', 'logFormat', 'strictReadiness', 'shutdownGraceSecs', 'drainTimeoutSecs'];

export const ROUTE_OPTIONS: readonly OptionSpec[] = [
  { key: 'upstream', flags: '--upstream <url>', env: 'SERVAL_UPSTREAM', help: 'replica base URL (http://host:port); repeatable (env var: comma-separated list)' },
  { key: 'upstreamDns', flags: '--upstream-dns <name:port>', env: 'SERVAL_UPSTREAM_DNS', help: 'DNS name whose addresses are the replicas (a Kubernetes headless Service), with their HTTP port; repeatable' },
  { key: 'grpcPort', flags: '--grpc-port <port>', env: 'SERVAL_GRPC_PORT', help: 'v2 gRPC API port; 0 picks a free one (default: off)' },
  { key: 'policy', flags: '--policy <name>', env: 'SERVAL_POLICY', help: 'placement policy across replicas (default: least_outstanding; round_robin is what a Kubernetes Service does)' },
  { key: 'admission', flags: '--admission <name>', env: 'SERVAL_ADMISSION', help: 'admission policy at the router (default: none)' },
  { key: 'slotsPerUpstream', flags: '--slots-per-upstream <n>', env: 'SERVAL_SLOTS_PER_UPSTREAM', help: 'batches in flight per replica, each a native instance of the router (default: the replica\'s instance count)' },
  { key: 'dnsRefreshSecs', flags: '--dns-refresh-secs <n>', env: 'SERVAL_DNS_REFRESH_SECS', help: 'how often --upstream-dns names are re-resolved (default: 5)' },
  { key: 'modelRefreshSecs', flags: '--model-refresh-secs <n>', env: 'SERVAL_MODEL_REFRESH_SECS', help: 'how often new models and versions are read from a ready replica (default: 15)' },
  { key: 'upstreamGrpcPort', flags: '--upstream-grpc-port <port>', env: 'SERVAL_UPSTREAM_GRPC_PORT', help: 'send batches over the replicas\' v2 gRPC API on this port (same host as their HTTP URL) instead of HTTP (default: HTTP)' },
  { key: 'forwardOn', flags: '--forward-on <where>', env: 'SERVAL_FORWARD_ON', help: 'threads: one forwarder thread per replica slot; main: the router\'s main thread, no hand-off (default: threads)' },
  { key: 'ejectAfterFailures', flags: '--eject-after-failures <n>', env: 'SERVAL_EJECT_AFTER_FAILURES', help: 'consecutive failed forwards that eject a replica until its readiness probe passes (default: 3)' },
  { key: 'probeIntervalSecs', flags: '--probe-interval-secs <n>', env: 'SERVAL_PROBE_INTERVAL_SECS', help: 'readiness probe interval of ejected replicas (default: 1)' },
  { key: 'upstreamTimeoutSecs', flags: '--upstream-timeout-secs <n>', env: 'SERVAL_UPSTREAM_TIMEOUT_SECS', help: 'timeout of one forwarded batch (default: 30)' },
  // Keys in SHARED are RouteKeys by construction.
  ...(SERVE_OPTIONS.filter((o) => (SHARED as readonly string[]).includes(o.key)) as unknown as OptionSpec[]),
];

const listOf = (s: Sourced): string[] => {
  const items = typeof s.value === 'string' ? s.value.split(',') : s.value;
  if (!Array.isArray(items) || items.some((x) => typeof x !== 'string')) throw new UsageError(`${s.from} must be a list`);
  return items.map((x: string) => x.trim()).filter((x) => x !== '');
};

function upstreamUrl(text: string, from: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${from}: '${text}' is not a URL (http://host:port)`);
  }
  if (url.protocol !== 'http:' || url.pathname !== '/' || url.search || url.hash) {
    throw new UsageError(`${from}: '${text}' must be an http:// base URL without a path`);
  }
  return url.origin;
}

function dnsUpstream(text: string, from: string): DnsUpstream {
  const m = /^([A-Za-z0-9.-]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`${from}: '${text}' must be NAME:PORT (a DNS name and the replicas' HTTP port)`);
  return { host: m[1]!, port };
}

/** Merges flags (commander's parsed values: strings or string arrays) over environment variables over defaults. */
export function resolveRouteConfig(cli: Partial<Record<RouteKey, unknown>>, env: NodeJS.ProcessEnv): RouteConfig {
  const get = (key: RouteKey): Sourced | undefined => {
    const spec = ROUTE_OPTIONS.find((o) => o.key === key)!;
    if (cli[key] !== undefined) return { value: cli[key], from: spec.flags.split(' ')[0]! };
    const e = env[spec.env];
    return e !== undefined && e !== '' ? { value: e, from: spec.env } : undefined;
  };
  const up = get('upstream');
  const dns = get('upstreamDns');
  const cfg: RouteConfig = {
    upstream: up ? listOf(up).map((u) => upstreamUrl(u, up.from)) : [],
    upstreamDns: dns ? listOf(dns).map((d) => dnsUpstream(d, dns.from)) : [],
    httpPort: withDefault(get('httpPort'), 8000, (s) => int(s, 0, 65535)),
    host: withDefault(get('host'), '127.0.0.1', str),
    policy: withDefault(get('policy'), 'least_outstanding', str),
    admission: withDefault(get('admission'), 'none', str),
    dnsRefreshSecs: withDefault(get('dnsRefreshSecs'), 5, (s) => positive(s)),
    modelRefreshSecs: withDefault(get('modelRefreshSecs'), 15, (s) => positive(s)),
    forwardOn: withDefault(get('forwardOn'), 'threads', (s) => choice(s, ['threads', 'main'] as const)),
    ejectAfterFailures: withDefault(get('ejectAfterFailures'), 3, (s) => int(s, 1, 1000)),
    probeIntervalSecs: withDefault(get('probeIntervalSecs'), 1, (s) => positive(s)),
    upstreamTimeoutSecs: withDefault(get('upstreamTimeoutSecs'), 30, (s) => positive(s)),
    maxBodyMb: withDefault(get('maxBodyMb'), 64, (s) => positive(s)),
    logFormat: withDefault(get('logFormat'), 'pretty', (s) => choice(s, ['pretty', 'json'] as const)),
    strictReadiness: withDefault(get('strictReadiness'), true, bool),
    shutdownGraceSecs: withDefault(get('shutdownGraceSecs'), 5, (s) => positive(s, true)),
    drainTimeoutSecs: withDefault(get('drainTimeoutSecs'), 30, (s) => positive(s, true)),
  };
  const upstreamGrpc = get('upstreamGrpcPort');
  if (upstreamGrpc) cfg.upstreamGrpcPort = int(upstreamGrpc, 1, 65535);
  const slots = get('slotsPerUpstream');
  if (slots) cfg.slotsPerUpstream = int(slots, 1, 64);
  const grpc = get('grpcPort');
  if (grpc && grpc.value !== 'off') cfg.grpcPort = int(grpc, 0, 65535);
  if (cfg.upstream.length === 0 && cfg.upstreamDns.length === 0) {
    throw new UsageError('route needs at least one --upstream URL or --upstream-dns NAME:PORT (or SERVAL_UPSTREAM / SERVAL_UPSTREAM_DNS)');
  }
  return cfg;
}
