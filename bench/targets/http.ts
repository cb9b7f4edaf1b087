/**
 * Any Open Inference Protocol v2 server over HTTP (serval serve, Triton, KServe, the naive baseline): model
 * metadata from `GET /v2/models/{m}`, requests to `POST /v2/models/{m}/infer` as JSON or binary tensor bodies,
 * server-side queue/compute split from Triton's `GET /v2/models/{m}/stats` when the server has it.
 */
import { Pool } from 'undici';
import { BenchError, invalidArgument } from '../errors.js';
import type { ModelInfo } from '../inputs.js';
import { checkInferResponse, encodeInferRequest, HEADER_LENGTH, type WireTensor } from '../protocol/v2-codec.js';
import type { BenchTarget, ServerCounters } from './target.js';
import { cycle } from './target.js';

export type WireProtocol = 'json' | 'binary';

export interface HttpTargetOptions {
  /** `http://host:port` */
  url: string;
  /** @default 'json' */
  protocol?: WireProtocol;
  /** Most open connections (one request each at a time). @default 256 */
  connections?: number;
  /** The client gives up on a request after this long (reason CLIENT_TIMEOUT). @default 30000 */
  requestTimeoutMs?: number;
}

/** A non-200 answer from the server; `code` is `HTTP_<status>`. */
export class HttpStatusError extends Error {
  readonly code: string;
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'HttpStatusError';
    this.code = `HTTP_${status}`;
  }
}

export function parseProtocol(text: string): WireProtocol {
  if (text !== 'json' && text !== 'binary') throw invalidArgument(`--protocol must be json or binary, got '${text}'`);
  return text;
}

export class HttpTarget implements BenchTarget {
  readonly description: string;
  private readonly pool: Pool;
  private readonly origin: string;
  private readonly binary: boolean;

  constructor(options: HttpTargetOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw invalidArgument(`--url '${options.url}' is not a URL (expected http://host:port)`);
    }
    if (url.protocol !== 'http:') throw invalidArgument(`--url '${options.url}': only http:// is supported`);
    this.origin = url.origin;
    const protocol = options.protocol ?? 'json';
    this.binary = protocol === 'binary';
    this.description = `http ${protocol} ${this.origin}`;
    const timeout = options.requestTimeoutMs ?? 30_000;
    this.pool = new Pool(this.origin, { connections: options.connections ?? 256, headersTimeout: timeout, bodyTimeout: timeout, connectTimeout: 5000 });
  }

  async listModels(): Promise<string[]> {
    const res = await this.call('POST', '/v2/repository/index', '{}');
    if (res.status !== 200) throw new BenchError('TARGET_ERROR', `${this.origin} has no model repository index (POST /v2/repository/index → ${res.status}): name the models with --model or --mix`);
    const entries = parseJson(res.text, 'POST /v2/repository/index') as Array<{ name?: string; state?: string }>;
    if (!Array.isArray(entries)) throw new BenchError('TARGET_ERROR', 'POST /v2/repository/index did not answer with an array');
    return [...new Set(entries.filter((e) => typeof e.name === 'string' && (e.state === undefined || e.state === 'READY')).map((e) => e.name as string))];
  }

  async metadata(model: string): Promise<ModelInfo> {
    const res = await this.call('GET', `/v2/models/${encodeURIComponent(model)}`);
    if (res.status === 404 || res.status === 400) {
      throw new BenchError('UNKNOWN_MODEL', `unknown model '${model}' at ${this.origin} (GET /v2/models/${model} → ${res.status}: ${errorText(res.text)})`);
    }
    if (res.status !== 200) throw new BenchError('TARGET_ERROR', `GET /v2/models/${model} → ${res.status}: ${errorText(res.text)}`);
    const meta = parseJson(res.text, `GET /v2/models/${model}`) as Partial<ModelInfo>;
    if (!Array.isArray(meta.inputs) || !Array.isArray(meta.outputs)) {
      throw new BenchError('TARGET_ERROR', `GET /v2/models/${model} has no inputs/outputs: is ${this.origin} an Open Inference Protocol v2 server?`);
    }
    return { name: model, inputs: meta.inputs, outputs: meta.outputs };
  }

  async prepare(model: string, requests: WireTensor[][]): Promise<() => Promise<void>> {
    const path = `/v2/models/${encodeURIComponent(model)}/infer`;
    const bodies = cycle(
      requests.map((inputs) => encodeInferRequest(inputs, this.binary)),
    );
    return async () => {
      const { body, headers } = bodies();
      const res = await this.pool.request({ path, method: 'POST', headers, body });
      const bytes = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 200) throw new HttpStatusError(res.statusCode, errorText(bytes.toString('utf8')));
      const length = res.headers[HEADER_LENGTH];
      checkInferResponse(bytes, length === undefined ? undefined : Number(length));
    };
  }

  async serverCounters(models: string[]): Promise<ServerCounters | undefined> {
    const out: ServerCounters = { queueCount: 0, queueSeconds: 0, computeCount: 0, computeSeconds: 0 };
    for (const model of models) {
      let res: { status: number; text: string };
      try {
        res = await this.call('GET', `/v2/models/${encodeURIComponent(model)}/stats`);
      } catch {
        return undefined;
      }
      if (res.status !== 200) return undefined;
      let parsed: TritonStats;
      try {
        parsed = JSON.parse(res.text) as TritonStats;
      } catch {
        return undefined;
      }
      if (!Array.isArray(parsed.model_stats)) return undefined;
      for (const s of parsed.model_stats) {
        const inf = s.inference_stats;
        out.queueCount += Number(inf?.queue?.count ?? 0);
        out.queueSeconds += Number(inf?.queue?.ns ?? 0) / 1e9;
        out.computeCount += Number(inf?.compute_infer?.count ?? 0);
        out.computeSeconds += Number(inf?.compute_infer?.ns ?? 0) / 1e9;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  /** One control-plane call; connection failures become TARGET_UNAVAILABLE. */
  private async call(method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; text: string }> {
    try {
      const res = await this.pool.request({ path, method, body, headers: body ? { 'content-type': 'application/json' } : {} });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      throw new BenchError('TARGET_UNAVAILABLE', `cannot reach ${this.origin}: ${code ? `${code} ` : ''}${(err as Error).message}`);
    }
  }
}

interface TritonStats {
  model_stats?: Array<{ inference_stats?: { queue?: { count?: number; ns?: number }; compute_infer?: { count?: number; ns?: number } } }>;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BenchError('TARGET_ERROR', `${what} did not answer with JSON`);
  }
}

/** The `error` field of a v2 error body, or the start of the body. */
function errorText(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof e === 'string') return e;
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200);
}
