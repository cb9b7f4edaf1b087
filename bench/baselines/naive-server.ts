#!/usr/bin/env node
/**
 * Baseline for the `http` benchmark: the naive way to serve ONNX over HTTP from Node. `node:http`, one
 * onnxruntime-node session per model (one intra-op thread), one `session.run` per request: no batching, no
 * queue, no worker threads. It speaks the same Open Inference Protocol v2 subset the harness drives
 * (`GET /v2/models/{m}`, `POST /v2/models/{m}/infer` with JSON or binary tensor bodies, `GET /v2/health/ready`,
 * `POST /v2/repository/index`) and decodes and encodes bodies with serval's own codec, so a comparison with
 * `serval serve` measures serving, not JSON parsing.
 *
 *   node dist/bench/baselines/naive-server.js --model-repository models [--model fraud_mlp] [--port 0]
 *
 * Prints `naive-server listening on http://127.0.0.1:PORT` once it accepts requests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { InferOutputs, OutputTensor } from '../../src/api-types.js';
import { fromOrtType, toOrtType } from '../../src/dtypes.js';
import { httpStatusFor, ServalError } from '../../src/errors.js';
import { decodeInferRequest, encodeInferResponse, parseHeaderLength } from '../../src/server/v2-codec.js';
import { listRepositoryModels, loadOrtModel, type OrtModel } from './ort-models.js';

export interface NaiveServerOptions {
  modelRepository: string;
  /** @default every model in the repository */
  models?: string[];
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

export interface NaiveServer {
  url: string;
  close(): Promise<void>;
}

export async function startNaiveServer(options: NaiveServerOptions): Promise<NaiveServer> {
  const names = options.models ?? (await listRepositoryModels(options.modelRepository));
  const models = new Map<string, OrtModel>();
  for (const name of names) models.set(name, await loadOrtModel(options.modelRepository, name, 1));

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(models, req, Buffer.concat(chunks), res).catch((err: unknown) => sendError(res, err));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const m of models.values()) await m.session.release();
    },
  };
}

async function handle(models: Map<string, OrtModel>, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/v2/health/ready') return void res.writeHead(200).end();
  if (req.method === 'POST' && url === '/v2/repository/index') {
    return sendJson(res, 200, [...models.keys()].map((name) => ({ name, version: '1', state: 'READY' })));
  }
  const m = /^\/v2\/models\/([^/]+)(\/infer)?$/.exec(url);
  const model = m ? models.get(decodeURIComponent(m[1])) : undefined;
  if (!m || !model) return sendJson(res, 404, { error: m ? `unknown model '${decodeURIComponent(m[1])}'` : `no route ${req.method} ${url}` });
  if (!m[2] && req.method === 'GET') {
    return sendJson(res, 200, { name: model.name, versions: ['1'], platform: 'onnxruntime_onnx', inputs: model.info.inputs, outputs: model.info.outputs });
  }
  if (!m[2] || req.method !== 'POST') return sendJson(res, 405, { error: `${req.method} ${url} is not supported` });

  const header = req.headers['inference-header-content-length'];
  const decoded = decodeInferRequest(body, parseHeaderLength(Array.isArray(header) ? header[0] : header, body.length));
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(decoded.inputs)) feeds[name] = new ort.Tensor(toOrtType(t.type!), t.data as never, t.dims);
  const results = await model.session.run(feeds);
  const outputs: InferOutputs = {};
  for (const [name, value] of Object.entries(results)) {
    const tensor = value as ort.Tensor;
    outputs[name] = { type: fromOrtType(tensor.type)!, dims: [...tensor.dims], data: tensor.data as OutputTensor['data'] };
  }
  const encoded = encodeInferResponse(model.name, 1, outputs, decoded.plan);
  res.writeHead(200, encoded.headers).end(encoded.body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

function sendError(res: ServerResponse, err: unknown): void {
  const status = err instanceof ServalError ? httpStatusFor(err.code) : 500;
  if (!res.headersSent) sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'model-repository': { type: 'string', default: 'models' },
      model: { type: 'string', multiple: true },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const server = await startNaiveServer({ modelRepository: values['model-repository']!, models: values.model, port: Number(values.port), host: values.host });
  process.stdout.write(`naive-server listening on ${server.url}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`naive-server: error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
