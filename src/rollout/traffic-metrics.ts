/**
 * Prometheus series of rollouts and drift monitors, read from the runtime's TrafficRegistry at scrape time
 * (never counted per request here). Registered by ServerMetrics; README.md (Rollouts and drift) lists them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TrafficRegistry } from './traffic-registry.js';
import type { RolloutPhase, RolloutState } from './rollout-controller.js';

const PHASES: readonly RolloutPhase[] = ['progressing', 'paused', 'promoted', 'rolled_back'];

type Labels = Record<string, string>;

export function registerTrafficMetrics(registry: Registry, traffic: () => TrafficRegistry | undefined): void {
  const registers = [registry];
  const states = (): RolloutState[] => traffic()?.rolloutStates() ?? [];
  const gauge = (name: string, help: string, labelNames: string[], fill: (set: (labels: Labels, v: number) => void) => void): void => {
    new Gauge({
      name, help, labelNames, registers,
      collect() {
        this.reset();
        fill((labels, v) => this.set(labels, v));
      },
    });
  };
  gauge('serval_rollout_candidate_weight_percent', 'Share of the requests naming no version that the rollout sends to the candidate.',
    ['model', 'strategy', 'stable', 'candidate'], (set) => {
      for (const s of states()) set({ model: s.model, strategy: s.strategy, stable: s.stable, candidate: s.candidate }, s.weights.candidate);
    });
  gauge('serval_rollout_phase', 'The rollout phase: 1 on the current phase, 0 on the others.', ['model', 'phase'], (set) => {
    for (const s of states()) for (const p of PHASES) set({ model: s.model, phase: p }, s.phase === p ? 1 : 0);
  });
  gauge('serval_rollout_arm_p99_seconds', 'p99 latency of each rollout arm over the current analysis window.', ['model', 'arm', 'version'], (set) => {
    for (const s of states()) {
      set({ model: s.model, arm: 'stable', version: s.stable }, s.arms.stable.window.p99Ms / 1000);
      set({ model: s.model, arm: 'candidate', version: s.candidate }, s.arms.candidate.window.p99Ms / 1000);
    }
  });
  gauge('serval_rollout_shadow_agreement_ratio', 'Share of shadow copies whose answer agreed with the stable one.', ['model', 'candidate'], (set) => {
    for (const s of states()) if (s.shadow) set({ model: s.model, candidate: s.candidate }, s.shadow.agreementRate);
  });
  new Counter({
    name: 'serval_rollout_arm_requests_total', help: 'Requests each rollout arm answered or failed since the rollout started, by outcome.',
    labelNames: ['model', 'arm', 'version', 'outcome'], registers,
    collect() {
      this.reset();
      for (const s of states()) {
        for (const arm of ['stable', 'candidate'] as const) {
          const t = s.arms[arm].total;
          const version = arm === 'stable' ? s.stable : s.candidate;
          this.inc({ model: s.model, arm, version, outcome: 'success' }, t.succeeded);
          for (const [code, n] of Object.entries(t.errors)) this.inc({ model: s.model, arm, version, outcome: code }, n);
        }
      }
    },
  });
  new Counter({
    name: 'serval_rollout_rollbacks_total', help: 'Rollouts rolled back, by the guard that failed (manual: the operator; unloaded: the candidate left).',
    labelNames: ['model', 'guard'], registers,
    collect() {
      this.reset();
      for (const [model, byGuard] of traffic()?.rollbacks ?? []) for (const [guard, n] of byGuard) this.inc({ model, guard }, n);
    },
  });
  const features = () => (traffic()?.driftMonitors() ?? []).flatMap((m) => m.summaries());
  gauge('serval_drift_psi', 'Population stability index of a monitored feature\'s last window against its reference.',
    ['model', 'version', 'tensor', 'kind', 'feature'], (set) => {
      for (const v of features()) for (const f of v.features) set({ model: v.model, version: String(v.version), tensor: f.tensor, kind: f.kind, feature: String(f.feature) }, f.psi);
    });
  gauge('serval_drift_ks_statistic', 'Two-sample Kolmogorov-Smirnov distance of a monitored feature\'s last window from its reference.',
    ['model', 'version', 'tensor', 'kind', 'feature'], (set) => {
      for (const v of features()) for (const f of v.features) set({ model: v.model, version: String(v.version), tensor: f.tensor, kind: f.kind, feature: String(f.feature) }, f.ks);
    });
  gauge('serval_drift_drifted_features', 'Monitored features whose last window drifted (PSI over the threshold and a significant KS test).',
    ['model', 'version'], (set) => {
      for (const v of features()) set({ model: v.model, version: String(v.version) }, v.drifted);
    });
}
