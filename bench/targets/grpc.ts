/**
 * Any Open Inference Protocol v2 server over gRPC (serval serve's `--grpc-port`, Triton's 8001): model
 * metadata from ModelMetadata, requests through ModelInfer with `raw_input_contents` (what Triton's clients
 * and perf_analyzer send), the server-side queue/compute split from ModelStatistics. Requests are serialized
 * and framed once before the load starts, as the HTTP target encodes its bodies once, and the timed calls go
 * over node:http2 directly (grpc-h2.ts); control-plane calls use grpc-js.
 */
import * as grpc from '@grpc/grpc-js';
import { inferenceServiceDefinition } from '../../src/server/grpc/proto.js';
import { tensorDataToBinary } from '../../src/server/v2-tensor-data.js';
import { BenchError, invalidArgument } from '../errors.js';
import type { ModelInfo } from '../inputs.js';
import type { WireTensor } from '../protocol/v2-codec.js';
import { type WireProtocol, parseProtocol } from './http.js';
import { frameMessage, GrpcCallError, GrpcH2Channel, hasField } from './grpc-h2.js';
import type { BenchTarget, ServerCounters } from './target.js';
import { cycle } from './target.js';

/** `--protocol`: an HTTP body format, or gRPC. */
export type BenchProtocol = WireProtocol | 'grpc';

export function parseBenchProtocol(text: string, flag = '--protocol'): BenchProtocol {
  if (text === 'grpc') return text;
  if (text === 'json' || text === 'binary') return parseProtocol(text);
  throw invalidArgument(`${flag} must be json, binary or grpc, got '${text}'`);
}

export interface GrpcTargetOptions {
  /** `grpc://host:port`, `http://host:port` or `host:port`. */
  url: string;
  /** HTTP/2 connections the calls are spread over. @default 1 */
  connections?: number;
  /** The client gives up on a call after this long (its deadline). @default 30000 */
  requestTimeoutMs?: number;
}

/** A failed call; `code` is `GRPC_<STATUS>` (e.g. GRPC_RESOURCE_EXHAUSTED) for the report's failure reasons. */
export class GrpcStatusError extends Error {
  readonly code: string;
  constructor(readonly status: grpc.status, message: string) {
    super(message);
    this.name = 'GrpcStatusError';
    this.code = `GRPC_${grpc.status[status] ?? status}`;
  }
}

type Message = Record<string, any>;

export class GrpcTarget implements BenchTarget {
  readonly description: string;
  private readonly address: string;
  private readonly client: grpc.Client;
  private readonly channels: GrpcH2Channel[];
  private readonly timeoutMs: number;
  private readonly methods = inferenceServiceDefinition();

  constructor(options: GrpcTargetOptions) {
    this.address = parseAddress(options.url);
    this.description = `grpc ${this.address}`;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.client = new grpc.Client(this.address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.enable_channelz': 0 });
    this.channels = Array.from({ length: Math.max(1, options.connections ?? 1) }, () => new GrpcH2Channel(this.address));
  }

  async listModels(): Promise<string[]> {
    const res = await this.control('RepositoryIndex', {});
    const models = (res['models'] ?? []) as Array<{ name: string; state: string }>;
    return [...new Set(models.filter((m) => m.state === '' || m.state === 'READY').map((m) => m.name))];
  }

  async metadata(model: string): Promise<ModelInfo> {
    let res: Message;
    try {
      res = await this.control('ModelMetadata', { name: model });
    } catch (err) {
      if (err instanceof GrpcStatusError && (err.status === grpc.status.NOT_FOUND || err.status === grpc.status.INVALID_ARGUMENT)) {
        throw new BenchError('UNKNOWN_MODEL', `unknown model '${model}' at ${this.address} (ModelMetadata → ${err.code}: ${err.message})`);
      }
      throw err;
    }
    const tensors = (list: Message[]) => list.map((t) => ({ name: String(t['name']), datatype: String(t['datatype']), shape: (t['shape'] as string[]).map(Number) }));
    return { name: model, inputs: tensors(res['inputs']), outputs: tensors(res['outputs']) };
  }

  async prepare(model: string, requests: WireTensor[][]): Promise<() => Promise<void>> {
    const { path, requestSerialize } = this.methods['ModelInfer']!;
    const bodies = cycle(
      requests.map((inputs) =>
        frameMessage(requestSerialize({
          model_name: model,
          inputs: inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
          raw_input_contents: inputs.map((t) => tensorDataToBinary(t.datatype, t.data)),
        }) as Buffer),
      ),
    );
    const channel = cycle(this.channels);
    return async () => {
      let response: Buffer;
      try {
        response = await channel().unary(path, bodies(), this.timeoutMs);
      } catch (err) {
        if (err instanceof GrpcCallError) throw new GrpcStatusError(err.status, err.message);
        throw err;
      }
      // ModelInferResponse.outputs is field 5.
      if (!hasField(response, 5)) throw new BenchError('TARGET_ERROR', 'the ModelInfer response has no outputs');
    };
  }

  async serverCounters(models: string[]): Promise<ServerCounters | undefined> {
    const out: ServerCounters = { queueCount: 0, queueSeconds: 0, computeCount: 0, computeSeconds: 0 };
    for (const model of models) {
      let res: Message;
      try {
        res = await this.control('ModelStatistics', { name: model });
      } catch {
        return undefined;
      }
      for (const s of (res['model_stats'] ?? []) as Message[]) {
        const inf = s['inference_stats'] ?? {};
        out.queueCount += Number(inf.queue?.count ?? 0);
        out.queueSeconds += Number(inf.queue?.ns ?? 0) / 1e9;
        out.computeCount += Number(inf.compute_infer?.count ?? 0);
        out.computeSeconds += Number(inf.compute_infer?.ns ?? 0) / 1e9;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.client.close();
    for (const c of this.channels) c.close();
  }

  /** One control-plane call; an unreachable server is TARGET_UNAVAILABLE. */
  private control(method: string, request: Message): Promise<Message> {
    const m = this.methods[method]!;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize as (b: Buffer) => Message, request, new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
        (err, res) => {
          if (!err) return resolve(res ?? {});
          if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
            return reject(new BenchError('TARGET_UNAVAILABLE', `cannot reach ${this.address} over gRPC: ${err.details}`));
          }
          reject(new GrpcStatusError(err.code, err.details));
        });
    });
  }
}

function parseAddress(url: string): string {
  const m = /^(?:(?:grpc|http):\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/.exec(url);
  if (!m || Number(m[2]) > 65535) throw invalidArgument(`--url '${url}' is not a gRPC address (expected grpc://host:port or host:port)`);
  return `${m[1]}:${m[2]}`;
}
