/**
 * `serval serve --http-threads N`: the main thread's uWS app and N-1 HTTP threads
 * (src/server/http-thread-worker.ts) on one port, seen by the server as one HttpTransport.
 *
 * The kernel spreads connections over the N listeners (SO_REUSEPORT). An HTTP thread answers inference
 * requests to the models published in the table below itself, straight into the main thread's native
 * schedulers, so on a machine with cores to spare the JSON parsing, validation and response encoding of
 * those requests run in parallel; all other requests it hands to the main thread's routes. The table is
 * rebuilt when the runtime emits an event (a version's state, a rollout's phase: Runtime.onModelsChanged), and a
 * thread that finds a version closed under it before its table changed hands the request to the main thread,
 * so no request is lost to a stale table. An idle server sends and runs nothing for its HTTP threads.
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../binding.js';
import { loadAddon } from '../binding.js';
import { MAX_REQUEST_ID_SPACES } from '../model/native-enqueue.js';
import type { BearerAuth } from './auth.js';
import type { FromHttpThread, FrontEndModel, HttpThreadData, ToHttpThread } from './http-thread-protocol.js';
import { runHandler, type HttpTransport, type IncomingRequest, type RequestHandler, type TransportOptions } from './http-transport.js';
import type { Logger } from './logger.js';
import type { UwsTransport } from './uws-transport.js';

export interface ThreadedTransportOptions {
  /** HTTP threads in all, the main thread included (2 or more). */
  threads: number;
  /** The main thread's transport, created with `sharePort: true`. */
  main: UwsTransport;
  transport: TransportOptions;
  /** The main thread's routes: requests the HTTP threads hand over. */
  handler: RequestHandler;
  /** The models HTTP threads may serve themselves (Runtime.frontEndModels); absent: none. */
  frontEndModels?: () => FrontEndModel[];
  /** Calls the listener whenever `frontEndModels` may have changed (Runtime.onModelsChanged); returns its stop function. */
  onModelsChanged?: (listener: () => void) => () => void;
  /** The current load report header (src/cluster/load-report.ts), when the runtime reports load. */
  loadReport?: () => string;
  /** Requests the HTTP threads answered, for the HTTP metrics; their last inference times. */
  onCounts: (route: string, method: string, status: number, n: number) => void;
  onThreadAnswered: (thread: number, n: number) => void;
  onInference: (key: string, ms: number) => void;
  auth?: BearerAuth;
  repositoryRoots: string[];
  logger: Logger;
}

interface Thread {
  index: number;
  worker: Worker;
  /** Requests it handed to the main thread, by its id: the handle to cancel when the client goes away. */
  handed: Map<number, IncomingRequest['handle']>;
  exited: boolean;
}

export class ThreadedHttpTransport implements HttpTransport {
  readonly kind = 'uws' as const;
  private readonly threads: Thread[] = [];
  private readonly asks = new Map<number, (value: boolean) => void>();
  private nextAsk = 1;
  private tableSignature = '';
  private publishedModels = 0;
  private lastModels: FrontEndModel[] = [];
  private restarts: number[] = [];
  /** The index a replacement thread gets: a fresh one, so its request ids never meet the dead thread's. */
  private nextIndex = 1;
  private closing = false;
  private lastLoadReport: string | undefined;
  private unwatch: (() => void) | undefined;

  constructor(private readonly options: ThreadedTransportOptions) {}

  get inflight(): number {
    return this.options.main.inflight;
  }

  async listen(host: string, port: number): Promise<number> {
    const o = this.options;
    // The listeners share the port (SO_REUSEPORT), which would also let a second server share it by mistake:
    // take it exclusively for a moment first, so a port in use fails here as it does with one thread.
    const bound = await o.main.listen(host, await o.main.probeExclusive(host, port));
    const data: Omit<HttpThreadData, 'index'> = {
      host,
      port: bound,
      limits: {
        maxBodyBytes: o.transport.maxBodyBytes,
        maxJsonBodyBytes: o.transport.maxJsonBodyBytes,
        maxBufferedBodyBytes: o.transport.maxBufferedBodyBytes,
        bodyTimeoutMs: o.transport.bodyTimeoutMs,
      },
      ...(o.auth ? { authDigest: o.auth.digest } : {}),
      repositoryRoots: o.repositoryRoots,
      statusCodes: loadAddon().buildInfo().statusCodes,
    };
    this.nextIndex = o.threads;
    const started = Array.from({ length: o.threads - 1 }, (_, i) => this.spawn({ ...data, index: i + 1 }));
    try {
      await Promise.all(started);
    } catch (err) {
      await this.close();
      throw err;
    }
    this.publishTable();
    this.publishLoadReport();
    this.unwatch = o.onModelsChanged?.(() => this.modelsChanged());
    return bound;
  }

