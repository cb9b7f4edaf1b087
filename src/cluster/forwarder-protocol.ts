/** Messages between a RemoteModel generation (main thread) and its forwarder threads. */
import type { LoadReport } from './load-report.js';
import type { WireTensor } from './v2-client.js';

export interface ForwarderWorkerData {
  /** The native instance's executor token (NativeExecutor). */
  token: number;
  /** The replica this instance stands for: base URL and model path. */
  url: string;
  model: string;
  inputs: WireTensor[];
  outputs: WireTensor[];
  timeoutMs: number;
  /** The replicas' gRPC port when batches go over gRPC. */
  grpcPort?: number;
  /** Other ready replicas, tried in turn when this one cannot take a batch. */
  fallbacks: string[];
}

export type ToForwarder = { kind: 'fallbacks'; urls: string[] };

export type FromForwarder =
  /** A batch failed on `url` (connection, timeout or 5xx): outlier detection counts it. */
  | { kind: 'failed'; url: string; message: string }
  /** The first success on `url` after a failure. */
  | { kind: 'recovered'; url: string }
  /** The replica's latest load report (at most every 50 ms). */
  | { kind: 'load'; url: string; report: LoadReport }
  | { kind: 'stopped' };
