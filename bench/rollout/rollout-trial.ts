/**
 * The rollout benchmark's trials, each in a fresh child process (`runInChild`), so that one scenario's
 * threads, heap and JIT state never colour the next: the parent sends a job over IPC, the child runs it,
 * replies with the result and exits.
 */
import { fork } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { BenchError } from '../errors.js';
import { entryPoint } from '../paths.js';
import { CANARY_SCENARIOS, runCanaryScenario, type CanaryResult } from './canary-scenarios.js';
import { runtimeDriftCost, type RuntimeDriftCost } from './drift-detection.js';
import { runShadowOverhead, type ShadowResult } from './shadow-overhead.js';

export type RolloutJob =
  | { kind: 'canary'; scenario: string; rate: number; seed: number; stepSeconds: number }
  | { kind: 'shadow'; seed: number; windowSeconds: number; pairs: number }
  | { kind: 'drift-runtime'; requests: number; pairs: number };

type Reply = { ok: true; result: unknown } | { ok: false; message: string };

export function runInChild(job: { kind: 'canary' } & RolloutJob): Promise<CanaryResult>;
export function runInChild(job: { kind: 'shadow' } & RolloutJob): Promise<ShadowResult>;
export function runInChild(job: { kind: 'drift-runtime' } & RolloutJob): Promise<RuntimeDriftCost[]>;
export function runInChild(job: RolloutJob): Promise<unknown> {
  const { file, execArgv } = entryPoint('bench/rollout/rollout-trial');
  const child = fork(file, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  return new Promise((resolve, reject) => {
    let reply: Reply | undefined;
    child.on('message', (m: Reply) => (reply = m));
    child.on('exit', (code, signal) => {
      if (reply?.ok) return resolve(reply.result);
      const why = reply ? reply.message : `exited (${signal ?? code}) without a result: ${stderr.trim().split('\n').slice(-3).join(' / ')}`;
      reject(new BenchError('TRIAL_FAILED', `rollout trial ${job.kind}: ${why}`));
    });
    child.send(job);
  });
}

async function run(job: RolloutJob): Promise<unknown> {
  if (job.kind === 'canary') {
    const scenario = CANARY_SCENARIOS.find((s) => s.name === job.scenario);
    if (!scenario) throw new Error(`unknown canary scenario ${job.scenario}`);
    return runCanaryScenario(scenario, job.rate, job.seed, job.stepSeconds);
  }
  if (job.kind === 'shadow') return runShadowOverhead(job.seed, job.windowSeconds, job.pairs);
  return runtimeDriftCost(job.requests, job.pairs);
}

if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('message', (job: RolloutJob) => {
    run(job).then(
      (result) => process.send!({ ok: true, result } satisfies Reply, () => process.exit(0)),
      (err: Error) => process.send!({ ok: false, message: err?.message ?? String(err) } satisfies Reply, () => process.exit(1)),
    );
  });
}