  private spawn(data: HttpThreadData): Promise<void> {
    const worker = new Worker(workerScript('src/server/http-thread-worker.js'), { workerData: data });
    const thread: Thread = { index: data.index, worker, handed: new Map(), exited: false };
    this.threads.push(thread);
    let listening = false;
    return new Promise((resolve, reject) => {
      worker.on('message', (m: FromHttpThread) => {
        if (m.kind === 'listening') {
          listening = true;
          resolve();
        } else if (m.kind === 'listen-failed') {
          reject(new Error(`HTTP thread ${data.index}: ${m.message}`));
        } else {
          this.onMessage(thread, m);
        }
      });
      worker.on('error', (err) => {
        this.options.logger.error(`HTTP thread ${data.index} failed`, { err });
        reject(err);
      });
      worker.on('exit', (code) => {
        thread.exited = true;
        for (const handle of thread.handed.values()) handle.cancel?.();
        thread.handed.clear();
        this.threads.splice(this.threads.indexOf(thread), 1);
        reject(new Error(`HTTP thread ${data.index} exited (code ${code}) before it listened`));
        if (listening && !this.closing) this.replace(data, code);
      });
    });
  }

  /**
   * A thread that died while serving (its connections are gone with it; the other listeners take new ones) is
   * replaced, at most RESTART_LIMIT times a minute so a thread that cannot live does not spin.
   */
  private replace(data: HttpThreadData, code: number): void {
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    if (this.restarts.length >= RESTART_LIMIT || this.nextIndex >= MAX_REQUEST_ID_SPACES) {
      this.options.logger.error(`HTTP thread ${data.index} exited (code ${code}); not restarted: ${RESTART_LIMIT} restarts in the last minute, or no request id space left`);
      return;
    }
    this.restarts.push(now);
    const index = this.nextIndex++;
    this.options.logger.warn(`HTTP thread ${data.index} exited (code ${code}) while serving; starting thread ${index} in its place`);
    this.spawn({ ...data, index }).then(
      () => {
        const thread = this.threads.find((t) => t.index === index && !t.exited);
        if (!thread) return;
        this.send(thread, { kind: 'table', models: this.lastModels });
        if (this.lastLoadReport !== undefined) this.send(thread, { kind: 'load-report', header: this.lastLoadReport });
      },
      (err: unknown) => this.options.logger.error(`HTTP thread ${index} could not be started`, { err }),
    );
  }

  private onMessage(thread: Thread, m: FromHttpThread): void {
    const o = this.options;
    switch (m.kind) {
      case 'request': {
        const handle: IncomingRequest['handle'] = {};
        thread.handed.set(m.id, handle);
        const req: IncomingRequest = { method: m.method, path: m.path, query: m.query, headers: m.headers, body: Buffer.from(m.body), handle };
        runHandler(o.handler, req, o.logger, (out) => {
          if (!thread.handed.delete(m.id) || thread.exited) return;
          const body = typeof out.body === 'string' || out.body === undefined ? out.body : new Uint8Array(out.body.buffer, out.body.byteOffset, out.body.byteLength);
          this.send(thread, { kind: 'response', id: m.id, status: out.status, ...(out.headers ? { headers: out.headers } : {}), ...(body !== undefined ? { body } : {}) });
        });
        break;
      }
      case 'abort': {
        const handle = thread.handed.get(m.id);
        thread.handed.delete(m.id);
        handle?.cancel?.();
        break;
      }
      case 'counts': {
        let answered = 0;
        for (const [key, n] of m.http) {
          const [route, method, status] = key.split(' ');
          o.onCounts(route!, method!, Number(status), n);
          answered += n;
        }
        if (answered > 0) o.onThreadAnswered(thread.index, answered);
        this.publishLoadReport();
        for (const [key, ms] of m.last) o.onInference(key, ms);
        break;
      }
      case 'log': o.logger[m.level](m.msg, m.fields); break;
      case 'idle': case 'closed': {
        const wake = this.asks.get(m.ask);
        this.asks.delete(m.ask);
        wake?.(m.kind === 'closed' || m.ok);
        break;
      }
      default: break;
    }
  }

