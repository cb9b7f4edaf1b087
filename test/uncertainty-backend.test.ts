// The built-in uncertainty reduction (src/js-backend/uncertainty-model.ts) on its own: per-row mean, population
// std, vote share and entropy for binary and multi-class members, and the config errors it refuses to load with.
import { describe, expect, it } from 'vitest';
import { execute, initialize } from '../src/js-backend/uncertainty-model.js';
import { parseModelConfig } from '../src/repository/parse-config.js';
import type { JsBatch } from '../src/js-backend/js-model-api.js';

function setup(inputs: string, outputs: string, extra = '') {
  const text = `backend: "uncertainty"\nmax_batch_size: 8\ninput [ ${inputs} ]\noutput [ ${outputs} ]\n${extra}`;
  initialize({ config: parseModelConfig(text, { modelName: 'u' }).config, versionDir: '' });
}

const fp32 = (name: string, dims = '[ 1 ]') => `{ name: "${name}" data_type: TYPE_FP32 dims: ${dims} }`;
const batch = (size: number, members: number[][]): JsBatch => ({
  size, requestedOutputs: [],
  inputs: Object.fromEntries(members.map((m, i) => [`p${i + 1}`, { type: 'FP32' as const, dims: [size, m.length / size], data: Float32Array.from(m) }])),
});
const values = (out: ReturnType<typeof execute>, name: string) => Array.from(out[name]!.data as Float32Array);

describe('uncertainty backend', () => {
  it('binary members: mean, std, vote share and entropy per row', () => {
    setup([fp32('p1'), fp32('p2'), fp32('p3')].join(', '), ['probability_mean', 'probability_std', 'vote_share', 'entropy'].map((n) => fp32(n)).join(', '));
    const out = execute(batch(2, [[0.2, 0.9], [0.4, 0.9], [0.9, 0.9]]));
    const mean = 0.5;
    const std = Math.sqrt(((0.2 - mean) ** 2 + (0.4 - mean) ** 2 + (0.9 - mean) ** 2) / 3);
    expect(values(out, 'probability_mean')[0]).toBeCloseTo(mean, 6);
    expect(values(out, 'probability_std')[0]).toBeCloseTo(std, 6);
    expect(values(out, 'probability_std')[1]).toBeCloseTo(0, 6);
    expect(values(out, 'vote_share')).toEqual([Math.fround(2 / 3), 1]);
    expect(values(out, 'entropy')[0]).toBeCloseTo(1, 6);  // mean 0.5: one full bit
    expect(values(out, 'entropy')[1]).toBeCloseTo(-(0.9 * Math.log2(0.9) + 0.1 * Math.log2(0.1)), 5);
    expect(out['probability_mean']!.dims).toEqual([2, 1]);
  });

  it('multi-class members vote by argmax; the threshold parameter moves binary votes', () => {
    setup([fp32('p1', '[ 3 ]'), fp32('p2', '[ 3 ]')].join(', '), [fp32('class_mean', '[ 3 ]'), fp32('vote_share')].join(', '));
    const out = execute(batch(1, [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]]));
    expect(values(out, 'class_mean').map((v) => Number(v.toFixed(4)))).toEqual([0.4, 0.2, 0.4]);
    expect(values(out, 'vote_share')).toEqual([0.5]);
    setup([fp32('p1'), fp32('p2')].join(', '), fp32('vote_share'), 'parameters { key: "vote_threshold" value { string_value: "0.3" } }');
    expect(values(execute(batch(1, [[0.35], [0.1]])), 'vote_share')).toEqual([0.5]);
    expect(values(execute(batch(1, [[0.35], [0.31]])), 'vote_share')).toEqual([1]);
  });

  it.each([
    ['one input', fp32('p1'), fp32('m_mean'), '', 'at least 2 inputs'],
    ['inputs of different dims', `${fp32('p1')}, ${fp32('p2', '[ 2 ]')}`, fp32('m_mean'), '', "every input needs the same fixed dims as 'p1'"],
    ['an output naming no statistic', `${fp32('p1')}, ${fp32('p2')}`, fp32('probability'), '', "output 'probability' names no statistic"],
    ['a vote_share that is not [1]', `${fp32('p1', '[ 2 ]')}, ${fp32('p2', '[ 2 ]')}`, fp32('vote_share', '[ 2 ]'), '', 'must have dims [1]'],
    ['a bad vote_threshold', `${fp32('p1')}, ${fp32('p2')}`, fp32('m_mean'), 'parameters { key: "vote_threshold" value { string_value: "2" } }', 'vote_threshold must be in (0, 1)'],
  ])('refuses %s', (_label, inputs, outputs, extra, message) => {
    expect(() => setup(inputs, outputs, extra)).toThrow(message);
  });
});
