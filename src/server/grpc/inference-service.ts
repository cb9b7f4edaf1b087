/**
 * The handlers of `inference.GRPCInferenceService`: the same runtime, validation and error codes as the
 * v2 REST routes (src/server/routes.ts), answered as protocol messages. Bearer auth reads the
 * `authorization` metadata; ServerLive and ServerReady are public like the HTTP health probes. Every
 * failure becomes a gRPC status through grpcStatusFor; a client cancel or deadline aborts the request
 * while it is still queued.
 */
import * as grpc from '@grpc/grpc-js';
import { InvalidInputError, UnknownModelError } from '../../errors.js';
import { parseVersion, validateModelName } from '../routes.js';
import type { RequestHandle } from '../../api-types.js';
import { tritonModelStats } from '../stats-json.js';
import { abortOnCancel, authenticate, failure, type GrpcServiceContext } from './grpc-calls.js';
import { GrpcStatusError } from './grpc-status.js';
import {
  decodeModelInferRequest,
  encodeModelInferResponse,
  type ModelInferRequest,
  type ModelInferResponse,
} from './infer-messages.js';
import { InferStreams } from './infer-streams.js';
import { modelConfigMessage } from './model-config-message.js';

export type { GrpcServiceContext } from './grpc-calls.js';

export interface InferenceService {
  /** What `grpc.Server.addService` takes. */
  implementation: grpc.UntypedServiceImplementation;
  /** At shutdown: open ModelStreamInfer streams take no more requests and end once theirs are answered. */
  endStreams(): void;
}


const EXTENSIONS = ['schedule_policy', 'model_repository', 'statistics', 'model_configuration'];
const PUBLIC_METHODS = new Set(['ServerLive', 'ServerReady']);

type Message = Record<string, unknown>;
type Unary = (request: Message, call: grpc.ServerUnaryCall<Message, Message>) => Message | Promise<Message>;

export function createInferenceService(ctx: GrpcServiceContext): InferenceService {
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
    const handle: RequestHandle = {};
    const options = { ...decoded.options, signal, handle, ...(version !== undefined ? { version } : {}), ...(req.id ? { requestId: req.id } : {}) };
    const outputs = await runtime.infer(name, decoded.inputs, options);
    // The runtime says which version served the request (set when it was queued).
    const served = handle.version ?? version ?? '';
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
  const streams = new InferStreams(ctx, infer);
  service['ModelStreamInfer'] = streams.handle;
  return { implementation: service, endStreams: () => streams.endAll() };
}