  private send(thread: Thread, m: ToHttpThread): void {
    if (!thread.exited) thread.worker.postMessage(m);
  }

  /** Sends the HTTP threads the models they may serve, when that changed. */
  private publishTable(): void {
    const models = this.options.frontEndModels?.() ?? [];
    const signature = models.map((m) => `${m.name}:${m.serving ?? ''}:${m.versions.map((v) => `${v.version}=${v.token}`).join(',')}`).join(';');
    if (signature === this.tableSignature) return;
    this.tableSignature = signature;
    this.lastModels = models;
    this.publishedModels = models.length;
    for (const t of this.threads) this.send(t, { kind: 'table', models });
  }

  /**
   * A runtime event (a version's state, a rollout's phase): rebuilt at once, in the event, since building the
   * table also closes the versions that left it to the threads before any further request reaches them.
   */
  private modelsChanged(): void {
    if (this.closing) return;
    try {
      this.publishTable();
    } catch (err) {
      this.options.logger.error('cannot update the HTTP threads\' table of models', { err });
    }
  }

  /**
   * The threads' answers carry the runtime's load report (src/cluster/load-report.ts), refreshed as the
   * threads report requests (every COUNTS_FLUSH_MS while they serve): a stats snapshot per report, none idle.
   */
  private publishLoadReport(): void {
    const report = this.publishedModels > 0 ? this.options.loadReport?.() : undefined;
    if (report === this.lastLoadReport) return;
    this.lastLoadReport = report;
    for (const t of this.threads) this.send(t, { kind: 'load-report', header: report });
  }

  /** Asks every live thread `make(ask)` and waits for each answer (false when `timeoutMs` passes first). */
  private askAll(make: (ask: number) => ToHttpThread, timeoutMs: number): Promise<boolean> {
    const live = this.threads.filter((t) => !t.exited);
    return Promise.all(live.map((t) => new Promise<boolean>((resolve) => {
      const ask = this.nextAsk++;
      const timer = setTimeout(() => {
        this.asks.delete(ask);
        resolve(false);
      }, timeoutMs);
      this.asks.set(ask, (v) => {
        clearTimeout(timer);
        resolve(v);
      });
      t.worker.once('exit', () => this.asks.get(ask)?.(true));
      this.send(t, make(ask));
    }))).then((all) => all.every(Boolean));
  }

  /** The worker threads serving now, by index (thread 0, the main one, is not listed). */
  get threadIndexes(): number[] {
    return this.threads.filter((t) => !t.exited).map((t) => t.index);
  }

  /** Test hook: worker thread `index` exits at once, as a crash would end it (it is then replaced). */
  crashThread(index: number): void {
    const thread = this.threads.find((t) => t.index === index && !t.exited);
    if (thread) this.send(thread, { kind: 'crash' });
  }

  stopListening(): void {
    this.options.main.stopListening();
    for (const t of this.threads) this.send(t, { kind: 'stop-listening' });
  }

  closeConnectionsAfterResponse(): void {
    this.options.main.closeConnectionsAfterResponse();
    for (const t of this.threads) this.send(t, { kind: 'close-after-response' });
  }

  async whenIdle(timeoutMs: number): Promise<boolean> {
    const [main, threads] = await Promise.all([this.options.main.whenIdle(timeoutMs), this.askAll((ask) => ({ kind: 'when-idle', ask, timeoutMs }), timeoutMs + 1000)]);
    return main && threads;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.unwatch?.();
    await Promise.all([this.options.main.close(), this.askAll((ask) => ({ kind: 'close', ask }), 5000)]);
    // A closed thread ends by itself. It is not terminated: a thread ended with its uWS app open aborts the
    // process, so one that did not close in time is left to the exit (and said so).
    await Promise.all(this.threads.map((t) => (t.exited ? undefined : new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.options.logger.warn(`HTTP thread ${t.index} did not end after closing`);
        t.worker.unref();
        resolve();
      }, 2000);
      t.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    }))));
  }
}


/** Replacements of dead HTTP threads allowed per minute. */
const RESTART_LIMIT = 5;

/** `--http-threads auto`: one per four cores (inference needs the rest), at least 1, at most 16. */
export function autoHttpThreads(cores: number): number {
  return Math.max(1, Math.min(16, Math.floor(cores / 4)));
}
