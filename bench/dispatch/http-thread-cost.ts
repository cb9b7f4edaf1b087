/**
 * `npm run bench -- httpcpu`: the HTTP front end's main-thread CPU per request (issue 10). Starts
 * `serval serve` (bundled models) and the uWS ceiling (bench/baselines/uws-ceiling.ts: JSON.parse and a
 * fixed answer) once each, then drives each in turn with `wrk` (closed loop, JSON body of the model's
 * inputs, A B A B ...), reading the server's main thread CPU from /proc/PID/task/PID/schedstat and its
 * whole process's CPU from /proc/PID/stat around every run. Needs `wrk` (Debian: apt-get install wrk).
 *
 *   npm run bench -- httpcpu [--connections 64] [--seconds 5] [--runs 3] [--model fraud_mlp] [--server-args "..."]
 *   npm run bench -- httpcpu --queue-delay-us 0,100,500 --only-serval   (one server per batching delay)
 *   npm run bench -- httpcpu --baseline ../old-checkout                 (also an older build, built, same run)
 *   npm run bench -- httpcpu --http-threads 1,2,4                       (one server per --http-threads value)
 *   npm run bench -- httpcpu --naive                                    (also bench/baselines/naive-server.ts)
 *
 * With HTTP threads, "main-thread CPU" is the main thread's alone: the share of each request the other threads
 * cannot take off it, the number that bounds how far the front end scales with cores.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { commonCpuOptions, median, medianRange, threadCpuNs } from './cpu-readings.js';
import { entryPoint } from '../paths.js';
import { naiveServerArgs, spawnServer, uwsCeilingArgs, type SpawnedServer } from '../named/servers.js';

function processNs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * (1e9 / 100); // utime + stime in clock ticks (USER_HZ = 100)
}

interface Run { requests: number; seconds: number; mainUs: number; processUs: number; p99Ms: number }

function wrk(url: string, script: string, connections: number, seconds: number, pid: number): Run {
  const t0 = threadCpuNs(pid);
  const p0 = processNs(pid);
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  const main = threadCpuNs(pid) - t0;
  const proc = processNs(pid) - p0;
  const m = /(\d+) requests in ([\d.]+)(m?s)/.exec(out);
  if (!m) throw new Error(`cannot read wrk's output:\n${out}`);
  const requests = Number(m[1]);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (errors) throw new Error(`${errors[1]} requests failed:\n${out}`);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99Ms = p99 ? Number(p99[1]) * (p99[2] === 'us' ? 1e-3 : p99[2] === 's' ? 1e3 : 1) : NaN;
  return { requests, seconds: Number(m[2]) * (m[3] === 'ms' ? 1e-3 : 1), mainUs: main / 1000 / requests, processUs: proc / 1000 / requests, p99Ms };
}

/** A copy of `repository` holding only `model` (its files linked) with `max_queue_delay_microseconds` set to `delayUs`. */
function withQueueDelay(repository: string, model: string, delayUs: number, into: string): string {
  mkdirSync(into, { recursive: true });
  cpSync(join(repository, model), join(into, model), { recursive: true });
  const file = join(into, model, 'config.pbtxt');
  const text = readFileSync(file, 'utf8');
  if (!/max_queue_delay_microseconds:\s*\d+/.test(text)) throw new Error(`${file} has no dynamic_batching max_queue_delay_microseconds to vary`);
  writeFileSync(file, text.replace(/max_queue_delay_microseconds:\s*\d+/, `max_queue_delay_microseconds: ${delayUs}`));
  return into;
}

