/**
 * Runs a trial in a fresh child process (`trial-main`) and returns its step results.
 */
import { fork } from 'node:child_process';
import { BenchError, type BenchErrorCode } from '../errors.js';
import { entryPoint } from '../paths.js';
import type { StepResult } from '../report/types.js';
import type { TrialReply } from './trial-main.js';
import type { TrialSpec } from './trial.js';

/** Errors that would fail every trial alike: the caller should stop, not carry on. */
const USER_ERRORS = new Set<string>(['INVALID_ARGUMENT', 'INVALID_FILE', 'UNKNOWN_MODEL']);

export interface ChildOptions {
  /** Kill the child after this long. */
  timeoutMs: number;
}

export function runTrialInChild(spec: TrialSpec, options: ChildOptions): Promise<StepResult[]> {
  const { file, execArgv } = entryPoint('bench/trials/trial-main');
  const child = fork(file, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  return new Promise<StepResult[]>((resolve, reject) => {
    let reply: TrialReply | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new BenchError('TRIAL_FAILED', `trial ${describe(spec)} ran past ${Math.round(options.timeoutMs / 1000)} s and was killed`));
    }, options.timeoutMs);
    child.on('message', (m: TrialReply) => (reply = m));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (reply?.ok) return resolve(reply.steps);
      if (reply) {
        const code = USER_ERRORS.has(reply.code) ? (reply.code as BenchErrorCode) : 'TRIAL_FAILED';
        return reject(new BenchError(code, `${describe(spec)}: ${reply.message}${code === 'TRIAL_FAILED' ? ` [${reply.code}]` : ''}`));
      }
      reject(new BenchError('TRIAL_FAILED', `trial ${describe(spec)} exited (${signal ?? code}) without a result${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`));
    });
    child.send(spec);
  });
}

function describe(spec: TrialSpec): string {
  return spec.kind === 'raw-ort' ? `raw-ort ${spec.model} c=${spec.concurrency}` : `${spec.series}${spec.scenario ? ` (${spec.scenario})` : ''}`;
}
