/**
 * `Runtime.queueLoad()` (issue 10: the per-response load report must not take a full stats snapshot) says
 * what `stats()` says of queued and in-flight requests, and the load report header built from it matches.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { LoadReporter, parseLoadReport } from '../src/cluster/load-report.js';
import { makeRepo, rows, slowIdentityConfig } from './helpers/temp-repo.js';

describe('queueLoad', () => {
  const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 1, batching: '' }) }]);
  afterAll(() => repo.cleanup());

  it('matches stats() while requests queue, and feeds the load report', async () => {
    const rt = await Runtime.open({ modelRepository: repo.root });
    try {
      expect(rt.queueLoad()).toEqual([{ name: 'slow', version: 1, pending: 0, inFlight: 0 }]);
      const answers = Array.from({ length: 30 }, () => rt.infer('slow', { x: rows(1) }));
      await expect.poll(() => rt.queueLoad()[0]!.pending, { timeout: 5000 }).toBeGreaterThanOrEqual(10);
      const [load] = rt.queueLoad();
      const s = rt.stats().models[0]!;
      // Read a moment apart while the instance works: equal, or moved on by the request or two it ran since.
      expect(Math.abs(load!.pending - s.pending)).toBeLessThanOrEqual(2);
      expect(Math.abs(load!.inFlight - s.inFlight)).toBeLessThanOrEqual(2);
      expect(load!.inFlight).toBeGreaterThanOrEqual(load!.pending);
      const report = parseLoadReport(new LoadReporter(rt).header())!;
      expect(report.queueDepth).toBeGreaterThan(0);
      expect(report.inFlight).toBeGreaterThanOrEqual(report.queueDepth);
      await Promise.all(answers);
      expect(rt.queueLoad()).toEqual([{ name: 'slow', version: 1, pending: 0, inFlight: 0 }]);
    } finally {
      await rt.close();
    }
  });
});
