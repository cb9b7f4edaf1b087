/**
 * The admission part of the live evaluation's report: for every (scenario, load, placement+admission)
 * cell, goodput as a fraction of the scenario's capacity at its SLO, attainment, requests shed by reason,
 * the p99 answer time of requests shed at arrival, requests never answered, and the simulator's
 * prediction; then the best heuristic combination per cell against the learned joint policy.
 */
import { estimate, fmtEstimate, type Estimate } from './eval-stats.js';
import type { EvalRecord } from './eval-report.js';

const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];
const LEARNED = 'learned+learned';

interface Cell {
  scenario: string; load: number; policy: string;
  goodputOfCapacity: Estimate; attainment: Estimate; simAttainment: Estimate;
  shed: Record<string, number>; arrivalShedP99Ms: number | null; unanswered: number;
}

function cells(records: EvalRecord[]): Cell[] {
  const out: Cell[] = [];
  for (const sc of uniq(records.map((r) => r.scenario))) {
    for (const load of uniq(records.filter((r) => r.scenario === sc).map((r) => r.load))) {
      for (const policy of uniq(records.filter((r) => r.scenario === sc && r.load === load).map((r) => r.policy))) {
        const rs = records.filter((r) => r.scenario === sc && r.load === load && r.policy === policy);
        const shed: Record<string, number> = {};
        for (const r of rs) for (const [k, n] of Object.entries(r.live.shed ?? {})) shed[k] = (shed[k] ?? 0) + n;
        const p99s = rs.map((r) => r.live.arrivalShedP99Ms).filter((x): x is number => typeof x === 'number');
        out.push({
          scenario: sc, load, policy,
          goodputOfCapacity: estimate(rs.map((r) => r.live.goodput / r.capacity)),
          attainment: estimate(rs.map((r) => r.live.attainment)),
          simAttainment: estimate(rs.map((r) => r.sim.attainment)),
          shed, arrivalShedP99Ms: p99s.length ? Math.max(...p99s) : null,
          unanswered: rs.reduce((a, r) => a + (r.live.unanswered ?? 0), 0),
        });
      }
    }
  }
  return out;
}

export function admissionMarkdown(records: EvalRecord[]): string {
  if (!records.some((r) => r.live.shed !== undefined)) return '';
  const all = cells(records);
  const pct = (e: Estimate) => fmtEstimate(e, 1, 100);
  const out: string[] = [];
  out.push('### Admission: goodput at each load (fraction of capacity at the SLO), shedding, lost requests');
  out.push('');
  out.push('Goodput and attainment are means ± 95% CI over seeds; "shed" sums every seed (warm-up included) by reason; ' +
    '"arrival shed p99" is the worst seed\'s p99 time to answer a request shed at arrival (it never queued); ' +
    '"unanswered" counts measured requests with no answer within the drain timeout (lost). "sim" is the simulator\'s attainment for the same step.');
  out.push('');
  out.push('| scenario | load | placement+admission | goodput % of capacity | attainment % | sim attainment % | shed (by reason) | arrival shed p99 ms | unanswered |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const c of all) {
    const shed = Object.entries(c.shed).map(([k, n]) => `${k} ${n}`).join(', ') || '0';
    out.push(`| ${c.scenario} | ${c.load} | ${c.policy} | ${pct(c.goodputOfCapacity)} | ${pct(c.attainment)} | ${pct(c.simAttainment)} | ${shed} | ${c.arrivalShedP99Ms === null ? '–' : c.arrivalShedP99Ms.toFixed(2)} | ${c.unanswered} |`);
  }
  out.push('');
  const learned = all.filter((c) => c.policy === LEARNED);
  if (learned.length) {
    out.push('### The learned joint policy against the best heuristic combination');
    out.push('');
    out.push('Per (scenario, load): the heuristic combination (placement × admission, JSQ included) with the highest mean goodput, and the learned joint policy\'s goodput ratio to it, paired by seed (mean ± 95% CI).');
    out.push('');
    out.push('| scenario | load | best heuristic combination | its goodput % of capacity | learned+learned | ratio (paired) |');
    out.push('|---|---|---|---|---|---|');
    for (const l of learned) {
      const rivals = all.filter((c) => c.scenario === l.scenario && c.load === l.load && c.policy !== LEARNED && !c.policy.startsWith('learned'));
      if (!rivals.length) continue;
      const best = rivals.reduce((a, b) => (b.goodputOfCapacity.mean > a.goodputOfCapacity.mean ? b : a));
      const pairs = records.filter((r) => r.scenario === l.scenario && r.load === l.load && r.policy === LEARNED)
        .map((r) => [r, records.find((x) => x.scenario === r.scenario && x.load === r.load && x.policy === best.policy && x.seed === r.seed)] as const)
        .filter(([, b]) => b && b.live.goodput > 0);
      const ratio = estimate(pairs.map(([a, b]) => a.live.goodput / b!.live.goodput));
      out.push(`| ${l.scenario} | ${l.load} | ${best.policy} | ${pct(best.goodputOfCapacity)} | ${pct(l.goodputOfCapacity)} | ×${fmtEstimate(ratio, 3)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
