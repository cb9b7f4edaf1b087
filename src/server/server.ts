/**
 * `startServer`: the embedded runtime behind the v2 REST routes, on uWebSockets.js or node:http,
 * with metrics, optional auth, model control (none | poll | explicit) and graceful shutdown; optionally
 * the v2 gRPC API on a second port (`grpcPort`), served from the same runtime.
 *
 * Shutdown (`drain`, or SIGTERM/SIGINT when `handleSignals`): readiness turns false, the listeners
 * close (HTTP and gRPC), open connections are asked to close after their next response, accepted
 * requests are answered (bounded by the drain timeout), then the runtime drains and closes. On a signal,
 * readiness turns false at once but serving goes on as usual for `shutdownGraceMs` first: load balancers
 * (a Kubernetes Service) keep sending for a few seconds after SIGTERM, until they see the pod unready.
 */
import type { RuntimeOptions } from '../api-types.js';
import type { BearerAuth } from './auth.js';
import { createHttpTransport, type HttpTransport, type TransportKind, type TransportOptions } from './http-transport.js';
import { InvalidArgumentError } from '../errors.js';
import { LoadReporter } from '../cluster/load-report.js';
import { MAX_REQUEST_ID_SPACES } from '../model/native-enqueue.js';
import { ThreadedHttpTransport } from './threaded-transport.js';
import { UwsTransport } from './uws-transport.js';
import { GrpcEndpoint } from './grpc/grpc-endpoint.js';
import { silentLogger, type Logger } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { openRuntime } from './open-runtime.js';
import { RepositoryPoller } from './repository-poller.js';
import { createRoutes, repositoryRoots, type ModelControlMode } from './routes.js';
import type { ServingRuntime } from './serving-runtime.js';

export interface ServerOptions {
  /** A runtime to serve; when absent one is opened from `runtimeOptions`. The server closes it on shutdown. */
  runtime?: ServingRuntime;
  /** Used when `runtime` is absent. `loadModels` is derived from the model control mode unless given. */
  runtimeOptions?: RuntimeOptions;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 8000 */
  port?: number;
  /** Port of the v2 gRPC API; 0 picks a free port. @default undefined (no gRPC listener; `serval serve` uses 8001) */
  grpcPort?: number;
  /** @default 'none' */
  modelControlMode?: ModelControlMode;
  /** Models to load at start in explicit mode (`*` = all). @default [] */
  loadModels?: string[];
  /** Poll interval in `poll` mode. @default 15 */
  repositoryPollSecs?: number;
  /** Largest request body (binary tensor data included); larger ones get 413. @default 64 */
  maxBodyMb?: number;
  /**
   * Largest JSON part of a request (the whole body unless `Inference-Header-Content-Length` splits it):
   * parsing JSON holds the event loop, so this bounds how long one request can stall the others
   * (health checks and metrics included). @default 8
   */
  maxJsonBodyMb?: number;
  /** Request-body bytes held by all connections at once; past it new bodies get 503. @default 256 */
  maxBufferedBodyMb?: number;
  /** A request body must arrive in full within this time of its headers, or 408 and the connection closes. @default 10000 */
  bodyTimeoutMs?: number;
  auth?: BearerAuth;
  /** @default 'auto' (uWS when its native binary loads; env SERVAL_HTTP_TRANSPORT overrides) */
  transport?: TransportKind | 'auto';
  /** Bound on waiting for accepted requests at shutdown. @default 30000 */
  drainTimeoutMs?: number;
  /** Drain and exit the process on SIGTERM/SIGINT. @default false */
  handleSignals?: boolean;
  /** On SIGTERM/SIGINT, how long to keep serving (unready) before the drain begins. @default 5000 */
  shutdownGraceMs?: number;
  /**
   * Triton's strict readiness: `GET /v2/health/ready` is 200 only while every model the server was
   * asked to load (at start, or later by poll or explicit load) has a READY version. False: ready
   * whenever the server is up and not shutting down. @default true
   */
  strictReadiness?: boolean;
  /** @default silentLogger */
  logger?: Logger;
  /** Reported by `GET /v2`. @default '0.0.0' */
  serverVersion?: string;
  /**
   * HTTP threads on the port, the main thread included (src/server/threaded-transport.ts): the others answer
   * inference requests to plain models themselves, in parallel, and hand everything else to the main thread.
   * Needs uWebSockets.js (node:http serves with one). At most 63. @default 1
   */
  httpThreads?: number;
}

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly transport: TransportKind;
  /** HTTP threads serving the port, the main thread included (1 unless `httpThreads` asked for more and uWS loaded). */
  readonly httpThreads: number;
  /** The gRPC port, when `grpcPort` was given. */
  readonly grpcPort?: number;
  readonly runtime: ServingRuntime;
  /** Graceful shutdown: answers accepted requests (bounded by `timeoutMs`), then closes the runtime. */
  drain(timeoutMs?: number): Promise<void>;
  /** Fast shutdown: requests still queued are rejected (503), connections closed. */
  close(): Promise<void>;
}

