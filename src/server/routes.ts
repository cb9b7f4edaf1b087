/**
 * The Open Inference Protocol v2 REST surface of `serval serve` (plus Triton's repository,
 * statistics and model-configuration extensions, and `/metrics`). Every handler error becomes
 * `{"error": "..."}` with the status `httpStatusFor(err.code)` gives; nothing a client sends can
 * crash the server or leave a request unanswered.
 */
import type { TensorMetadata } from '../api-types.js';
import { realpathSync } from 'node:fs';
import { httpStatusFor, InvalidArgumentError, InvalidInputError, redactPaths, ServalError, UnknownModelError } from '../errors.js';
import type { BearerAuth } from './auth.js';
import { isPublicPath } from './auth.js';
import { errorResponse, jsonResponse, type IncomingRequest, type OutgoingResponse, type RequestHandler } from './http-transport.js';
import type { Logger } from './logger.js';
import type { ServerMetrics } from './metrics.js';
import { tritonModelConfig } from './model-config-json.js';
import { isRouteMatch, Router, type RouteHandler } from './router.js';
import { explainedInferRoute, explainRoute } from '../explain/explain-route.js';
import type { ServingRuntime } from './serving-runtime.js';
import { tritonModelStats } from './stats-json.js';
import { addRolloutRoutes, runsRollouts } from '../rollout/rollout-routes.js';
import { decodeInferRequest, encodeInferResponse, parseHeaderLength, parseJsonObject, type DecodedInferRequest } from './v2-codec.js';
import { LOAD_REPORT_HEADER, LoadReporter } from '../cluster/load-report.js';

export type ModelControlMode = 'none' | 'poll' | 'explicit';

export interface RoutesContext {
  runtime: ServingRuntime;
  metrics: ServerMetrics;
  logger: Logger;
  modelControlMode: ModelControlMode;
  /** Absent: no authentication. */
  auth?: BearerAuth;
  serverVersion: string;
  /** True once shutdown began: readiness turns false. */
  isDraining(): boolean;
  /** Ready only while every requested model is ready (Triton's strict readiness). @default true */
  strictReadiness?: boolean;
  /** Last inference time (ms since the epoch) by `name/version`; shared with the gRPC service. */
  lastInference?: Map<string, number>;
}

const EXTENSIONS = ['binary_tensor_data', 'schedule_policy', 'model_repository', 'statistics', 'model_configuration'];

const MODEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

/** A model name from a URL: letters, digits, `_`, `-`, `.`; never a path (no `/`, no `..`). */
export function validateModelName(name: string): string {
  if (!MODEL_NAME.test(name) || name.includes('..')) {
    throw new InvalidArgumentError(`invalid model name ${JSON.stringify(name)}: use letters, digits, '_', '-' and '.'`);
  }
  return name;
}

export function parseVersion(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]{0,15}$/.test(v)) throw new InvalidArgumentError(`invalid model version ${JSON.stringify(v)}: expected a positive integer`);
  return Number(v);
}

