/**
 * ModelStreamInfer: a bidirectional stream of ModelInfer requests. Each request is answered when it
 * completes (so answers may come out of order: clients match them by `id`); a failed request answers
 * `error_message` and the stream goes on. A stream ends after the client's half-close once every request
 * has been answered, or, at shutdown, after the requests it already took: later ones are answered
 * "shutting down", so an idle open stream never holds up a drain.
 */
import * as grpc from '@grpc/grpc-js';
import { ClosedError } from '../../errors.js';
import { authenticate, failure, type GrpcServiceContext } from './grpc-calls.js';
import type { ModelInferRequest, ModelInferResponse } from './infer-messages.js';

type Infer = (req: ModelInferRequest, signal: AbortSignal) => Promise<ModelInferResponse>;
type Call = grpc.ServerDuplexStream<ModelInferRequest, Record<string, unknown>>;

export class InferStreams {
  /** Stops an open stream from taking requests. */
  private readonly open = new Set<() => void>();
  private closing = false;

  constructor(private readonly ctx: GrpcServiceContext, private readonly infer: Infer) {}

  /** At shutdown: every open stream takes no more requests and ends once its own are answered. */
  endAll(): void {
    this.closing = true;
    for (const stop of this.open) stop();
  }

  /** The ModelStreamInfer handler. */
  readonly handle = (call: Call): void => {
    const count = (code: grpc.status): void => this.ctx.metrics?.countGrpcRequest('ModelStreamInfer', grpc.status[code] ?? String(code));
    try {
      authenticate(this.ctx, call.metadata);
    } catch (err) {
      const e = failure(this.ctx, 'ModelStreamInfer', err);
      count(e.code);
      call.emit('error', e);
      return;
    }
    // One controller per request (a shared signal would collect one abort listener per queued request).
    const pending = new Set<AbortController>();
    let taking = !this.closing;
    let ended = false;
    const finishIfDone = (): void => {
      if ((ended || !taking) && pending.size === 0 && !call.cancelled) {
        this.open.delete(stop);
        call.end();
      }
    };
    const stop = (): void => {
      taking = false;
      finishIfDone();
    };
    this.open.add(stop);
    call.on('cancelled', () => {
      this.open.delete(stop);
      for (const c of pending) c.abort();
    });
    call.on('data', (req: ModelInferRequest) => {
      const controller = new AbortController();
      if (call.cancelled) controller.abort();
      pending.add(controller);
      const answer = taking ? this.infer(req, controller.signal) : Promise.reject(new ClosedError('the server is shutting down'));
      answer.then(
        (response) => {
          count(grpc.status.OK);
          return { error_message: '', infer_response: response };
        },
        (err: unknown) => {
          const e = failure(this.ctx, 'ModelStreamInfer', err);
          count(e.code);
          return { error_message: e.details, infer_response: { model_name: req.model_name, model_version: req.model_version, id: req.id } };
        },
      ).then((message) => {
        pending.delete(controller);
        if (!call.cancelled && call.writable) call.write(message);
        finishIfDone();
      });
    });
    call.on('end', () => {
      ended = true;
      finishIfDone();
    });
    finishIfDone();
  };
}
