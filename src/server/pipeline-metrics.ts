/**
 * Metrics of the pipeline features, read from the same `runtime.stats()` snapshot as the rest of a scrape:
 * each ensemble step's requests, the uncertainty an ensemble reports (its `uncertainty_output`), and the
 * response cache's hits and misses.
 */
import { Counter, type Metric, type Registry } from 'prom-client';
import type { RuntimeStats } from '../api-types.js';
import { SnapshotHistogram } from './metrics.js';

export function registerPipelineMetrics(registry: Registry, stats: () => RuntimeStats): void {
  const registers = [registry];
  const models = () => stats().models;
  const labels = (m: { name: string; version: number }) => ({ model: m.name, version: String(m.version) });
  new Counter({
    name: 'serval_ensemble_step_requests_total',
    help: 'Requests an ensemble sent to each step\'s member model, by outcome (success or the serval error code).',
    labelNames: ['model', 'version', 'step', 'member', 'outcome'] as const,
    registers,
    collect() {
      this.reset();
      for (const m of models()) {
        for (const s of m.ensemble?.steps ?? []) {
          const step = { ...labels(m), step: String(s.step), member: s.model };
          this.inc({ ...step, outcome: 'success' }, s.success);
          for (const [code, n] of Object.entries(s.failure)) this.inc({ ...step, outcome: code }, n);
        }
      }
    },
  });
  registry.registerMetric(new SnapshotHistogram(
    'serval_ensemble_uncertainty',
    'Values of the output an ensemble names in its uncertainty_output parameter (e.g. the std of its members\' probabilities), one per row.',
    () => models().flatMap((m) => (m.ensemble?.uncertainty ? [{ labels: { ...labels(m), output: m.ensemble.uncertainty.output }, h: m.ensemble.uncertainty.histogram }] : [])),
  ) as unknown as Metric);
  const cacheCounter = (name: string, help: string, pick: (c: NonNullable<RuntimeStats['models'][number]['cache']>) => number) => new Counter({
    name, help, labelNames: ['model', 'version'] as const, registers,
    collect() {
      this.reset();
      for (const m of models()) if (m.cache) this.inc(labels(m), pick(m.cache));
    },
  });
  cacheCounter('serval_cache_hits_total', 'Requests answered from the response cache.', (c) => c.hits);
  cacheCounter('serval_cache_misses_total', 'Requests to a cached model that the response cache could not answer (they ran the model).', (c) => c.misses);
}
