/**
 * One HTTP thread of `serval serve --http-threads N` (see src/server/http-thread-protocol.ts): a uWS app
 * on the server's port (SO_REUSEPORT: the kernel spreads connections over the threads) that answers
 * inference requests to published models itself, enqueueing straight into the main thread's native
 * schedulers with its own completion table, and hands every other request to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadAddon, type NativeFrontEnd, type NativeModelHandle } from '../binding.js';
import { redactPaths, ServalError } from '../errors.js';
import type { TensorMetadata } from '../api-types.js';
import { CompletionTable } from '../model/completion-table.js';
import { inputPlan } from '../model/input-validation.js';
import { tensorMetadata } from '../model/tensor-metadata.js';
import { enqueueRequest, useRequestIdSpace, type NativeTarget } from '../model/native-enqueue.js';
import { LOAD_REPORT_HEADER } from '../cluster/load-report.js';
import { BearerAuth, isPublicPath } from './auth.js';
import type { FromHttpThread, FrontEndModel, HttpThreadData, ToHttpThread } from './http-thread-protocol.js';
import type { IncomingRequest, OutgoingResponse } from './http-transport.js';
import type { LogFields, Logger, LogLevel } from './logger.js';
import { decodeInfer, parseVersion, routeError } from './routes.js';
import { loadNativeUws, UwsTransport } from './uws-transport.js';
import { encodeInferResponse } from './v2-codec.js';

const port = parentPort!;
const data = workerData as HttpThreadData;
const post = (m: FromHttpThread, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer ?? []);

/** Logs through the main thread's logger. */
const log = (level: LogLevel) => (msg: string, fields?: LogFields): void =>
  post({ kind: 'log', level, msg, ...(fields ? { fields: plain(fields) } : {}) });
const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

/** Log fields that survive postMessage (errors as their message). */
function plain(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? v.message : typeof v === 'object' && v !== null ? String(v) : v;
  return out;
}

/** A published version, ready to take requests from this thread. */
interface Served {
  token: number;
  handle: NativeModelHandle;
  target: NativeTarget;
  input: TensorMetadata[];
}

class HttpThread {
  private readonly completions = new CompletionTable(data.statusCodes);
  private readonly frontEnd: NativeFrontEnd;
  private readonly auth = data.authDigest ? new BearerAuth({ digest: data.authDigest }) : undefined;
  private readonly redact = (message: string): string => redactPaths(message, data.repositoryRoots);
  /** By model name: the serving version and every published version. */
  private models = new Map<string, { serving: number | undefined; versions: Map<number, Served> }>();
  private loadReport: string | undefined;
  private readonly forwarded = new Map<number, (out: OutgoingResponse) => void>();
  private nextForward = 1;
  private counts = new Map<string, number>();
  private lastInference = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  readonly transport: UwsTransport;

  constructor() {
    useRequestIdSpace(data.index);
    const addon = loadAddon();
    this.frontEnd = new addon.NativeFrontEnd(this.completions.complete, this.completions.header);
    const uws = loadNativeUws();
    if (!uws.ok) throw new Error(`uWebSockets.js native binary did not load: ${uws.reason}`);
    this.transport = new UwsTransport(uws.uws, { ...data.limits, logger, sharePort: true, handler: (req) => this.handle(req) });
  }

