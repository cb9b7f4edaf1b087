/**
 * `serval bench` bad input: an unknown model, an unreachable URL, a malformed trace, bad range syntax and
 * friends each give one clear line on stderr with a stable code, a non-zero exit code, and no stack. Plus one
 * small run end to end (table, JSON, CSV, compare) against a fake v2 server.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBenchCli } from '../bench/cli.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, cb) {
      w.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string; isTTY?: boolean };
  w.text = '';
  return w;
}

async function bench(...argv: string[]): Promise<Run> {
  const stdout = sink();
  const stderr = sink();
  const code = await runBenchCli(argv, { stdout, stderr: stderr as unknown as NodeJS.WriteStream });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function expectCleanError(run: Run, code: number, pattern: RegExp): void {
  expect(run.code).toBe(code);
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /); // no stack
}

let server: Server;
let url: string;
const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));

beforeAll(async () => {
  const metadata = JSON.stringify({ name: 'fake', versions: ['1'], platform: 'x', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] });
  const answer = JSON.stringify({ model_name: 'fake', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: [0.5] }] });
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v2/models/fake') return void res.writeHead(200).end(metadata);
      if (req.method === 'POST' && req.url === '/v2/models/fake/infer') return void setTimeout(() => res.writeHead(200).end(answer), 1);
      res.writeHead(404).end('{"error":"Request for unknown model"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('serval bench bad input', () => {
  it('unknown model: UNKNOWN_MODEL, exit 1', async () => {
    expectCleanError(await bench('--url', url, '--model', 'nope', '--quiet'), 1, /serval bench: error: unknown model 'nope'.*\[UNKNOWN_MODEL\]/);
  });

  it('unreachable URL: TARGET_UNAVAILABLE, exit 1', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expectCleanError(await bench('--url', `http://127.0.0.1:${port}`, '--model', 'fake', '--quiet'), 1, /cannot reach http:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED.*\[TARGET_UNAVAILABLE\]/);
  });

  it('malformed trace: INVALID_FILE naming file and line, exit 2', async () => {
    const trace = join(dir, 'bad.csv');
    writeFileSync(trace, 'TIMESTAMP\n2023-11-16 18:17:03.9\nyesterday\n');
    expectCleanError(await bench('--url', url, '--model', 'fake', '--trace', trace), 2, /bad\.csv:3: 'yesterday' is neither a timestamp.*\[INVALID_FILE\]/);
    expectCleanError(await bench('--url', url, '--model', 'fake', '--trace', join(dir, 'missing.csv')), 2, /cannot read trace .*missing\.csv/);
    expectCleanError(await bench('--url', url, '--model', 'fake', '--trace', trace, '--time-column', 'when'), 2, /no column 'when'/);
  });

  it('bad range syntax: INVALID_ARGUMENT, exit 2', async () => {
    expectCleanError(await bench('--url', url, '--model', 'fake', '--concurrency-range', '1:x2'), 2, /--concurrency-range '1:x2'.*START:END:STEP.*\[INVALID_ARGUMENT\]/);
    expectCleanError(await bench('--url', url, '--model', 'fake', '--request-rate-range', '100:50:10'), 2, /END is smaller than START/);
  });

  it('other bad flags: INVALID_ARGUMENT, exit 2', async () => {
    expectCleanError(await bench('--model', 'fake'), 2, /name a target: --url/);
    expectCleanError(await bench('--url', url), 2, /name the model/);
    expectCleanError(await bench('--url', 'ftp://x', '--model', 'fake'), 2, /only http:\/\/ is supported/);
    expectCleanError(await bench('--url', url, '--model', 'fake', '--arrivals', 'gamma:0', '--request-rate-range', '10'), 2, /gamma CV must be a positive number/);
    expectCleanError(await bench('--url', url, '--model', 'fake', '--concurrency-range', '2', '--trace', 'x.csv'), 2, /choose one of/);
    expectCleanError(await bench('--embedded', '--model', 'fake'), 2, /--embedded needs --model-repository/);
    expectCleanError(await bench('--url', url, '--model', 'fake', '--protocol', 'thrift'), 2, /--protocol must be json, binary or grpc/);
    expectCleanError(await bench('--url', 'grpc://x', '--model', 'fake', '--protocol', 'grpc'), 2, /is not a gRPC address/);
    expectCleanError(await bench('--url', url, '--model', 'fake', '--duration', '-3'), 2, /--duration must be a positive number/);
    expectCleanError(await bench('--url', url, '--model', 'fake', '--frobnicate'), 2, /unknown option '--frobnicate'/);
  });

  it('compare: a file that is not a report is INVALID_FILE, exit 2', async () => {
    const notReport = join(dir, 'x.json');
    writeFileSync(notReport, '{"hello": 1}');
    expectCleanError(await bench('compare', notReport, notReport), 2, /is not a serval bench report/);
    expectCleanError(await bench('compare', notReport), 2, /missing required argument/);
  });

  it('exits non-zero as a process too', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/main.ts', '--url', url, '--model', 'fake', '--concurrency-range', 'lots'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--concurrency-range 'lots'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('serval bench end to end', () => {
  it('runs a small sweep, writes JSON and CSV, and compares a report with itself', async () => {
    const json = join(dir, 'r.json');
    const csv = join(dir, 'r.csv');
    const run = await bench('--url', url, '--model', 'fake', '--concurrency-range', '1:2:x2', '--duration', '1', '--measurement-interval-ms', '250', '--slo-ms', '50', '--json', json, '--csv', csv, '--quiet');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/concurrency 1 .*\n.*concurrency 2 /);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { schema: string; steps: Array<{ ok: number; failed: number; attainment: number }> };
    expect(report.schema).toBe('serval-bench/1');
    expect(report.steps).toHaveLength(2);
    expect(report.steps[0].ok).toBeGreaterThan(10);
    expect(report.steps[0].failed).toBe(0);
    expect(report.steps[0].attainment).toBeGreaterThan(0.9);
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toMatch(/^scenario,series,mode,value,/);
    const cmp = await bench('compare', json, json);
    expect(cmp.code).toBe(0);
    expect(cmp.stdout).toMatch(/concurrency 2 .*1\.00x/);
  });
});
