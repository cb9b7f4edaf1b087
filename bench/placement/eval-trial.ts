/**
 * One trial of the placement evaluation, in a fresh child process (STYLE rule 10): either profile a
 * scenario's repository (`serval profile`'s measurement), or run one policy through every (seed, load)
 * step of a scenario on one runtime whose latency profiles are seeded from that profile. Started by
 * evaluate.ts with fork(); receives the spec over IPC and answers once.
 */
import { Runtime } from '../../src/runtime.js';
import type { AdmissionName, PolicyName } from '../../src/api-types.js';
import { seedRuntimeFromProfile, type ProfileFile, PROFILE_SCHEMA } from '../../src/placement/profile-file.js';
import { profileModel } from '../../src/placement/profiler.js';
import { parseArrivalSpec } from '../arrivals.js';
import type { ModelMix } from '../mix.js';
import type { StepResult } from '../report/types.js';
import { type LoadPlan, runSweep } from '../sweep.js';
import { EmbeddedTarget } from '../targets/embedded.js';

export interface EvalStep {
  seed: number;
  load: number;
  /** Mean arrival rate, requests per second. */
  rate: number;
  /** Arrival times of a trace window (seconds), replayed at `rate`; absent: the scenario's process. */
  traceS?: number[];
}

export type EvalTrialSpec =
  | { kind: 'profile'; repository: string; samples: number }
  | {
      kind: 'run'; repository: string; scenario: string; policy: string; admission: string; profile: ProfileFile; mix: ModelMix; arrivals: string;
      sloMs: number; steps: EvalStep[]; windowMs: number; warmupMs: number; drainTimeoutMs: number;
    };

export type EvalTrialReply =
  | { ok: true; profile?: ProfileFile; steps?: EvalStepResult[] }
  | { ok: false; message: string };

async function profile(spec: Extract<EvalTrialSpec, { kind: 'profile' }>): Promise<ProfileFile> {
  const rt = await Runtime.open({ modelRepository: spec.repository, policy: 'round_robin' });
  try {
    const out: ProfileFile = { schema: PROFILE_SCHEMA, createdAt: new Date().toISOString(), host: { cpus: 0, cpuModel: '', node: process.version }, repository: spec.repository, models: {} };
    for (const m of rt.models()) out.models[m.name] = await profileModel(rt, m.name, { samples: spec.samples });
    return out;
  } finally {
    await rt.close();
  }
}

/**
 * A live step, with the learned policy's guard-rail fallbacks, the requests admission shed by reason, and
 * the p99 answer time of those shed at arrival (the ones that never queue).
 */
export type EvalStepResult = StepResult & {
  seed: number; load: number; policyFallbacks: number; shed: Record<string, number>; arrivalShedP99Ms: number | null;
};

async function run(spec: Extract<EvalTrialSpec, { kind: 'run' }>): Promise<EvalStepResult[]> {
  const rt = await Runtime.open({ modelRepository: spec.repository, policy: spec.policy as PolicyName, admission: spec.admission as AdmissionName });
  seedRuntimeFromProfile(rt, spec.profile);
  const target = new EmbeddedTarget(rt, { policy: spec.policy });
  const out: EvalStepResult[] = [];
  try {
    for (const step of spec.steps) {
      const plan: LoadPlan = step.traceS
        ? { mode: 'trace', trace: { times: step.traceS, spanSeconds: step.traceS.at(-1)!, meanRate: (step.traceS.length - 1) / step.traceS.at(-1)! }, rateScale: step.rate / ((step.traceS.length - 1) / step.traceS.at(-1)!), source: 'azure_llm_2023_code.csv', loop: true }
        : { mode: 'rate', values: [step.rate], arrivals: parseArrivalSpec(spec.arrivals) };
      const fallbacks = () => rt.stats().models.reduce((a, m) => a + m.policyFallbacks, 0);
      const shedNow = (): Record<string, number> => {
        const out: Record<string, number> = {};
        for (const m of rt.stats().models) for (const [k, n] of Object.entries(m.shed)) out[k] = (out[k] ?? 0) + n;
        return out;
      };
      const before = fallbacks();
      const shedBefore = shedNow();
      target.takeShedLatencies();
      const [result] = await runSweep({
        target, mix: spec.mix, plan, seed: step.seed, inputData: { kind: 'random' }, series: spec.policy, scenario: spec.scenario, sloMs: spec.sloMs,
        step: { windowMs: spec.windowMs, warmupMs: spec.warmupMs, maxDurationMs: spec.windowMs + spec.warmupMs, drainTimeoutMs: spec.drainTimeoutMs },
        maxOutstanding: 65_536,
      });
      const shedMs = target.takeShedLatencies().sort((a, b) => a - b);
      const shed = Object.fromEntries(Object.entries(shedNow()).map(([k, n]) => [k, n - (shedBefore[k] ?? 0)]));
      out.push({
        ...result!, seed: step.seed, load: step.load, policyFallbacks: fallbacks() - before, shed,
        arrivalShedP99Ms: shedMs.length ? shedMs[Math.min(shedMs.length - 1, Math.ceil(0.99 * shedMs.length) - 1)]! : null,
      });
    }
  } finally {
    await target.close();
  }
  return out;
}

process.once('message', (spec: EvalTrialSpec) => {
  const work = spec.kind === 'profile' ? profile(spec).then((p) => ({ profile: p })) : run(spec).then((steps) => ({ steps }));
  work.then(
    (r): EvalTrialReply => ({ ok: true, ...r }),
    (err: unknown): EvalTrialReply => ({ ok: false, message: (err as Error).message ?? String(err) }),
  ).then((reply) => process.send!(reply, () => process.exit(0)));
});