/** What the runtime should load at start for a model control mode. */
export function initialLoad(mode: ModelControlMode, loadModels: string[]): RuntimeOptions['loadModels'] {
  if (mode !== 'explicit') return 'all';
  if (loadModels.includes('*')) return 'all';
  return loadModels.length > 0 ? loadModels : 'none';
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  const mode = options.modelControlMode ?? 'none';
  if (mode !== 'explicit' && (options.loadModels?.length ?? 0) > 0) {
    logger.warn('--load-model is ignored unless --model-control-mode is explicit');
  }
  const repository = options.runtimeOptions?.modelRepository;
  if (mode === 'poll' && !repository) throw new Error('poll mode needs runtimeOptions.modelRepository');
  const runtime = options.runtime ?? (await openRuntime(runtimeOptionsFor(options, mode)));
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  let draining = false;

  const metrics = new ServerMetrics(runtime);
  const maxBodyBytes = mib(options.maxBodyMb ?? 64);
  const serviceContext = {
    runtime,
    logger,
    modelControlMode: mode,
    ...(options.auth ? { auth: options.auth } : {}),
    serverVersion: options.serverVersion ?? '0.0.0',
    isDraining: () => draining,
    strictReadiness: options.strictReadiness ?? true,
    lastInference: new Map<string, number>(),
  };
  const threads = options.httpThreads ?? 1;
  let transport: HttpTransport;
  try {
    if (!Number.isSafeInteger(threads) || threads < 1 || threads >= MAX_REQUEST_ID_SPACES) {
      throw new InvalidArgumentError(`httpThreads must be an integer from 1 to ${MAX_REQUEST_ID_SPACES - 1}, got ${threads}`);
    }
    const handler = createRoutes({ ...serviceContext, metrics });
    const transportOptions: TransportOptions = {
      maxBodyBytes,
      maxJsonBodyBytes: mib(options.maxJsonBodyMb ?? 8),
      maxBufferedBodyBytes: mib(options.maxBufferedBodyMb ?? 256),
      bodyTimeoutMs: options.bodyTimeoutMs ?? 10_000,
      logger,
      handler,
      ...(threads > 1 ? { sharePort: true } : {}),
    };
    transport = await createHttpTransport(transportOptions, options.transport);
    if (threads > 1 && !(transport instanceof UwsTransport)) {
      logger.warn(`--http-threads ${threads} needs uWebSockets.js; serving with one HTTP thread on node:http`);
    } else if (threads > 1) {
      const reporter = runtime.profileOf ? new LoadReporter(runtime) : undefined;
      transport = new ThreadedHttpTransport({
        threads,
        main: transport as UwsTransport,
        transport: transportOptions,
        handler,
        ...(runtime.frontEndModels ? { frontEndModels: () => runtime.frontEndModels!() } : {}),
        ...(runtime.onModelsChanged ? { onModelsChanged: (listener: () => void) => runtime.onModelsChanged!(listener) } : {}),
        ...(reporter ? { loadReport: () => reporter.header() } : {}),
        onCounts: (route, method, status, n) => metrics.countHttpRequest(route, method, status, n),
        onThreadAnswered: (thread, n) => metrics.countThreadAnswered(thread, n),
        onInference: (key, ms) => serviceContext.lastInference.set(key, ms),
        ...(options.auth ? { auth: options.auth } : {}),
        repositoryRoots: repositoryRoots(runtime),
        logger,
      });
    }
  } catch (err) {
    await runtime.close({ drainTimeoutMs: 0 });
    throw err;
  }

  const host = options.host ?? '127.0.0.1';
  let port: number;
  let poller: RepositoryPoller | undefined;
  let grpc: GrpcEndpoint | undefined;
  try {
    port = await transport.listen(host, options.port ?? 8000);
    if (options.grpcPort !== undefined) {
      grpc = await GrpcEndpoint.listen({ ...serviceContext, metrics, maxMessageBytes: maxBodyBytes }, host, options.grpcPort);
    }
    if (mode === 'poll') {
      poller = new RepositoryPoller(repository!, runtime, (options.repositoryPollSecs ?? 15) * 1000, logger);
      await poller.start();
    }
  } catch (err) {
    grpc?.close();
    await transport.close();
    await runtime.close({ drainTimeoutMs: 0 });
    throw err;
  }

  let shutdown: Promise<void> | undefined;
  const stop = (timeoutMs: number): Promise<void> => {
    shutdown ??= (async () => {
      draining = true;
      transport.stopListening();
      grpc?.stopAccepting();
      transport.closeConnectionsAfterResponse();
      await poller?.stop();
      const started = Date.now();
      if (!(await transport.whenIdle(timeoutMs)) && timeoutMs > 0) {
        logger.warn('drain timeout: requests still in flight', { inflight: transport.inflight });
      }
      if (grpc && !(await grpc.whenIdle(Math.max(0, timeoutMs - (Date.now() - started)))) && timeoutMs > 0) {
        logger.warn('drain timeout: gRPC calls still in flight');
      }
      await runtime.close({ drainTimeoutMs: Math.max(0, timeoutMs - (Date.now() - started)) });
      // Requests the runtime rejected while closing still get their 503 (gRPC: UNAVAILABLE) written.
      await Promise.all([transport.whenIdle(1000), grpc?.whenIdle(1000)]);
      grpc?.close();
      await transport.close();
    })();
    return shutdown;
  };

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (options.handleSignals) {
    const graceMs = options.shutdownGraceMs ?? 5000;
    installSignalHandlers(async (signal) => {
      draining = true; // unready now; the listener and keep-alive connections serve on through the grace period
      logger.info(`${signal}: draining: readiness is false now; serving ${graceMs / 1000} s more (shutdown grace), then answering in-flight requests and exiting`);
      await Promise.all([poller?.stop(), new Promise((r) => setTimeout(r, graceMs))]);
      await stop(drainTimeoutMs);
    }, logger);
  }
  return {
    port,
    url,
    transport: transport.kind,
    httpThreads: transport instanceof ThreadedHttpTransport ? threads : 1,
    ...(grpc ? { grpcPort: grpc.port } : {}),
    runtime,
    drain: (timeoutMs = drainTimeoutMs) => stop(timeoutMs),
    close: () => stop(0),
  };
}

const mib = (n: number): number => Math.floor(n * 1024 * 1024);

function runtimeOptionsFor(options: ServerOptions, mode: ModelControlMode): RuntimeOptions {
  if (!options.runtimeOptions) throw new Error('startServer needs either runtime or runtimeOptions');
  return {
    ...options.runtimeOptions,
    loadModels: options.runtimeOptions.loadModels ?? initialLoad(mode, options.loadModels ?? []),
  };
}

function installSignalHandlers(drain: (signal: NodeJS.Signals) => Promise<void>, logger: Logger): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      logger.warn(`second ${signal}: exiting without waiting`);
      process.exit(1);
    }
    drain(signal).then(
      () => {
        logger.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
