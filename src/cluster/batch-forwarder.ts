/**
 * BatchForwarder: sends a formed batch to a replica as one v2 binary request over pooled keep-alive undici
 * connections and returns the replica's outputs. A batch the replica cannot take (connection refused or
 * reset, timeout, 502/503/504) is retried once on each fallback replica in turn; every failure, the first
 * success after one, and the replicas' load reports (at most every 50 ms) are reported through `report`.
 * Used by forwarder threads (forwarder-worker.ts) and by the main-thread mode (main-thread-forwarding.ts).
 *
 * With `grpcPort` the batch goes over the replica's v2 gRPC API instead (ModelInfer with raw contents on
 * one HTTP/2 channel per replica, at the replica's host and that port); UNAVAILABLE and DEADLINE_EXCEEDED are
 * retried on the fallbacks. gRPC answers carry no load report.
 */
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'undici';
import { inferenceClientConstructor } from '../server/grpc/proto.js';
import { tensorDataFromBinary, tensorDataToBinary } from '../server/v2-tensor-data.js';
import type { NativeBatch } from '../binding.js';
import type { FromForwarder } from './forwarder-protocol.js';
import { LOAD_REPORT_HEADER, parseLoadReport } from './load-report.js';
import { decodeBatchResponse, encodeBatchRequest, type WireTensor } from './v2-client.js';

/** An error worth trying another replica for: the batch was not (or may not have been) run. */
class ReplicaUnavailable extends Error {}

export type BatchOutputs = ReturnType<typeof decodeBatchResponse>;

export class BatchForwarder {
  private readonly pools = new Map<string, Pool>();
  private readonly channels = new Map<string, grpc.Client & Record<string, (...args: unknown[]) => unknown>>();
  /** The replicas' gRPC port: batches go over gRPC. */
  grpcPort: number | undefined;
  private readonly failing = new Set<string>();
  private readonly path: string;
  private lastLoadReport = 0;
  fallbacks: string[] = [];

  constructor(
    private readonly model: string,
    private readonly inputs: WireTensor[],
    private readonly outputs: WireTensor[],
    private readonly timeoutMs: number,
    private readonly report: (m: FromForwarder) => void,
  ) {
    this.path = `/v2/models/${encodeURIComponent(model)}/infer`;
  }

  /** The batch's inputs are encoded before the first await: the caller may complete or fail it afterwards. */
  async forward(url: string, batch: NativeBatch): Promise<BatchOutputs> {
    const encoded = this.grpcPort === undefined ? encodeBatchRequest(this.inputs, this.outputs, batch) : undefined;
    const message = this.grpcPort === undefined ? undefined : this.grpcRequest(batch);
    const targets = [url, ...this.fallbacks.filter((u) => u !== url)];
    let last: Error | undefined;
    for (const target of targets) {
      try {
        const out = encoded ? await this.send(target, encoded.headerLength, encoded.body) : await this.sendGrpc(target, message!);
        if (this.failing.delete(target)) this.report({ kind: 'recovered', url: target });
        return out;
      } catch (err) {
        last = err as Error;
        this.failing.add(target);
        this.report({ kind: 'failed', url: target, message: last.message });
        if (!(err instanceof ReplicaUnavailable)) break;
      }
    }
    throw last ?? new Error('no replica');
  }

  async close(): Promise<void> {
    for (const c of this.channels.values()) c.close();
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }

  /** ModelInfer for the batch: raw little-endian contents (BYTES length-prefixed), the masked outputs. */
  private grpcRequest(batch: NativeBatch): Record<string, unknown> {
    return {
      model_name: this.model,
      inputs: this.inputs.map((spec, i) => ({ name: spec.name, datatype: spec.datatype, shape: batch.inputs[i]!.dims })),
      outputs: this.outputs.filter((_, i) => Math.floor(batch.outputMask / 2 ** i) % 2 === 1).map((o) => ({ name: o.name })),
      // Copied: the batch's staging memory is reused once it completes, and grpc-js serialises later.
      raw_input_contents: this.inputs.map((spec, i) => Buffer.from(tensorDataToBinary(spec.datatype, batch.inputs[i]!.data as never))),
    };
  }

  private sendGrpc(url: string, request: Record<string, unknown>): Promise<BatchOutputs> {
    const host = new URL(url).hostname;
    const address = `${host}:${this.grpcPort}`;
    let client = this.channels.get(address);
    if (!client) {
      const Client = inferenceClientConstructor();
      client = new Client(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
      this.channels.set(address, client);
    }
    return new Promise((resolve, reject) => {
      client.ModelInfer!(request, { deadline: Date.now() + this.timeoutMs }, (err: grpc.ServiceError | null, res: Record<string, any>) => {
        if (err) {
          const message = `${address} (gRPC): ${err.details || err.message}`;
          const retry = err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED;
          reject(retry ? new ReplicaUnavailable(message) : new Error(message));
          return;
        }
        try {
          const out: BatchOutputs = this.outputs.map(() => undefined);
          (res['outputs'] as { name: string; shape: string[] }[]).forEach((o, k) => {
            const i = this.outputs.findIndex((s) => s.name === o.name);
            if (i < 0) throw new Error(`replica response: unexpected output '${o.name}'`);
            const dims = o.shape.map(Number);
            const raw = res['raw_output_contents'][k] as Buffer;
            out[i] = { data: tensorDataFromBinary(this.outputs[i]!.datatype, raw, dims.reduce((a, b) => a * b, 1), `replica output '${o.name}'`), dims };
          });
          resolve(out);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
  }

  private pool(url: string): Pool {
    let p = this.pools.get(url);
    if (!p) {
      p = new Pool(url, { connections: 2, pipelining: 1, keepAliveTimeout: 30_000 });
      this.pools.set(url, p);
    }
    return p;
  }

  private async send(url: string, headerLength: number, body: Buffer): Promise<BatchOutputs> {
    let res;
    try {
      res = await this.pool(url).request({
        path: this.path, method: 'POST', body,
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
        headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs,
      });
    } catch (err) {
      throw new ReplicaUnavailable(`${url}: ${(err as Error).message}`);
    }
    const raw = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) {
      const message = `${url} answered ${res.statusCode}: ${raw.toString('utf8').slice(0, 300)}`;
      if (res.statusCode === 502 || res.statusCode === 503 || res.statusCode === 504) throw new ReplicaUnavailable(message);
      throw new Error(message);
    }
    const load = parseLoadReport(res.headers[LOAD_REPORT_HEADER]);
    const now = performance.now();
    if (load && now - this.lastLoadReport > 50) {
      this.lastLoadReport = now;
      this.report({ kind: 'load', url, report: load });
    }
    const len = res.headers['inference-header-content-length'];
    return decodeBatchResponse(this.outputs, raw, len === undefined ? undefined : Number(len));
  }
}
