/**
 * Runs simulator rollouts on piscina worker threads (one per core by default), or inline on this thread
 * with `threads: 0`. Results come back in task order, so a run is reproducible whatever the scheduling.
 * From TypeScript sources (tests, tsx) the workers load the .ts worker through tsx.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { runRollouts, type RolloutOutcome, type RolloutTask } from './rollout-worker.js';

export interface RolloutRunner {
  run(tasks: RolloutTask[]): Promise<RolloutOutcome[][]>;
  close(): Promise<void>;
}

export function createRolloutRunner(threads = availableParallelism()): RolloutRunner {
  if (threads <= 0) {
    return { run: async (tasks) => tasks.map(runRollouts), close: async () => {} };
  }
  const fromSource = import.meta.url.endsWith('.ts');
  const filename = fileURLToPath(new URL(fromSource ? './rollout-worker.ts' : './rollout-worker.js', import.meta.url));
  const pool = new Piscina({ filename, minThreads: threads, maxThreads: threads, idleTimeout: 60_000, execArgv: fromSource ? ['--import', 'tsx'] : [] });
  return {
    run: (tasks) => Promise.all(tasks.map((t) => pool.run(t) as Promise<RolloutOutcome[]>)),
    close: () => pool.destroy(),
  };
}
