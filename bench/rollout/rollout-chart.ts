/** The canary timeline chart: the candidate's weight over time per scenario, with the decision marked and its reason as tooltip. */
import type { ChartSpec } from '../../src/util/chart-writer.js';
import type { CanaryResult } from './canary-scenarios.js';

export function rolloutTimelineSpec(results: CanaryResult[]): ChartSpec {
  const points = results.flatMap((r) => r.timeline.map((p) => ({ ...p, seconds: p.ms / 1000 })));
  const decisions = results.flatMap((r) => (r.decidedAtMs === undefined ? [] : [{
    scenario: r.scenario, seconds: r.decidedAtMs / 1000, phase: r.phase, reason: r.reason,
    guards: r.state.guards.map((g) => `${g.guard}: ${g.status}`).join(', '),
  }]));
  return {
    title: 'Canary rollouts: candidate weight over time (x = rolled back, o = promoted)',
    width: 520,
    height: 240,
    layer: [
      {
        data: { values: points },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 'seconds', type: 'quantitative', title: 'seconds since the rollout started' },
          y: { field: 'candidateWeight', type: 'quantitative', title: 'candidate weight (%)', scale: { domain: [0, 100] } },
          color: { field: 'scenario', type: 'nominal', title: 'candidate' },
        },
      },
      {
        data: { values: decisions },
        mark: { type: 'point', size: 120, filled: false },
        encoding: {
          x: { field: 'seconds', type: 'quantitative' },
          y: { datum: 50 },
          color: { field: 'scenario', type: 'nominal' },
          shape: { field: 'phase', type: 'nominal', scale: { domain: ['rolled_back', 'promoted'], range: ['cross', 'circle'] } },
          tooltip: [{ field: 'scenario' }, { field: 'phase' }, { field: 'reason' }, { field: 'guards' }],
        },
      },
    ],
  };
}
