#!/usr/bin/env node
/**
 * Ceiling for the HTTP benchmarks (issue 10): the least a uWebSockets.js server can do per v2 infer
 * request in JavaScript. It reads the body, parses it with JSON.parse, checks that it names inputs, and
 * answers a fixed v2 response; no model runs. serval's HTTP front end is judged against it in the same run.
 *
 *   node dist/bench/baselines/uws-ceiling.js [--model fraud_mlp] [--port 0]
 *
 * Prints `uws-ceiling listening on http://127.0.0.1:PORT` once it accepts requests.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadNativeUws } from '../../src/server/uws-transport.js';

export function main(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { model: { type: 'string', default: 'fraud_mlp' }, port: { type: 'string', default: '0' } } });
  const loaded = loadNativeUws();
  if (!loaded.ok) throw new Error(`uWebSockets.js did not load: ${loaded.reason}`);
  const uws = loaded.uws;
  const answer = JSON.stringify({ model_name: values.model, model_version: '1', outputs: [{ name: 'probability', datatype: 'FP32', shape: [1, 1], data: [0.5] }] });
  const app = uws.App();
  app.get('/v2/health/ready', (res) => { res.end(''); });
  app.get('/v2/health/live', (res) => { res.end(''); });
  app.post('/v2/models/:model/infer', (res) => {
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    const chunks: Buffer[] = [];
    res.onData((chunk, last) => {
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!last || aborted) return;
      let status = '200 OK';
      let body = answer;
      try {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { inputs?: unknown };
        if (!Array.isArray(parsed.inputs)) throw new Error('no inputs');
      } catch {
        status = '400 Bad Request';
        body = '{"error":"bad request"}';
      }
      res.cork(() => { res.writeStatus(status).writeHeader('content-type', 'application/json').end(body); });
    });
  });
  app.listen('127.0.0.1', Number(values.port), (socket) => {
    if (!socket) throw new Error('cannot listen');
    console.log(`uws-ceiling listening on http://127.0.0.1:${uws.us_socket_local_port(socket)}`);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
