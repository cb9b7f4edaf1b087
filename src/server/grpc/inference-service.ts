/**
 * The handlers of `inference.GRPCInferenceService`: the same runtime, validation and error codes as the
 * v2 REST routes (src/server/routes.ts), answered as protocol messages. Bearer auth reads the
 * `authorization` metadata; ServerLive and ServerReady are public like the HTTP health probes. Every
 * failure becomes a gRPC status through grpcStatusFor; a client cancel or deadline aborts the request
 * while it is still queued.
 */
import * as grpc from '@grpc/grpc-js';
import { InvalidInputError, UnknownModelError } from '../../errors.js';
import type { BearerAuth } from '../auth.js';
import type { Logger } from '../logger.js';
import { newestReadyVersion, parseVersion, validateModelName, type ModelControlMode } from '../routes.js';
import type { ServingRuntime } from '../serving-runtime.js';
import { tritonModelStats } from '../stats-json.js';
import { GrpcStatusError, toServiceError } from './grpc-status.js';
import {
  decodeModelInferRequest,
  encodeModelInferResponse,
  type ModelInferRequest,
  type ModelInferResponse,
} from './infer-messages.js';
import { modelConfigMessage } from './model-config-message.js';

export interface GrpcServiceContext {
  runtime: ServingRuntime;
  logger: Logger;
  modelControlMode: ModelControlMode;
  /** Absent: no authentication. */
  auth?: BearerAuth;
  serverVersion: string;
  /** True once shutdown began: ServerReady answers false. */
  isDraining(): boolean;
  /** Last inference time (ms since the epoch) by `name/version`, shared with the HTTP routes. */
  lastInference: Map<string, number>;
  /** Counts each answered request by method and status name (`serval_grpc_requests_total`). */
  metrics?: { countGrpcRequest(method: string, code: string): void };
}

const EXTENSIONS = ['schedule_policy', 'model_repository', 'statistics', 'model_configuration'];
const PUBLIC_METHODS = new Set(['ServerLive', 'ServerReady']);

type Message = Record<string, unknown>;
type Unary = (request: Message, call: grpc.ServerUnaryCall<Message, Message>) => Message | Promise<Message>;

/** The service implementation `grpc.Server.addService` takes. */
export function createInferenceService(ctx: GrpcServiceContext): grpc.UntypedServiceImplementation {
  const { runtime } = ctx;

  const requireKnown = (name: string, version?: number): void => {
    if (!runtime.models().some((m) => m.name === name && (version === undefined || m.version === version))) {
      throw new UnknownModelError(version === undefined ? `unknown model '${name}'` : `unknown model '${name}' version ${version}`);
    }
  };
  const modelVersion = (version: string): number | undefined => parseVersion(version === '' ? undefined : version);

  const infer = async (req: ModelInferRequest, signal: AbortSignal): Promise<ModelInferResponse> => {
    const name = validateModelName(req.model_name);
    const version = modelVersion(req.model_version);
    const decoded = decodeModelInferRequest(req);
    const options = { ...decoded.options, signal, ...(version !== undefined ? { version } : {}) };
    // infer() routes synchronously when called, so the newest ready version now is the one that serves it.
    const served = version ?? newestReadyVersion(runtime, name);
    const outputs = await runtime.infer(name, decoded.inputs, options);
    ctx.lastInference.set(`${name}/${served}`, Date.now());
    return encodeModelInferResponse(name, served, outputs, decoded);
  };

  const modelControl = async (req: Message, action: 'load' | 'unload'): Promise<Message> => {
    const name = validateModelName(String(req['model_name']));
    if (ctx.modelControlMode !== 'explicit') {
      throw new GrpcStatusError(
        grpc.status.FAILED_PRECONDITION,
        `explicit model ${action} is not allowed in model control mode '${ctx.modelControlMode}'; start serval with --model-control-mode explicit`,
      );
    }
    const unsupported = Object.keys(req['parameters'] as Message).filter((k) => k === 'config' || k.startsWith('file:'));
    if (unsupported.length > 0) {
      throw new InvalidInputError(`load parameters ${unsupported.join(', ')} are not supported: put the model in the repository`);
    }
    if (action === 'load') await runtime.loadModel(name);
    else await runtime.unloadModel(name);
    ctx.logger.info(`model ${action}ed`, { model: name, protocol: 'grpc' });
    return {};
  };

  const handlers: Record<string, Unary> = {
    ServerLive: () => ({ live: true }),
    ServerReady: () => ({ ready: !ctx.isDraining() && runtime.isReady() }),
    ServerMetadata: () => ({ name: 'serval', version: ctx.serverVersion, extensions: EXTENSIONS }),
    ModelReady: (req) => {
      const name = validateModelName(String(req['name']));
      const version = modelVersion(String(req['version']));
      requireKnown(name, version);
      return { ready: runtime.isReady(name, version) };
    },
    ModelMetadata: (req) => runtime.metadata(validateModelName(String(req['name'])), modelVersion(String(req['version']))) as never,
    ModelConfig: (req) => ({
      config: modelConfigMessage(runtime.config(validateModelName(String(req['name'])), modelVersion(String(req['version'])))),
    }),
    ModelStatistics: (req) => {
      const name = req['name'] === '' ? undefined : validateModelName(String(req['name']));
      const version = modelVersion(String(req['version']));
      if (name !== undefined) requireKnown(name, version);
      const selected = runtime.stats().models.filter(
        (m) => (name === undefined || m.name === name) && (version === undefined || m.version === version),
      );
      return { model_stats: selected.map((m) => tritonModelStats(m, ctx.lastInference.get(`${m.name}/${m.version}`) ?? 0)) };
    },
    RepositoryIndex: async (req) => {
      const entries = await runtime.repositoryIndex();
      return { models: req['ready'] === true ? entries.filter((e) => e.state === 'READY') : entries };
    },
    RepositoryModelLoad: (req) => modelControl(req, 'load'),
    RepositoryModelUnload: (req) => modelControl(req, 'unload'),
    ModelInfer: async (req, call) => {
      const cancel = abortOnCancel(call);
      try {
        return (await infer(req as unknown as ModelInferRequest, cancel.signal)) as unknown as Message;
      } finally {
        cancel.detach();
      }
    },
  };

  const service: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    service[method] = (call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
      void (async () => {
        let response: Message;
        try {
          if (!PUBLIC_METHODS.has(method)) authenticate(ctx, call.metadata);
          response = await handler(call.request, call);
        } catch (err) {
          const e = failure(ctx, method, err);
          ctx.metrics?.countGrpcRequest(method, grpc.status[e.code] ?? String(e.code));
          callback(e);
          return;
        }
        ctx.metrics?.countGrpcRequest(method, 'OK');
        // Outside the try: a response grpc-js cannot serialize is its INTERNAL, answered once.
        callback(null, response);
      })();
    };
  }
  service['ModelStreamInfer'] = (call: grpc.ServerDuplexStream<ModelInferRequest, Message>) => streamInfer(ctx, call, infer);
  return service;
}

