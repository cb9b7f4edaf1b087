/**
 * BatchForwarder: sends a formed batch to a replica as one v2 binary request over pooled keep-alive undici
 * connections and returns the replica's outputs. A batch the replica cannot take (connection refused or
 * reset, timeout, 502/503/504) is retried once on each fallback replica in turn; every failure, the first
 * success after one, and the replicas' load reports (at most every 50 ms) are reported through `report`.
 * Used by forwarder threads (forwarder-worker.ts) and by the main-thread mode (main-thread-forwarding.ts).
 */
import { Pool } from 'undici';
import type { NativeBatch } from '../binding.js';
import type { FromForwarder } from './forwarder-protocol.js';
import { LOAD_REPORT_HEADER, parseLoadReport } from './load-report.js';
import { decodeBatchResponse, encodeBatchRequest, type WireTensor } from './v2-client.js';

/** An error worth trying another replica for: the batch was not (or may not have been) run. */
class ReplicaUnavailable extends Error {}

export type BatchOutputs = ReturnType<typeof decodeBatchResponse>;

export class BatchForwarder {
  private readonly pools = new Map<string, Pool>();
  private readonly failing = new Set<string>();
  private readonly path: string;
  private lastLoadReport = 0;
  fallbacks: string[] = [];

  constructor(
    model: string,
    private readonly inputs: WireTensor[],
    private readonly outputs: WireTensor[],
    private readonly timeoutMs: number,
    private readonly report: (m: FromForwarder) => void,
  ) {
    this.path = `/v2/models/${encodeURIComponent(model)}/infer`;
  }

  /** The batch's inputs are encoded before the first await: the caller may complete or fail it afterwards. */
  async forward(url: string, batch: NativeBatch): Promise<BatchOutputs> {
    const encoded = encodeBatchRequest(this.inputs, this.outputs, batch);
    const targets = [url, ...this.fallbacks.filter((u) => u !== url)];
    let last: Error | undefined;
    for (const target of targets) {
      try {
        const out = await this.send(target, encoded.headerLength, encoded.body);
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
    await Promise.all([...this.pools.values()].map((p) => p.close()));
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