/** serval_http_thread_requests_total over every 200 infer answer, from the server's /metrics; undefined without threads. */
async function threadShare(url: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await (await fetch(`${url}/metrics`)).text();
  } catch {
    return undefined;
  }
  const sum = (re: RegExp): number => text.split('\n').filter((l) => re.test(l)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  const threads = sum(/^serval_http_thread_requests_total\{/);
  const all = sum(/^serval_http_requests_total\{route="[^"]*infer",method="POST",status="200"\}/);
  return threads > 0 && all > 0 ? threads / all : undefined;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...commonCpuOptions('3'),
      connections: { type: 'string', default: '64' },
      seconds: { type: 'string', default: '5' },
      'server-args': { type: 'string', default: '' },
      'only-serval': { type: 'boolean', default: false },
      'queue-delay-us': { type: 'string' },
      baseline: { type: 'string' },
      'http-threads': { type: 'string' },
      naive: { type: 'boolean', default: false },
    },
  });
  if (spawnSync('wrk', ['--version']).error) {
    process.stderr.write('httpcpu needs wrk (Debian: apt-get install wrk)\n');
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'serval-httpcpu-'));
  const servers: { name: string; server: SpawnedServer }[] = [];
  try {
    const features = Array.from({ length: 128 }, (_, i) => ((i % 13) / 13).toFixed(4));
    const body = JSON.stringify({ inputs: [{ name: 'features', shape: [1, 128], datatype: 'FP32', data: features.map(Number) }] });
    const script = join(dir, 'post.lua');
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
    const serve = entryPoint('src/cli/main');
    const extra = values['server-args'] ? values['server-args'].split(' ').filter(Boolean) : [];
    const serveArgs = (repo: string) => ({ ...serve, args: ['serve', '--model-repository', repo, '--http-port', '0', '--grpc-port', '0', ...extra] });
    const delays = values['queue-delay-us']?.split(',').map(Number);
    const threadCounts = values['http-threads']?.split(',').map(Number);
    if (threadCounts) {
      for (const n of threadCounts) {
        const args = serveArgs(values['model-repository']!);
        args.args.push('--http-threads', String(n));
        servers.push({ name: `serval serve, ${n} HTTP thread${n === 1 ? '' : 's'}`, server: await spawnServer('serval serve', args) });
      }
    } else if (delays) {
      // One server per batching delay, each on a copy of the repository whose config sets that delay.
      for (const delay of delays) {
        const repo = withQueueDelay(values['model-repository']!, values.model!, delay, join(dir, `delay-${delay}`));
        servers.push({ name: `serval serve, max_queue_delay ${delay} µs`, server: await spawnServer('serval serve', serveArgs(repo)) });
      }
    } else {
      servers.push({ name: 'serval serve', server: await spawnServer('serval serve', serveArgs(values['model-repository']!)) });
    }
    if (values.baseline) {
      // Another build of serval (e.g. a worktree of an older commit, built), measured in the same run.
      const file = join(values.baseline, 'dist', 'src', 'cli', 'main.js');
      servers.push({ name: `baseline serve (${values.baseline})`, server: await spawnServer('baseline serve', { file, execArgv: [], args: serveArgs(values['model-repository']!).args }) });
    }
    if (!values['only-serval']) servers.push({ name: 'uws ceiling', server: await spawnServer('uws ceiling', uwsCeilingArgs(values.model!)) });
    if (values.naive) {
      // bench/baselines/naive-server.ts: node:http, one session.run per request (the `http` bench's baseline).
      servers.push({ name: 'naive server', server: await spawnServer('naive server', naiveServerArgs(values['model-repository']!, values.model!)) });
    }
    const c = Number(values.connections);
    const s = Number(values.seconds);
    const results = new Map<string, Run[]>(servers.map((x) => [x.name, []]));
    for (const x of servers) wrk(`${x.server.url}/v2/models/${values.model}/infer`, script, c, 1, x.server.pid); // warm-up
    for (let r = 0; r < Number(values.runs); r++) {
      for (const x of servers) results.get(x.name)!.push(wrk(`${x.server.url}/v2/models/${values.model}/infer`, script, c, s, x.server.pid));
    }
    process.stdout.write(`wrk -t1 -c${c} -d${s}s, JSON body (${body.length} bytes), model ${values.model}; median of ${values.runs} interleaved runs [min-max]; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    process.stdout.write('| server | main-thread CPU µs/request | process CPU µs/request | requests/s | p99 ms |\n|---|---:|---:|---:|---:|\n');
    const fmt = medianRange;
    for (const [name, runs] of results) {
      process.stdout.write(`| ${name} | ${fmt(runs.map((x) => x.mainUs), 1)} | ${fmt(runs.map((x) => x.processUs), 1)} | ${fmt(runs.map((x) => x.requests / x.seconds), 0)} | ${fmt(runs.map((x) => x.p99Ms), 2)} |\n`);
    }
    for (const x of servers) {
      // How the kernel spread the connections: the share of requests HTTP threads answered without the main thread.
      const share = await threadShare(x.server.url);
      if (share !== undefined) process.stdout.write(`${x.name}: ${(share * 100).toFixed(0)}% of requests answered by HTTP threads other than the main one\n`);
    }
    const rate = (name: string) => median(results.get(name)!.map((x) => x.requests / x.seconds));
    const first = [...results.keys()].find((k) => k.startsWith('serval serve'));
    for (const other of ['uws ceiling', 'naive server']) {
      if (first && results.has(other)) process.stdout.write(`${first} / ${other} throughput: ${(rate(first) / rate(other)).toFixed(2)}x\n`);
    }
    return 0;
  } finally {
    await Promise.all(servers.map((x) => x.server.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
