/**
 * Messages between the main thread and its HTTP threads (`serval serve --http-threads N`,
 * src/server/threaded-transport.ts and src/server/http-thread-worker.ts).
 *
 * An HTTP thread answers inference requests to the models the main thread publishes in `table` itself,
 * straight into the main thread's native schedulers (native/binding/front_end_wrap.h). Everything else
 * (control, metadata, metrics, health, explanations, ensembles, models behind a rollout, a cache or an audit
 * trail, and any request a published model refuses as closed) goes to the main thread as a `request`, and
 * its `response` comes back.
 */
import type { FrontEndModel } from '../model/front-end-model.js';
import type { LogFields, LogLevel } from './logger.js';

export type { FrontEndModel };

export interface HttpThreadData {
  /** 1..N-1 (0 is the main thread); also its request id space (src/model/native-enqueue.ts). */
  index: number;
  host: string;
  port: number;
  limits: { maxBodyBytes: number; maxJsonBodyBytes: number; maxBufferedBodyBytes: number; bodyTimeoutMs: number };
  /** SHA-256 of the bearer token, when the server requires one (src/server/auth.ts). */
  authDigest?: Uint8Array;
  /** Redacted from error messages sent to clients (the repository root, as given and resolved). */
  repositoryRoots: string[];
  statusCodes: string[];
}

export type ToHttpThread =
  | { kind: 'table'; models: FrontEndModel[] }
  | { kind: 'load-report'; header: string | undefined }
  | { kind: 'response'; id: number; status: number; headers?: Record<string, string>; body?: string | Uint8Array }
  | { kind: 'stop-listening' }
  | { kind: 'close-after-response' }
  | { kind: 'when-idle'; ask: number; timeoutMs: number }
  | { kind: 'close'; ask: number }
  /** Test hook (ThreadedHttpTransport.crashThread): the thread exits at once, as a crash would end it. */
  | { kind: 'crash' };

export type FromHttpThread =
  | { kind: 'listening' }
  | { kind: 'listen-failed'; message: string }
  | { kind: 'request'; id: number; method: string; path: string; query: string; headers: Record<string, string>; body: ArrayBuffer }
  | { kind: 'abort'; id: number }
  /** HTTP requests it answered itself, by `route method status`; last inference time (ms) by `model/version`. */
  | { kind: 'counts'; http: [string, number][]; last: [string, number][] }
  | { kind: 'log'; level: LogLevel; msg: string; fields?: LogFields }
  | { kind: 'idle'; ask: number; ok: boolean }
  | { kind: 'closed'; ask: number };
