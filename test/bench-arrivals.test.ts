/**
 * Arrival processes and traces: rates and variability come out as specified, traces parse (timestamps,
 * numeric seconds/ms) or fail with a message naming file and line, and everything is reproducible from a seed.
 */
import { describe, expect, it } from 'vitest';
import { arrivalSource, parseArrivalSpec, traceSource } from '../bench/arrivals.js';
import { BenchError } from '../bench/errors.js';
import { modelChooser, parseMixSpec, resolveMix } from '../bench/mix.js';
import { parseConcurrencyRange, parseRateRange } from '../bench/ranges.js';
import { Rng } from '../bench/rng.js';
import { CODE_TRACE } from '../bench/scenarios.js';
import { loadTrace, parseTimestamp, parseTraceCsv } from '../bench/trace.js';

function arrivals(spec: string, rate: number, n: number, seed = 1): number[] {
  const source = arrivalSource(parseArrivalSpec(spec), rate, new Rng(seed));
  return Array.from({ length: n }, () => source.next()!);
}

function gapStats(times: number[]): { mean: number; cv: number } {
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const variance = gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length;
  return { mean, cv: Math.sqrt(variance) / mean };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as BenchError).code;
  }
  return undefined;
}

describe('arrival processes', () => {
  it('constant: gaps of exactly 1/rate', () => {
    const { mean, cv } = gapStats(arrivals('constant', 250, 1000));
    expect(mean).toBeCloseTo(0.004, 9);
    expect(cv).toBeLessThan(1e-6);
  });

  it('poisson: mean rate and CV 1', () => {
    const { mean, cv } = gapStats(arrivals('poisson', 1000, 50_000));
    expect(mean).toBeGreaterThan(0.00097);
    expect(mean).toBeLessThan(0.00103);
    expect(cv).toBeGreaterThan(0.97);
    expect(cv).toBeLessThan(1.03);
  });

  it('gamma:CV: mean rate and the requested coefficient of variation', () => {
    for (const target of [0.5, 4]) {
      const { mean, cv } = gapStats(arrivals(`gamma:${target}`, 100, 200_000));
      expect(mean * 100).toBeGreaterThan(0.97);
      expect(mean * 100).toBeLessThan(1.03);
      expect(cv / target).toBeGreaterThan(0.9);
      expect(cv / target).toBeLessThan(1.1);
    }
  });

  it('mmpp: keeps the mean rate and sends bursts at about peak x the mean', () => {
    const rate = 200;
    const times = arrivals('mmpp:peak=8,on=0.5,off=3.5', rate, 400_000);
    const span = times[times.length - 1];
    expect(times.length / span / rate).toBeGreaterThan(0.9);
    expect(times.length / span / rate).toBeLessThan(1.1);
    // All traffic comes in "on" periods (off rate 0 for these parameters): in 50 ms buckets, the busy
    // buckets run at about 8x the mean (a little less: buckets straddle period edges).
    const bucket = 0.05;
    const counts = new Map<number, number>();
    for (const t of times) counts.set(Math.floor(t / bucket), (counts.get(Math.floor(t / bucket)) ?? 0) + 1);
    const busyRate = [...counts.values()].reduce((a, b) => a + b, 0) / (counts.size * bucket);
    expect(busyRate / rate).toBeGreaterThan(6);
    expect(busyRate / rate).toBeLessThan(8.5);
    expect(counts.size * bucket / span).toBeGreaterThan(0.1);
    expect(counts.size * bucket / span).toBeLessThan(0.17);
  });

  it('bad arrival specs are INVALID_ARGUMENT', () => {
    for (const bad of ['uniform', 'gamma', 'gamma:-1', 'poisson:3', 'mmpp:peak=0.5', 'mmpp:peak=8,on=1,off=1', 'mmpp:speed=3']) {
      expect(codeOf(() => parseArrivalSpec(bad)), bad).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('seeded reproducibility', () => {
  it('the same seed gives the same arrivals; another seed does not', () => {
    expect(arrivals('poisson', 500, 2000, 42)).toEqual(arrivals('poisson', 500, 2000, 42));
    expect(arrivals('gamma:3', 500, 2000, 42)).toEqual(arrivals('gamma:3', 500, 2000, 42));
    expect(arrivals('mmpp', 500, 2000, 42)).toEqual(arrivals('mmpp', 500, 2000, 42));
    expect(arrivals('poisson', 500, 2000, 42)).not.toEqual(arrivals('poisson', 500, 2000, 43));
  });

  it('model choice draws from its own stream: a mix does not move arrival times', () => {
    const mix = resolveMix(parseMixSpec('zipf:1.0'), ['c', 'a', 'b']);
    expect(mix.models).toEqual(['a', 'b', 'c']);
    expect(mix.weights[0] / mix.weights[1]).toBeCloseTo(2, 9);
    const root = new Rng(7);
    const choose = modelChooser(mix, root.fork('models'));
    const picks = Array.from({ length: 30_000 }, choose);
    expect(picks.filter((p) => p === 0).length / picks.length).toBeCloseTo(mix.weights[0], 1);
    const source = arrivalSource({ kind: 'poisson' }, 100, new Rng(7).fork('arrivals'));
    const again = arrivalSource({ kind: 'poisson' }, 100, root.fork('arrivals'));
    expect(Array.from({ length: 100 }, () => source.next())).toEqual(Array.from({ length: 100 }, () => again.next()));
  });

  it('an explicit mix names known models only', () => {
    expect(resolveMix(parseMixSpec('a=0.7,b=0.3'), ['a', 'b']).weights).toEqual([0.7, 0.3]);
    expect(codeOf(() => resolveMix(parseMixSpec('a=1,zzz=1'), ['a', 'b']))).toBe('UNKNOWN_MODEL');
    expect(codeOf(() => parseMixSpec('a=x'))).toBe('INVALID_ARGUMENT');
  });
});

describe('traces', () => {
  it('parses timestamps with 7-digit fractions, relative to the first arrival, sorted', () => {
    const trace = parseTraceCsv(
      ['TIMESTAMP,ContextTokens', '2023-11-16 18:17:04.0319600,1', '2023-11-16 18:17:03.9799600,2', '2023-11-16 18:17:05.5,3'].join('\n'),
      { column: 'TIMESTAMP' },
    );
    expect(trace.times[0]).toBe(0);
    expect(trace.times[1]).toBeCloseTo(0.052, 6);
    expect(trace.times[2]).toBeCloseTo(1.52004, 5);
    expect(parseTimestamp('2023-11-16T18:17:03Z')).toBe(Date.UTC(2023, 10, 16, 18, 17, 3) / 1000);
  });

  it('parses numeric columns in seconds or milliseconds', () => {
    const csv = 't,x\n1000,a\n1500,b\n3000,c\n';
    expect(parseTraceCsv(csv, { column: 't', unit: 'ms' }).times).toEqual([0, 0.5, 2]);
    expect(parseTraceCsv(csv, { column: 't' }).times).toEqual([0, 500, 2000]);
  });

  it('malformed traces are INVALID_FILE with the file and line', () => {
    const bad = (text: string, column = 't') => {
      try {
        parseTraceCsv(text, { column, source: 'trace.csv' });
      } catch (err) {
        return `${(err as BenchError).code}: ${(err as Error).message}`;
      }
      return 'parsed';
    };
    expect(bad('t\n1\nsoon\n3')).toMatch(/^INVALID_FILE: trace\.csv:3: 'soon'/);
    expect(bad('time\n1\n2', 't')).toMatch(/^INVALID_FILE: trace\.csv: no column 't'.*columns: time/);
    expect(bad('t\n1')).toMatch(/^INVALID_FILE: .*at least 2 arrivals/);
    expect(bad('t\n1\n1')).toMatch(/^INVALID_FILE: .*same time/);
  });

  it('replays with a rate scale, and loops when asked', () => {
    const times = [0, 1, 3];
    const once = traceSource(times, 2);
    expect([once.next(), once.next(), once.next(), once.next()]).toEqual([0, 0.5, 1.5, undefined]);
    // The next pass starts one mean gap (1.5 s) after the last arrival.
    const looped = traceSource(times, 1, true);
    expect(Array.from({ length: 5 }, () => looped.next())).toEqual([0, 1, 3, 4.5, 5.5]);
  });

  it('reads the shipped Azure code trace: ~57 minutes, very bursty', async () => {
    const trace = await loadTrace(CODE_TRACE, { column: 'TIMESTAMP' });
    expect(trace.times.length).toBe(8819);
    expect(trace.spanSeconds / 60).toBeGreaterThan(55);
    expect(trace.spanSeconds / 60).toBeLessThan(58);
    expect(gapStats(trace.times).cv).toBeGreaterThan(5);
  });
});

describe('ranges', () => {
  it('START:END:xK multiplies, START:END:K adds, START alone is one step', () => {
    expect(parseConcurrencyRange('1:256:x2')).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
    expect(parseConcurrencyRange('4:16:4')).toEqual([4, 8, 12, 16]);
    expect(parseConcurrencyRange('8')).toEqual([8]);
    expect(parseRateRange('0.1:0.3:0.1')).toEqual([0.1, 0.2, 0.3]);
  });

  it('bad range syntax is INVALID_ARGUMENT', () => {
    for (const bad of ['', '1:', 'a', '0', '8:4', '1:8:x1', '1:8:x', '1:2:3:4', '1.5']) {
      expect(codeOf(() => parseConcurrencyRange(bad)), bad).toBe('INVALID_ARGUMENT');
    }
  });
});
