/**
 * Summaries, markdown and chart of the placement evaluation (evaluate.ts). Latency percentiles are
 * nearest-rank over every request that arrived in the measured window, failures counted as infinite.
 */
import { estimate, type Estimate, fmtEstimate, sustainableLoad } from './eval-stats.js';

export interface EvalRecord {
  scenario: string;
  policy: string;
  seed: number;
  load: number;
  rate: number;
  sloMs: number;
  capacity: number;
  live: {
    p50Ms: number | null; p95Ms: number | null; p99Ms: number | null; attainment: number; goodput: number;
    throughput: number; offeredRate: number; arrivals: number; failed: number; lagP99Ms: number | null;
    /** The learned policy's guard-rail fallbacks during the step (absent in runs before it was recorded). */
    policyFallbacks?: number;
    /**
     * Requests shed by admission by reason (whole run, warm-up included), the p99 answer time of those shed at
     * arrival, and measured requests never answered (absent in older runs).
     */
    shed?: Record<string, number>; arrivalShedP99Ms?: number | null; unanswered?: number;
  };
  sim: { p50Ms: number; p95Ms: number; p99Ms: number; attainment: number };
}

export interface Cell {
  scenario: string; policy: string; load: number; rate: number;
  p50: Estimate; p95: Estimate; p99: Estimate; attainment: Estimate; goodput: Estimate; simP50: Estimate; simP99: Estimate;
}

export interface Summary {
  cells: Cell[];
  /** Highest sustainable rate at 99% attainment, req/s, over seeds. */
  sustainable: { scenario: string; policy: string; rate: Estimate; note: string }[];
  /** learned vs each baseline, paired by seed: attainment difference and goodput ratio. */
  paired: { scenario: string; load: number; baseline: string; attainmentDiff: Estimate; goodputRatio: Estimate }[];
  /** The simulator's p99 (and p50) against live, per scenario: median |sim - live| / live over cells, and cells within 20%. */
  simError: { scenario: string; medianRelErr: number; eftRelErr: number; within20: number; cells: number; medianRelErrP50: number }[];
  sloMs: Record<string, number>;
  capacity: Record<string, number>;
}

const inf = (v: number | null) => (v === null ? Infinity : v);
const uniq = <T>(xs: T[]) => [...new Set(xs)];