  onMessage(m: ToHttpThread): void {
    switch (m.kind) {
      case 'table': this.publish(m.models); break;
      case 'load-report': this.loadReport = m.header; break;
      case 'response': {
        const respond = this.forwarded.get(m.id);
        this.forwarded.delete(m.id);
        const body = m.body instanceof Uint8Array ? Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength) : m.body;
        respond?.({ status: m.status, ...(m.headers ? { headers: m.headers } : {}), ...(body !== undefined ? { body } : {}) });
        break;
      }
      case 'stop-listening': this.transport.stopListening(); break;
      case 'close-after-response': this.transport.closeConnectionsAfterResponse(); break;
      case 'crash': setImmediate(() => { throw new Error('crash requested (test hook)'); }); break;
      case 'when-idle': void this.transport.whenIdle(m.timeoutMs).then((ok) => post({ kind: 'idle', ask: m.ask, ok })); break;
      case 'close':
        void this.transport.close().then(() => {
          this.flush();
          this.frontEnd.shutdown();
          post({ kind: 'closed', ask: m.ask });
          port.close();
        });
        break;
    }
  }

  /** Takes the main thread's table of published models, keeping the handles of versions still in it. */
  private publish(models: FrontEndModel[]): void {
    const old = new Map<number, Served>();
    for (const m of this.models.values()) for (const s of m.versions.values()) old.set(s.token, s);
    const next = new Map<string, { serving: number | undefined; versions: Map<number, Served> }>();
    for (const m of models) {
      const versions = new Map<number, Served>();
      for (const v of m.versions) {
        let served = old.get(v.token);
        if (!served) {
          const handle = this.frontEnd.attach(v.token);
          if (!handle) continue; // unloaded since the table was sent
          served = {
            token: v.token,
            handle,
            target: { model: handle, table: this.completions, plan: inputPlan(v.config), config: v.config, outputNames: v.config.output.map((t) => t.name) },
            input: tensorMetadata(v.config, v.config.input),
          };
        }
        versions.set(v.version, served);
      }
      next.set(m.name, { serving: m.serving, versions });
    }
    this.models = next;
  }

  private handle(req: IncomingRequest): OutgoingResponse | Promise<OutgoingResponse> {
    if (req.method === 'POST' && (!this.auth || isPublicPath(req.path) || this.auth.accepts(req.headers['authorization']))) {
      const m = INFER_PATH.exec(req.path);
      if (m) {
        const model = this.models.get(m[1]!);
        let version: number | undefined;
        try {
          version = m[2] === undefined ? model?.serving : parseVersion(m[2]);
        } catch {
          version = undefined; // the main thread answers with the error
        }
        const served = version === undefined ? undefined : model?.versions.get(version);
        if (served) return this.infer(req, m[1]!, version!, served, m[2] === undefined ? INFER_ROUTE : INFER_VERSION_ROUTE);
      }
    }
    return this.forward(req);
  }

  /** The v2 infer route (src/server/routes.ts), for a published version: decode, enqueue, encode. */
  private infer(req: IncomingRequest, name: string, version: number, served: Served, route: string): OutgoingResponse | Promise<OutgoingResponse> {
    let outputs;
    let plan;
    try {
      const decoded = decodeInfer(req, name, () => served.input);
      if (decoded.explain) return this.forward(req);
      plan = decoded.plan;
      outputs = enqueueRequest(served.target, decoded.inputs, decoded.options);
    } catch (err) {
      return this.count(route, req, routeError(err, req, logger, this.redact));
    }
    const decodedPlan = plan;
    return outputs.then(
      (out) => {
        this.lastInference.set(`${name}/${version}`, Date.now());
        const { headers, body } = encodeInferResponse(name, version, out, decodedPlan);
        if (this.loadReport !== undefined) headers[LOAD_REPORT_HEADER] = this.loadReport;
        return this.count(route, req, { status: 200, headers, body });
      },
      (err: unknown) => {
        // Closed under us (unloaded or replaced since the last table): the main thread serves it instead.
        if (err instanceof ServalError && err.code === 'CLOSED') return this.forward(req);
        return this.count(route, req, routeError(err, req, logger, this.redact));
      },
    );
  }

  /** Hands a request to the main thread's routes; its response comes back as a message. */
  private forward(req: IncomingRequest): Promise<OutgoingResponse> {
    const id = this.nextForward++;
    const body = new Uint8Array(req.body).buffer; // a copy of its own, transferred
    // A client that goes away cancels the forwarded request on the main thread.
    req.handle.cancel = () => post({ kind: 'abort', id });
    post({ kind: 'request', id, method: req.method, path: req.path, query: req.query, headers: req.headers, body }, [body]);
    return new Promise((resolve) => this.forwarded.set(id, resolve));
  }

  /** Counts a request this thread answered (the main thread counts the ones it answers). */
  private count(route: string, req: IncomingRequest, res: OutgoingResponse): OutgoingResponse {
    const key = `${route} ${req.method} ${res.status}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    // Timer only while there is something to report: an idle thread does not wake.
    this.flushTimer ??= setTimeout(() => this.flush(), COUNTS_FLUSH_MS);
    return res;
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.counts.size === 0 && this.lastInference.size === 0) return;
    post({ kind: 'counts', http: [...this.counts], last: [...this.lastInference] });
    this.counts = new Map();
    this.lastInference = new Map();
  }
}

/** The infer routes (src/server/routes.ts patterns: the HTTP metrics label them the same way). */
const INFER_PATH = /^\/v2\/models\/([A-Za-z0-9_][A-Za-z0-9_.-]*)(?:\/versions\/([^/]+))?\/infer$/;
const INFER_ROUTE = '/v2/models/:model/infer';
const INFER_VERSION_ROUTE = '/v2/models/:model/versions/:version/infer';
/** How often an HTTP thread reports its request counts to the main thread's metrics while it serves. */
const COUNTS_FLUSH_MS = 250;

const thread = new HttpThread();
port.on('message', (m: ToHttpThread) => thread.onMessage(m));
// A thread that fails must close its uWS app before it ends: one that ends with the app open aborts the
// whole process. The main thread then replaces it (src/server/threaded-transport.ts).
const fatal = (err: unknown): void => {
  logger.error(`HTTP thread ${data.index} failed; closing its connections`, { err: err instanceof Error ? err : new Error(String(err)) });
  thread.transport.closeNow();
  process.exit(70);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
thread.transport.listen(data.host, data.port).then(
  () => post({ kind: 'listening' }),
  (err: Error) => post({ kind: 'listen-failed', message: err.message }),
);