/** Builds the request handler: auth, routing, error mapping and the HTTP request counter. */
export function createRoutes(ctx: RoutesContext): RequestHandler {
  const router = buildRouter(ctx);
  const roots = repositoryRoots(ctx.runtime);
  const redact = (message: string): string => redactPaths(message, roots);
  const failed = (req: IncomingRequest, err: unknown): OutgoingResponse => routeError(err, req, ctx.logger, redact);
  return (req) => {
    if (ctx.auth && !isPublicPath(req.path) && !ctx.auth.accepts(req.headers['authorization'])) {
      const res = errorResponse(401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
      ctx.metrics.countHttpRequest('unmatched', req.method, res.status);
      return res;
    }
    const m = router.match(req.method, req.path);
    if (!isRouteMatch(m)) {
      ctx.metrics.countHttpRequest('unmatched', req.method, m.status);
      return m;
    }
    const route = m.pattern;
    const counted = (res: OutgoingResponse): OutgoingResponse => {
      ctx.metrics.countHttpRequest(route, req.method, res.status);
      return res;
    };
    let out: OutgoingResponse | Promise<OutgoingResponse>;
    try {
      out = m.handler(req, m.params);
    } catch (err) {
      return counted(failed(req, err));
    }
    if (out instanceof Promise) return out.then(counted, (err: unknown) => counted(failed(req, err)));
    return counted(out);
  };
}

/** A route's error as its status and `{error}`, with `redact` applied to the text clients see. */
export function routeError(err: unknown, req: IncomingRequest, logger: Logger, redact: (message: string) => string): OutgoingResponse {
  if (err instanceof ServalError) {
    const status = httpStatusFor(err.code);
    // 503s (queue full, timeout, closing) are load shedding, not faults: the metrics count them.
    if (status >= 500 && status !== 503) logger.warn('request failed', { path: req.path, code: err.code, err });
    // A shed request may be retried: say when (whole seconds, RFC 9110), as 503s conventionally do too.
    return errorResponse(status, redact(err.message), err.code === 'SHED' ? { 'retry-after': '1' } : undefined);
  }
  logger.error('unexpected error in route', { method: req.method, path: req.path, err });
  return errorResponse(500, redact(`internal error: ${(err as Error)?.message ?? String(err)}`));
}

/** The repository root as given and as resolved (symlinks), for `redactPaths`. */
export function repositoryRoots(runtime: ServingRuntime): string[] {
  const root = runtime.repository?.root;
  if (!root) return [];
  try {
    const real = realpathSync(root);
    return real === root ? [root] : [root, real];
  } catch {
    return [root];
  }
}

function buildRouter(ctx: RoutesContext): Router {
  const { runtime } = ctx;
  const router = new Router();
  const lastInference = ctx.lastInference ?? new Map<string, number>();
  // Replicas (runtimes that profile their own instances) report their load with every inference answer.
  const loadReporter = runtime.profileOf ? new LoadReporter(runtime) : undefined;

  /** Throws UnknownModelError unless the model (version) is known to the runtime. */
  const requireKnown = (name: string, version?: number): void => {
    const known = runtime.models().some((m) => m.name === name && (version === undefined || m.version === version));
    if (!known) {
      throw new UnknownModelError(version === undefined ? `unknown model '${name}'` : `unknown model '${name}' version ${version}`);
    }
  };

  const metadata: RouteHandler = (_req, p) => {
    const name = validateModelName(p['model']!);
    return jsonResponse(200, runtime.metadata(name, parseVersion(p['version'])));
  };
  const ready: RouteHandler = (_req, p) => {
    const name = validateModelName(p['model']!);
    const version = parseVersion(p['version']);
    requireKnown(name, version);
    const ok = runtime.isReady(name, version);
    return jsonResponse(ok ? 200 : 503, { name, ready: ok });
  };
  const config: RouteHandler = (_req, p) => {
    const name = validateModelName(p['model']!);
    return jsonResponse(200, tritonModelConfig(runtime.config(name, parseVersion(p['version']))));
  };
  const stats: RouteHandler = (_req, p) => {
    const name = p['model'] === undefined ? undefined : validateModelName(p['model']);
    const version = parseVersion(p['version']);
    if (name !== undefined) requireKnown(name, version);
    const selected = runtime.stats().models.filter(
      (m) => (name === undefined || m.name === name) && (version === undefined || m.version === version),
    );
    return jsonResponse(200, {
      model_stats: selected.map((m) => tritonModelStats(m, lastInference.get(`${m.name}/${m.version}`) ?? 0)),
    });
  };
  const infer: RouteHandler = async (req, p) => {
    const name = validateModelName(p['model']!);
    const version = parseVersion(p['version']);
    const decoded = decodeInfer(req, name, () => runtime.metadata(name, version).inputs);
    const options = decoded.options;
    if (version !== undefined) options.version = version;
    if (decoded.explain) {
      const explained = await explainedInferRoute(runtime, req, name, version ?? '', decoded, options);
      lastInference.set(`${name}/${req.handle.version ?? version ?? ''}`, Date.now());
      return explained;
    }
    const outputs = await runtime.infer(name, decoded.inputs, options);
    // The runtime says which version served the request (set when it was queued).
    const served = req.handle.version ?? version ?? '';
    lastInference.set(`${name}/${served}`, Date.now());
    const { headers, body } = encodeInferResponse(name, served, outputs, decoded.plan);
    if (loadReporter) headers[LOAD_REPORT_HEADER] = loadReporter.header();
    return { status: 200, headers, body };
  };

  router
    .add('GET', '/v2', () =>
      jsonResponse(200, { name: 'serval', version: ctx.serverVersion, extensions: EXTENSIONS }),
    )
    .add('GET', '/v2/health/live', () => jsonResponse(200, { live: true }))
    .add('GET', '/v2/health/ready', () => {
      const ok = !ctx.isDraining() && (ctx.strictReadiness === false || runtime.isReady());
      return jsonResponse(ok ? 200 : 503, { ready: ok });
    })
    .add('GET', '/metrics', async () => ({
      status: 200,
      headers: { 'content-type': ctx.metrics.contentType },
      body: await ctx.metrics.render(),
    }))
    .add('GET', '/v2/models/stats', stats)
    .add('POST', '/v2/repository/index', async (req) => {
      const body = req.body.byteLength > 0 ? parseJsonObject(req.body) : {};
      if (body['ready'] !== undefined && typeof body['ready'] !== 'boolean') throw new InvalidInputError('"ready" must be true or false');
      const roots = repositoryRoots(runtime);
      const entries = (await runtime.repositoryIndex()).map((e) => (e.reason ? { ...e, reason: redactPaths(e.reason, roots) } : e));
      return jsonResponse(200, body['ready'] === true ? entries.filter((e) => e.state === 'READY') : entries);
    })
    .add('POST', '/v2/repository/models/:model/load', (req, p) => modelControl(ctx, req, p, 'load'))
    .add('POST', '/v2/repository/models/:model/unload', (req, p) => modelControl(ctx, req, p, 'unload'));
  if (runsRollouts(runtime)) addRolloutRoutes(router, runtime, ctx.logger, validateModelName);
  for (const prefix of ['/v2/models/:model', '/v2/models/:model/versions/:version']) {
    router
      .add('GET', prefix, metadata)
      .add('GET', `${prefix}/ready`, ready)
      .add('GET', `${prefix}/config`, config)
      .add('GET', `${prefix}/stats`, stats)
      .add('POST', `${prefix}/infer`, infer)
      .add('POST', `${prefix}/explain`, (req, p) => explainRoute(runtime, req, validateModelName(p['model']!), parseVersion(p['version'])));
  }
  return router;
}

async function modelControl(
  ctx: RoutesContext,
  req: IncomingRequest,
  p: Record<string, string>,
  action: 'load' | 'unload',
): Promise<OutgoingResponse> {
  const name = validateModelName(p['model']!);
  if (ctx.modelControlMode !== 'explicit') {
    return errorResponse(
      403,
      `explicit model ${action} is not allowed in model control mode '${ctx.modelControlMode}'; start serval with --model-control-mode explicit`,
    );
  }
  const body = req.body.byteLength > 0 ? parseJsonObject(req.body) : {};
  const params = body['parameters'];
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    throw new InvalidInputError('"parameters" must be an object');
  }
  const unsupported = Object.keys(params ?? {}).filter((k) => k === 'config' || k.startsWith('file:'));
  if (unsupported.length > 0) {
    throw new InvalidInputError(`load parameters ${unsupported.join(', ')} are not supported: put the model in the repository`);
  }
  if (action === 'load') await ctx.runtime.loadModel(name);
  else await ctx.runtime.unloadModel(name);
  ctx.logger.info(`model ${action}ed`, { model: name });
  return { status: 200 };
}

/**
 * An infer request's body decoded (JSON or the binary extension) into inputs, options and the response plan,
 * with the transport's handle and the request id in its options: the v2 infer route's first step, shared with
 * the HTTP threads (src/server/http-thread-worker.ts). `inputs` is read only for a raw binary body.
 */
export function decodeInfer(req: IncomingRequest, model: string, inputs: () => TensorMetadata[]): DecodedInferRequest {
  const headerLength = parseHeaderLength(req.headers['inference-header-content-length'], req.body.byteLength);
  const decoded = decodeInferRequest(req.body, headerLength, () => singleInput(inputs(), model));
  decoded.options.handle = req.handle;
  if (decoded.plan.id) decoded.options.requestId = decoded.plan.id;
  return decoded;
}

function singleInput(inputs: TensorMetadata[], model: string): TensorMetadata {
  if (inputs.length !== 1) {
    throw new InvalidInputError(`a raw binary request needs a model with one input; '${model}' has ${inputs.length}`);
  }
  return inputs[0]!;
}
