// The bundled fraud pipeline's JavaScript steps on their own (models/fraud_preprocess/1/model.mjs and
// models/fraud_postprocess/1/model.mjs): the feature layout, one bad row not spoiling its batch, and decisions.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript model module (no type declarations)
import * as pre from '../models/fraud_preprocess/1/model.mjs';
// @ts-expect-error: a plain JavaScript model module (no type declarations)
import * as post from '../models/fraud_postprocess/1/model.mjs';

const rows = (txs: string[]) => ({ size: txs.length, requestedOutputs: [], inputs: { transaction: { type: 'BYTES', dims: [txs.length, 1], data: txs } } });

describe('fraud_preprocess', () => {
  it('maps a transaction to 128 features', () => {
    const out = pre.execute(rows([JSON.stringify({ amount: 100, avg_amount_30d: 50, hour: 6, is_foreign: true, card_age_days: 0 })]));
    const f = out.features.data as Float32Array;
    expect(out.features.dims).toEqual([1, 128]);
    expect(f[0]).toBeCloseTo(Math.log1p(100) / 10, 6);
    expect(f[1]).toBeCloseTo(0.2, 6);          // amount / average, capped at 10, / 10
    expect(f[2]).toBe(0);                      // log1p(0 days)
    expect(f[4]).toBe(1);                      // is_foreign
    expect(f[7]).toBeCloseTo(1, 6);            // sin(2π·6/24)
    expect(f[9 + 6]).toBe(1);                  // hour one-hot
    expect(Array.from(f.slice(9, 33)).reduce((a, b) => a + b, 0)).toBe(1);
    expect(out.parse_error.data).toEqual(['']);
  });

  it('a bad row gets zero features and its reason; the rows around it are unaffected', () => {
    const good = JSON.stringify({ amount: 5 });
    const out = pre.execute(rows([good, 'not json', JSON.stringify({ amount: 5, hour: 25 }), JSON.stringify([1]), good]));
    const f = out.features.data as Float32Array;
    expect(out.parse_error.data).toEqual(['', 'transaction is not valid JSON', "field 'hour' must be an integer in 0..23", 'transaction must be a JSON object', '']);
    for (const r of [1, 2, 3]) expect(f.slice(r * 128, (r + 1) * 128).every((v) => v === 0)).toBe(true);
    expect(Array.from(f.slice(0, 128))).toEqual(Array.from(f.slice(4 * 128)));
    expect(f[0]).toBeGreaterThan(0);
  });
});

describe('fraud_postprocess', () => {
  it('decides by the configured thresholds and says why', () => {
    post.initialize({ config: { parameters: { review_threshold: '0.5', decline_threshold: '0.8' } } });
    const out = post.execute({
      size: 4, requestedOutputs: [],
      inputs: { probability: { data: Float32Array.from([0.1, 0.6, 0.95, 0.99]) }, parse_error: { data: ['', '', '', 'bad'] } },
    });
    expect(out.decision.data).toEqual(['approve', 'review', 'decline', 'invalid']);
    expect(out.reason.data[2]).toBe('fraud probability 0.950 >= decline threshold 0.8');
    expect(out.reason.data[3]).toBe('invalid transaction: bad');
  });

  it('refuses thresholds out of order', () => {
    expect(() => post.initialize({ config: { parameters: { review_threshold: '0.9', decline_threshold: '0.8' } } })).toThrow('thresholds must satisfy');
  });
});
