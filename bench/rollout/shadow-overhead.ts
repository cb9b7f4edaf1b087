/**
 * Shadow overhead: the stable arm's p99 at 50 % of capacity, without and with a 100 % shadow copy to the
 * candidate, in one process on one runtime, alternating off/on windows. Both versions
 * run on an emulated device (device_latency_model), so the instances' speed does not depend on the host;
 * windows alternate A B B A (off on on off ...), so an order effect cancels;
 * what the copy costs the stable arm is the event loop's and the host's extra work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { rolloutScorerConfig, writeRolloutModel } from '../../src/model-generator/rollout-repository.js';
import { Rng } from '../rng.js';
import { openLoad, percentileMs, type Outcome } from './open-load.js';

const DEVICE = 'parameters { key: "device_latency_model" value { string_value: "1:4.0,8:8.0" } }';

export interface ShadowWindow {
  mode: 'off' | 'on';
  requests: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  /** Process CPU (every thread) per stable request, microseconds. */
  cpuUsPerRequest: number;
  /** Load average (1 min) when the window ended. */
  load1: number;
}

export interface ShadowResult {
  capacity: number;
  rate: number;
  windows: ShadowWindow[];
  p99OffMs: number;
  p99OnMs: number;
  /** p99 with shadow / p99 without - 1. */
  increase: number;
  /** Spread of the p99 between windows of the same mode (largest / smallest - 1): the run's own noise. */
  noise: number;
  /** CPU per stable request with shadow / without - 1. */
  cpuIncrease: number;
  /** `met` / `not met` only when the noise is below the 10 % being judged; else `inconclusive`. */
  verdict: 'met' | 'not met' | 'inconclusive';
  shadow: NonNullable<ReturnType<Runtime['rolloutState']>>['shadow'];
}

const input = (rng: Rng) => ({ x: { data: Float32Array.from({ length: 4 }, () => rng.next() * 10), dims: [1, 4] } });

export async function runShadowOverhead(seed: number, windowSeconds: number, pairs: number): Promise<ShadowResult> {
  const root = mkdtempSync(join(tmpdir(), 'serval-bench-shadow-'));
  writeRolloutModel(root, 'scorer', { 1: {}, 2: { shift: 1e-4 } }, rolloutScorerConfig(DEVICE));
  const rt = await Runtime.open({ modelRepository: root });
  try {
    const inputs = new Rng(seed).fork('inputs');
    const capacity = await closedLoopCapacity(rt, inputs, 2000);
    const rate = capacity / 2;
    const windows: ShadowWindow[] = [];
    const all: Record<'off' | 'on', Outcome[]> = { off: [], on: [] };
    let shadow: ShadowResult['shadow'];
    for (let i = 0; i < pairs * 2; i++) {
      // A B B A A B ...: an effect of a window's position (first or second of a pair) cancels out.
      const mode = i % 4 === 0 || i % 4 === 3 ? 'off' : 'on';
      if (mode === 'on') rt.rollout('scorer', { strategy: 'shadow', stable: '1', candidate: '2' });
      const cpu = process.cpuUsage();
      const outcomes = await openLoad({ rate, durationMs: windowSeconds * 1000, rng: new Rng(seed + i), send: () => rt.inferServed('scorer', input(inputs)) });
      if (mode === 'on') {
        shadow = rt.rolloutState('scorer')!.shadow;
        rt.traffic.clear('scorer');
      }
      const used = process.cpuUsage(cpu);
      const stable = outcomes.filter((o) => o.version === 1 || o.version === 2);
      all[mode].push(...stable);
      windows.push({
        mode, requests: stable.length, failures: stable.filter((o) => o.code).length, p50Ms: percentileMs(stable, 50), p99Ms: percentileMs(stable, 99),
        cpuUsPerRequest: (used.user + used.system) / stable.length, load1: loadavg()[0]!,
      });
    }
    const p99OffMs = percentileMs(all.off, 99);
    const p99OnMs = percentileMs(all.on, 99);
    const increase = p99OnMs / p99OffMs - 1;
    const spread = (mode: 'off' | 'on') => {
      const p = windows.filter((w) => w.mode === mode).map((w) => w.p99Ms);
      return Math.max(...p) / Math.min(...p) - 1;
    };
    const noise = Math.max(spread('off'), spread('on'));
    const cpu = (mode: 'off' | 'on') => {
      const w = windows.filter((x) => x.mode === mode);
      return w.reduce((a, x) => a + x.cpuUsPerRequest * x.requests, 0) / w.reduce((a, x) => a + x.requests, 0);
    };
    const verdict = noise >= 0.1 ? 'inconclusive' : increase < 0.1 ? 'met' : 'not met';
    return { capacity, rate, windows, p99OffMs, p99OnMs, increase, noise, cpuIncrease: cpu('on') / cpu('off') - 1, verdict, shadow };
  } finally {
    await rt.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Saturation throughput: 32 closed-loop workers for `ms`. */
async function closedLoopCapacity(rt: Runtime, inputs: Rng, ms: number): Promise<number> {
  const end = performance.now() + ms;
  let done = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (performance.now() < end) {
      await rt.infer('scorer', input(inputs), { version: 1 });
      done++;
    }
  }));
  return done / (ms / 1000);
}
