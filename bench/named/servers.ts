/**
 * Servers the `http` benchmark starts as child processes (a fresh one per trial): the naive baseline and
 * `serval serve`. Each prints its URL (`http://127.0.0.1:PORT`) when it is ready; the harness waits for it.
 * serval also prints its gRPC address (`gRPC listening on HOST:PORT`) before that line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { BenchError } from '../errors.js';
import { entryPoint } from '../paths.js';

export interface SpawnedServer {
  url: string;
  /** The server's process id (its main thread's id too: /proc/PID/task/PID). */
  pid: number;
  /** `host:port` of the v2 gRPC API, when the server printed one. */
  grpcAddress?: string;
  stop(): Promise<void>;
}

const URL_PATTERN = /http:\/\/(127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1?\]):(\d+)/;
const GRPC_PATTERN = /gRPC listening on (127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1?\]):(\d+)/;

export function naiveServerArgs(modelRepository: string, model: string): { file: string; execArgv: string[]; args: string[] } {
  return { ...entryPoint('bench/baselines/naive-server'), args: ['--model-repository', modelRepository, '--model', model] };
}

export function servalServeArgs(modelRepository: string, policy: string): { file: string; execArgv: string[]; args: string[] } {
  return { ...entryPoint('src/cli/main'), args: ['serve', '--model-repository', modelRepository, '--http-port', '0', '--grpc-port', '0', '--policy', policy] };
}

export function uwsCeilingArgs(model: string): { file: string; execArgv: string[]; args: string[] } {
  return { ...entryPoint('bench/baselines/uws-ceiling'), args: ['--model', model] };
}

/**
 * `options.ready`: the line that says the server listens, when its output names other URLs first (`serval
 * route` logs its upstreams); `options.env`: extra environment variables.
 */
export function spawnServer(
  label: string, cmd: { file: string; execArgv: string[]; args: string[] }, timeoutMs = 120_000,
  options: { ready?: RegExp; env?: Record<string, string> } = {},
): Promise<SpawnedServer & { pid: number }> {
  const child = spawn(process.execPath, [...cmd.execArgv, cmd.file, ...cmd.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let output = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new BenchError('TARGET_UNAVAILABLE', `${label} did not start: ${why}${output ? `; it printed: ${output.trim().split('\n').slice(-3).join(' / ')}` : ''}`));
    };
    const timer = setTimeout(() => fail(`no URL within ${timeoutMs / 1000} s`), timeoutMs);
    const scan = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
      const line = options.ready ? new RegExp(`${options.ready.source}.*`).exec(output)?.[0] : output;
      const m = line === undefined ? null : URL_PATTERN.exec(line);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.removeListener('data', scan);
      child.stderr!.removeListener('data', scan);
      child.stdout!.resume();
      child.stderr!.resume();
      const host = m[1] === '0.0.0.0' ? '127.0.0.1' : m[1];
      const g = GRPC_PATTERN.exec(output);
      const grpcAddress = g ? `${g[1] === '0.0.0.0' ? '127.0.0.1' : g[1]}:${g[2]}` : undefined;
      resolve({ url: `http://${host}:${m[2]}`, pid: child.pid!, ...(grpcAddress ? { grpcAddress } : {}), stop: () => stop(child) });
    };
    child.stdout!.on('data', scan);
    child.stderr!.on('data', scan);
    child.on('error', (err) => fail(err.message));
    child.on('exit', (code, signal) => fail(`exited (${signal ?? code})`));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
