/** The autoscaling comparison's pieces: the HPA arithmetic and the seeded arrival shapes (bench/autoscale/). */
import { describe, expect, it } from 'vitest';
import { HpaController } from '../bench/autoscale/hpa-controller.js';
import { burstRates, poissonFromRates, traceRates } from '../bench/autoscale/arrival-shapes.js';

const spec = { target: 0.8, minReplicas: 1, maxReplicas: 20, startupS: 30, scaleDownStabilizationS: 300, syncPeriodS: 15 };

describe('HpaController', () => {
  it('keeps the count inside the tolerance, scales by ceil(ready x metric / target) outside it', () => {
    const h = new HpaController(spec, 4);
    expect(h.sync(15, 0.85)).toBe(4);          // ratio 1.06: within 10%
    expect(h.sync(30, 1.2)).toBe(6);           // ceil(4 x 1.5)
  });
  it('new pods cost at once and serve after their startup', () => {
    const h = new HpaController(spec, 2);
    expect(h.sync(0, 1.6)).toBe(4);
    expect(h.readyAt(15)).toBe(2);
    expect(h.total).toBe(4);
    expect(h.readyAt(30)).toBe(4);
  });
  it('scale-up at most doubles per sync; min and max bound it', () => {
    const h = new HpaController(spec, 2);
    expect(h.sync(0, 8)).toBe(4);              // wanted 20
    expect(new HpaController({ ...spec, maxReplicas: 3 }, 2).sync(0, 8)).toBe(3);
    expect(new HpaController(spec, 2).sync(0, 0)).toBe(2);  // stabilisation holds the initial count
  });
  it('scale-down waits for the highest recommendation of the stabilisation window to fall', () => {
    const h = new HpaController(spec, 4);
    h.sync(100, 0.8);
    expect(h.sync(200, 0.2)).toBe(4);          // the initial and t=100 recommendations (4) are < 300 s old
    expect(h.sync(350, 0.2)).toBe(4);          // t=100's is still in the window
    expect(h.sync(401, 0.2)).toBe(1);          // only t=200/350/401 (1 each) remain
  });
});

describe('arrival shapes', () => {
  it('poissonFromRates is seeded and follows the per-second rates', () => {
    const a = poissonFromRates([100, 0, 300], 7);
    expect(Array.from(a)).toEqual(Array.from(poissonFromRates([100, 0, 300], 7)));
    const inSecond = (k: number) => Array.from(a).filter((t) => t >= k && t < k + 1).length;
    expect(inSecond(1)).toBe(0);
    expect(inSecond(0)).toBeGreaterThan(60);
    expect(inSecond(2)).toBeGreaterThan(inSecond(0));
    for (let i = 1; i < a.length; i++) expect(a[i]!).toBeGreaterThanOrEqual(a[i - 1]!);
  });
  it('traceRates keeps the trace shape at the requested mean; burstRates is a square wave', () => {
    const r = traceRates([0, 0.1, 0.2, 5, 9.99], 10, 50);
    expect(r.reduce((x, y) => x + y, 0) / r.length).toBeCloseTo(50);
    expect(r[0]).toBeCloseTo(300);  // 3 of 5 arrivals (mean 0.5 per second) in second 0
    expect(r[1]).toBe(0);
    expect(burstRates(8, 1, 5, 2, 4)).toEqual([1, 1, 5, 5, 1, 1, 5, 5]);
  });
});