/**
 * ModelStreamInfer: each request is answered when it completes (match answers by `id`); a failed request
 * answers `error_message` and the stream goes on. The stream ends after the client's half-close once
 * every request has been answered.
 */
function streamInfer(
  ctx: GrpcServiceContext,
  call: grpc.ServerDuplexStream<ModelInferRequest, Message>,
  infer: (req: ModelInferRequest, signal: AbortSignal) => Promise<ModelInferResponse>,
): void {
  const count = (code: grpc.status): void => ctx.metrics?.countGrpcRequest('ModelStreamInfer', grpc.status[code] ?? String(code));
  try {
    authenticate(ctx, call.metadata);
  } catch (err) {
    const e = failure(ctx, 'ModelStreamInfer', err);
    count(e.code);
    call.emit('error', e);
    return;
  }
  // One controller per request (a shared signal would collect one abort listener per queued request).
  const pending = new Set<AbortController>();
  call.on('cancelled', () => {
    for (const c of pending) c.abort();
  });
  let ended = false;
  const finishIfDone = (): void => {
    if (ended && pending.size === 0 && !call.cancelled) call.end();
  };
  call.on('data', (req: ModelInferRequest) => {
    const controller = new AbortController();
    if (call.cancelled) controller.abort();
    pending.add(controller);
    infer(req, controller.signal).then(
      (response) => {
        count(grpc.status.OK);
        return { error_message: '', infer_response: response };
      },
      (err: unknown) => {
        const e = failure(ctx, 'ModelStreamInfer', err);
        count(e.code);
        return { error_message: e.details, infer_response: { model_name: req.model_name, model_version: req.model_version, id: req.id } };
      },
    ).then((message) => {
      pending.delete(controller);
      if (!call.cancelled) call.write(message);
      finishIfDone();
    });
  });
  call.on('end', () => {
    ended = true;
    finishIfDone();
  });
}

function authenticate(ctx: GrpcServiceContext, metadata: grpc.Metadata): void {
  if (!ctx.auth) return;
  const value = metadata.get('authorization')[0];
  if (!ctx.auth.accepts(typeof value === 'string' ? value : undefined)) {
    throw new GrpcStatusError(grpc.status.UNAUTHENTICATED, 'missing or wrong bearer token (metadata "authorization: Bearer <token>")');
  }
}

interface CancellableCall {
  cancelled: boolean;
  on(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

/**
 * An AbortSignal that fires when the client cancels the call or its deadline passes; `detach` once the
 * answer is known (grpc-js also reports a call that ended normally as cancelled when its stream closes).
 */
function abortOnCancel(call: CancellableCall): { signal: AbortSignal; detach(): void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (call.cancelled) abort();
  else call.on('cancelled', abort);
  return { signal: controller.signal, detach: () => call.removeListener('cancelled', abort) };
}

function failure(ctx: GrpcServiceContext, method: string, err: unknown): grpc.ServiceError & { details: string } {
  const e = toServiceError(err);
  // UNAVAILABLE, RESOURCE_EXHAUSTED and DEADLINE_EXCEEDED are load shedding, not faults.
  if (e.code === grpc.status.INTERNAL || e.code === grpc.status.UNKNOWN) ctx.logger.warn('gRPC request failed', { method, err });
  return Object.assign(new Error(e.details), { code: e.code, details: e.details, metadata: new grpc.Metadata() });
}
