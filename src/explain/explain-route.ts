/**
 * The HTTP side of explanations: KServe's explain verb `POST /v2/models/{m}[/versions/{v}]/explain` (a v2
 * inference request in, `{model_name, model_version, id, explanations: [...]}` out), and an infer request
 * with `parameters.explain: true`, answered with its outputs plus `explanation` (or `explanation_error`).
 * Options: parameters `explain_samples`, `explain_deadline_ms`, `explain_output`, `explain_output_index`,
 * `explain_seed`, and a top-level `explain_background` array of rows.
 */
import type { InferOptions } from '../api-types.js';
import { InvalidInputError } from '../errors.js';
import { jsonResponse, type IncomingRequest, type OutgoingResponse } from '../server/http-transport.js';
import type { ServingRuntime } from '../server/serving-runtime.js';
import { decodeInferRequest, encodeInferResponse, parseHeaderLength, parseJsonObject, type DecodedInferRequest } from '../server/v2-codec.js';
import type { Explanation, ExplainOptions } from './explain-options.js';
import type { ExplainedInference } from './explained-infer.js';

const INTEGER_PARAMETERS: [string, keyof ExplainOptions][] = [
  ['explain_samples', 'samples'], ['explain_deadline_ms', 'deadlineMs'], ['explain_output_index', 'outputIndex'], ['explain_seed', 'seed'],
];

/** Explain options from a v2 request's JSON part; a malformed one is an InvalidInputError naming it. */
export function explainOptionsFrom(json: Record<string, unknown>): ExplainOptions {
  const params = (json['parameters'] ?? {}) as Record<string, unknown>;
  const o: Record<string, unknown> = {};
  for (const [key, option] of INTEGER_PARAMETERS) {
    const v = params[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidInputError(`parameter "${key}" must be a non-negative integer`);
    o[option] = v;
  }
  if (params['explain_output'] !== undefined) {
    if (typeof params['explain_output'] !== 'string') throw new InvalidInputError('parameter "explain_output" must be an output name');
    o['output'] = params['explain_output'];
  }
  const bg = json['explain_background'];
  if (bg !== undefined) {
    if (!Array.isArray(bg) || !bg.every((r) => Array.isArray(r))) throw new InvalidInputError('"explain_background" must be an array of rows (arrays of numbers)');
    o['background'] = bg;
  }
  return o as ExplainOptions;
}

/** The explanation as the wire carries it (snake_case, like the rest of the v2 protocol). */
export function explanationJson(e: Explanation): Record<string, unknown> {
  return {
    method: e.method, output: e.output, output_index: e.outputIndex, prediction: e.prediction, baseline: e.baseline,
    attributions: e.attributions, additivity_error: e.additivityError, ...(e.standardError ? { standard_error: e.standardError } : {}),
    budget: {
      samples: e.budget.samples, evaluations: e.budget.evaluations, permutations: e.budget.permutations,
      deadline_ms: e.budget.deadlineMs, elapsed_ms: e.budget.elapsedMs, truncated: e.budget.truncated,
    },
    background: e.background,
  };
}

/** The request's JSON part (parsed again for the explain fields: explanations cost far more than a parse). */
function jsonPart(req: IncomingRequest): { headerLength: number | undefined; json: Record<string, unknown> } {
  const headerLength = parseHeaderLength(req.headers['inference-header-content-length'], req.body.byteLength);
  if (headerLength === 0) throw new InvalidInputError('explain needs a JSON request (a raw binary body carries no parameters)');
  return { headerLength, json: parseJsonObject(headerLength === undefined ? req.body : req.body.subarray(0, headerLength)) };
}

/** `POST .../explain`. */
export async function explainRoute(runtime: ServingRuntime, req: IncomingRequest, model: string, version: number | undefined): Promise<OutgoingResponse> {
  if (!runtime.explain) return jsonResponse(501, { error: 'this runtime does not explain' });
  const { headerLength, json } = jsonPart(req);
  const decoded = decodeInferRequest(req.body, headerLength);
  const e = await runtime.explain(model, decoded.inputs, { ...explainOptionsFrom(json), ...(version !== undefined ? { version } : {}) });
  return jsonResponse(200, {
    model_name: model, model_version: String(e.version), ...(decoded.plan.id !== undefined ? { id: decoded.plan.id } : {}),
    explanations: [explanationJson(e)],
  });
}

/** An infer with `parameters.explain: true`: the usual response with `explanation` (or `explanation_error`) added to its JSON part. */
export async function explainedInferRoute(
  runtime: ServingRuntime, req: IncomingRequest, model: string, served: number | string, decoded: DecodedInferRequest, options: InferOptions,
): Promise<OutgoingResponse> {
  if (!runtime.inferExplained) return jsonResponse(501, { error: 'this runtime does not explain' });
  const { json } = jsonPart(req);
  const r: ExplainedInference = await runtime.inferExplained(model, decoded.inputs, options, explainOptionsFrom(json));
  // The version that answered (the runtime names it in the request's handle), else the one the route asked for.
  const encoded = encodeInferResponse(model, options.handle?.version ?? served, r.outputs, decoded.plan);
  const headers = encoded.headers;
  const body = typeof encoded.body === 'string' ? Buffer.from(encoded.body) : encoded.body;
  const extra = r.explanation ? { explanation: explanationJson(r.explanation) } : { explanation_error: r.explanationError };
  const headerLength = headers['inference-header-content-length'] ? Number(headers['inference-header-content-length']) : body.byteLength;
  // The JSON part ends with its closing brace: the explanation goes in just before it.
  const json2 = Buffer.from(body.subarray(0, headerLength - 1).toString('utf8') + `,${JSON.stringify(extra).slice(1)}`);
  const out = Buffer.concat([json2, body.subarray(headerLength)]);
  if (headers['inference-header-content-length']) headers['inference-header-content-length'] = String(json2.byteLength);
  return { status: 200, headers, body: out };
}