export function summarise(records: EvalRecord[]): Summary {
  const scenarios = uniq(records.map((r) => r.scenario));
  const cells: Cell[] = [];
  const sustainable: Summary['sustainable'] = [];
  const paired: Summary['paired'] = [];
  const simError: Summary['simError'] = [];
  for (const sc of scenarios) {
    const mine = records.filter((r) => r.scenario === sc);
    const loads = uniq(mine.map((r) => r.load)).sort((a, b) => a - b);
    const policies = uniq(mine.map((r) => r.policy));
    const errs: number[] = [], eftErrs: number[] = [], p50Errs: number[] = [];
    for (const policy of policies) {
      for (const load of loads) {
        const rs = mine.filter((r) => r.policy === policy && r.load === load);
        if (rs.length === 0) continue;
        const cell: Cell = {
          scenario: sc, policy, load, rate: rs[0]!.rate,
          p50: estimate(rs.map((r) => inf(r.live.p50Ms))), p95: estimate(rs.map((r) => inf(r.live.p95Ms))), p99: estimate(rs.map((r) => inf(r.live.p99Ms))),
          attainment: estimate(rs.map((r) => r.live.attainment)), goodput: estimate(rs.map((r) => r.live.goodput)),
          simP50: estimate(rs.map((r) => r.sim.p50Ms)), simP99: estimate(rs.map((r) => r.sim.p99Ms)),
        };
        cells.push(cell);
        if (Number.isFinite(cell.p99.mean) && Number.isFinite(cell.simP99.mean)) {
          const e = Math.abs(cell.simP99.mean - cell.p99.mean) / cell.p99.mean;
          errs.push(e);
          if (policy === 'earliest_finish_time') eftErrs.push(e);
        }
        if (Number.isFinite(cell.p50.mean) && Number.isFinite(cell.simP50.mean)) p50Errs.push(Math.abs(cell.simP50.mean - cell.p50.mean) / cell.p50.mean);
      }
      const seeds = uniq(mine.filter((r) => r.policy === policy).map((r) => r.seed));
      const perSeed = seeds.map((seed) => {
        const rs = mine.filter((r) => r.policy === policy && r.seed === seed).sort((a, b) => a.load - b.load);
        const s = sustainableLoad(rs.map((r) => r.rate), rs.map((r) => r.live.attainment));
        return s;
      });
      const bounds = uniq(perSeed.map((s) => s.bound));
      sustainable.push({ scenario: sc, policy, rate: estimate(perSeed.map((s) => s.value)), note: bounds.length === 1 ? bounds[0]! : bounds.join('/') });
    }
    // The learned joint policy (placement + admission) when it ran, else the learned placement policy.
    const subject = policies.includes('learned+learned') ? 'learned+learned' : policies.includes('learned') ? 'learned' : undefined;
    if (subject) {
      for (const load of loads) {
        for (const baseline of policies.filter((p) => p !== subject)) {
          const l = mine.filter((r) => r.policy === subject && r.load === load);
          const b = mine.filter((r) => r.policy === baseline && r.load === load);
          const pairs = l.map((x) => [x, b.find((y) => y.seed === x.seed)] as const).filter(([, y]) => y);
          paired.push({
            scenario: sc, load, baseline,
            attainmentDiff: estimate(pairs.map(([x, y]) => x.live.attainment - y!.live.attainment)),
            goodputRatio: estimate(pairs.filter(([, y]) => y!.live.goodput > 0).map(([x, y]) => x.live.goodput / y!.live.goodput)),
          });
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    simError.push({ scenario: sc, medianRelErr: median(errs), eftRelErr: median(eftErrs), within20: errs.filter((e) => e <= 0.2).length, cells: errs.length, medianRelErrP50: median(p50Errs) });
  }
  const first = (sc: string) => records.find((r) => r.scenario === sc)!;
  return {
    cells, sustainable, paired, simError,
    sloMs: Object.fromEntries(scenarios.map((sc) => [sc, first(sc).sloMs])),
    capacity: Object.fromEntries(scenarios.map((sc) => [sc, first(sc).capacity])),
  };
}

const SHORT: Record<string, string> = {
  round_robin: 'RR', weighted_round_robin: 'WRR', least_outstanding: 'JSQ', power_of_two: 'P2C', shortest_expected_delay: 'SED',
  earliest_finish_time: 'EFT', learned: 'learned',
};
const short = (p: string) => SHORT[p] ?? p;
const pct = (e: Estimate) => fmtEstimate(e, 1, 100);

export function placementMarkdown(meta: { createdAt: string; host: { cpus: number; cpuModel: string; node: string }; seconds: number; seeds: number[]; windowMs: number; warmupMs: number; sloScale: number; scenarios: { name: string; what: string }[] }, s: Summary): string {
  const out: string[] = [];
  out.push('## Placement policies on live serval');
  out.push('');
  out.push(`Measured ${meta.createdAt.slice(0, 10)} on ${meta.host.cpus} × ${meta.host.cpuModel}, Node ${meta.host.node}, in ${Math.round(meta.seconds)} s: ` +
    `${meta.seeds.length} seeds per cell (the same seeded arrivals for every policy), ${meta.windowMs} ms measured after ${meta.warmupMs} ms warm-up per step, ` +
    `each (scenario, policy) in a fresh process. Instances emulate devices with declared latency curves (\`device_latency_model\` × \`instance_slowdown\`: a batch holds its instance for l(b), sleeping), ` +
    `so the instances, not the two cores, are the bottleneck. SLO = ${meta.sloScale} × (fastest l(1) + overhead + batching delay), given to the policies as \`slo_ms\`. ` +
    'Loads are fractions of the capacity at that SLO computed from the declared device curves. Values are means ± 95% CI (Student t over seeds); ' +
    'latency percentiles count failed requests as infinite. Reproduce: `node dist/bench/placement/evaluate.js` (docs/placement.md).');
  out.push('');
  for (const sc of meta.scenarios) out.push(`- **${sc.name}**: ${sc.what}; SLO ${s.sloMs[sc.name]} ms, capacity ${Math.round(s.capacity[sc.name] ?? 0)} req/s.`);
  out.push('');
  out.push('The trace scenario replays the Azure LLM inference trace 2023 ("code"), CC-BY 4.0; Patel et al., "Splitwise", ISCA 2024.');
  out.push('');
  out.push('### Each policy at each scenario\'s highest load');
  out.push('');
  out.push('| scenario | load | policy | p50 ms | p95 ms | p99 ms | SLO attainment % | goodput req/s | max rate at 99% req/s |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const sc of meta.scenarios) {
    const cells = s.cells.filter((c) => c.scenario === sc.name);
    if (cells.length === 0) continue;
    const top = Math.max(...cells.map((c) => c.load));
    for (const c of cells.filter((x) => x.load === top)) {
      const sus = s.sustainable.find((x) => x.scenario === sc.name && x.policy === c.policy)!;
      const susText = `${fmtEstimate(sus.rate, 0)}${sus.note === 'at-least' ? ' (≥, all loads pass)' : sus.note === 'below' ? ' (below the sweep, extrapolated)' : ''}`;
      out.push(`| ${sc.name} | ${c.load} (${Math.round(c.rate)}/s) | ${short(c.policy)} | ${fmtEstimate(c.p50, 2)} | ${fmtEstimate(c.p95, 2)} | ${fmtEstimate(c.p99, 2)} | ${pct(c.attainment)} | ${fmtEstimate(c.goodput, 0)} | ${susText} |`);
    }
  }
  out.push('');
  out.push('### Learned vs each baseline (paired by seed, every load)');
  out.push('');
  out.push('Attainment difference in percentage points (learned − baseline) and goodput ratio (learned / baseline). Bold: the CI excludes zero (or 1).');
  out.push('');
  const baselines = uniq(s.paired.map((p) => p.baseline));
  out.push(`| scenario | load | ${baselines.map((b) => `vs ${short(b)}`).join(' | ')} |`);
  out.push(`|---|---|${baselines.map(() => '---').join('|')}|`);
  for (const sc of meta.scenarios) {
    for (const load of uniq(s.paired.filter((p) => p.scenario === sc.name).map((p) => p.load))) {
      const row = baselines.map((b) => {
        const p = s.paired.find((x) => x.scenario === sc.name && x.load === load && x.baseline === b);
        if (!p) return '';
        const d = p.attainmentDiff, g = p.goodputRatio;
        const dText = fmtEstimate(d, 1, 100), gText = fmtEstimate(g, 3);
        const dSig = Number.isFinite(d.ci) && Math.abs(d.mean) > d.ci, gSig = Number.isFinite(g.ci) && Math.abs(g.mean - 1) > g.ci;
        return `${dSig ? `**${dText}**` : dText} pp, ×${gSig ? `**${gText}**` : gText}`;
      });
      out.push(`| ${sc.name} | ${load} | ${row.join(' | ')} |`);
    }
  }
  out.push('');
  out.push('### Simulator vs live (p99)');
  out.push('');
  out.push('The simulator (native/sim) predicts every live step from the scenario\'s measured profile, with the same process, rate, SLO and seed. Error = |sim p99 − live p99| / live p99 of the seed means, per (policy, load) cell.');
  out.push('');
  out.push('| scenario | p99 median error, all policies | p99, EFT | p99 cells within 20% | p50 median error |');
  out.push('|---|---|---|---|---|');
  for (const e of s.simError) {
    out.push(`| ${e.scenario} | ${(e.medianRelErr * 100).toFixed(0)}% | ${(e.eftRelErr * 100).toFixed(0)}% | ${e.within20} / ${e.cells} | ${(e.medianRelErrP50 * 100).toFixed(0)}% |`);
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

export function placementChart(s: Summary): Record<string, unknown> {
  const values = s.cells.flatMap((c) => [
    { scenario: c.scenario, policy: short(c.policy), load: c.load, metric: 'SLO attainment %', value: c.attainment.mean * 100, lo: (c.attainment.mean - (c.attainment.ci || 0)) * 100, hi: (c.attainment.mean + (c.attainment.ci || 0)) * 100 },
    ...(Number.isFinite(c.p99.mean) ? [{ scenario: c.scenario, policy: short(c.policy), load: c.load, metric: 'p99 ms', value: c.p99.mean, lo: c.p99.mean - (c.p99.ci || 0), hi: c.p99.mean + (c.p99.ci || 0) }] : []),
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Placement policies on live serval: mean and 95% CI over seeds',
    data: { values },
    facet: { row: { field: 'metric', type: 'nominal', title: null }, column: { field: 'scenario', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent', x: 'independent' } },
    spec: {
      width: 150, height: 130,
      layer: [
        { mark: { type: 'line', point: { size: 15 } }, encoding: { x: { field: 'load', type: 'quantitative', title: 'load (fraction of capacity)', scale: { zero: false } }, y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } }, color: { field: 'policy', type: 'nominal' } } },
        { mark: { type: 'errorbar' }, encoding: { x: { field: 'load', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'policy', type: 'nominal' } } },
      ],
    },
  };
}
