/**
 * A forwarder thread: the executor of one native instance that stands for a remote replica. Loops like an
 * onnxruntime executor (take the next batch from the native batcher, blocking on this thread), but runs
 * the batch by sending it to the replica as one v2 binary request over a pooled keep-alive connection
 * (undici), and hands the replica's outputs back to the batcher, which answers each request.
 *
 * A batch the replica cannot take (connection refused or reset, timeout, 502/503/504) is retried once on
 * each other ready replica in turn before it fails; every such failure is reported for outlier detection.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';
import { loadAddon } from '../binding.js';
import type { ForwarderWorkerData, FromForwarder, ToForwarder } from './forwarder-protocol.js';
import { LOAD_REPORT_HEADER, parseLoadReport } from './load-report.js';
import { decodeBatchResponse, encodeBatchRequest } from './v2-client.js';
import type { NativeBatch } from '../binding.js';

const data = workerData as ForwarderWorkerData;
const port = parentPort!;
const post = (m: FromForwarder) => port.postMessage(m);
let fallbacks = data.fallbacks;
port.on('message', (m: ToForwarder) => {
  if (m.kind === 'fallbacks') fallbacks = m.urls;
});

const pools = new Map<string, Pool>();
const poolFor = (url: string): Pool => {
  let p = pools.get(url);
  if (!p) {
    p = new Pool(url, { connections: 2, pipelining: 1, keepAliveTimeout: 30_000 });
    pools.set(url, p);
  }
  return p;
};

/** An error worth trying another replica for: the batch was not (or may not have been) run. */
class ReplicaUnavailable extends Error {}

const path = `/v2/models/${encodeURIComponent(data.model)}/infer`;
let lastLoadPost = 0;
const failing = new Set<string>();

async function send(url: string, batch: NativeBatch): Promise<ReturnType<typeof decodeBatchResponse>> {
  const { headerLength, body } = encodeBatchRequest(data.inputs, data.outputs, batch);
  let res;
  try {
    res = await poolFor(url).request({
      path, method: 'POST', body,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
      headersTimeout: data.timeoutMs, bodyTimeout: data.timeoutMs,
    });
  } catch (err) {
    throw new ReplicaUnavailable(`${url}: ${(err as Error).message}`);
  }
  const raw = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) {
    const text = raw.toString('utf8').slice(0, 300);
    const message = `${url} answered ${res.statusCode}: ${text}`;
    if (res.statusCode === 502 || res.statusCode === 503 || res.statusCode === 504) throw new ReplicaUnavailable(message);
    throw new Error(message);
  }
  const report = parseLoadReport(res.headers[LOAD_REPORT_HEADER]);
  const now = performance.now();
  if (report && now - lastLoadPost > 50) {
    lastLoadPost = now;
    post({ kind: 'load', url, report });
  }
  const len = res.headers['inference-header-content-length'];
  return decodeBatchResponse(data.outputs, raw, len === undefined ? undefined : Number(len));
}

async function forward(batch: NativeBatch): Promise<ReturnType<typeof decodeBatchResponse>> {
  const targets = [data.url, ...fallbacks.filter((u) => u !== data.url)];
  let last: Error | undefined;
  for (const url of targets) {
    try {
      const out = await send(url, batch);
      if (failing.delete(url)) post({ kind: 'recovered', url });
      return out;
    } catch (err) {
      last = err as Error;
      failing.add(url);
      post({ kind: 'failed', url, message: last.message });
      if (!(err instanceof ReplicaUnavailable)) break;
    }
  }
  throw last ?? new Error('no replica');
}

async function main(): Promise<void> {
  const executor = new (loadAddon().NativeExecutor)(data.token);
  for (;;) {
    const batch = executor.next(50);
    if (batch === false) break;
    if (batch === null) {
      await new Promise((r) => setImmediate(r));  // let messages in while idle
      continue;
    }
    try {
      const outputs = await forward(batch);
      const error = executor.complete(batch.id, outputs);
      if (error) post({ kind: 'failed', url: data.url, message: `replica outputs refused: ${error}` });
    } catch (err) {
      executor.fail(batch.id, `replica: ${(err as Error).message}`);
    }
  }
  await Promise.all([...pools.values()].map((p) => p.close()));
  post({ kind: 'stopped' });
}

void main();
