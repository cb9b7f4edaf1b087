/**
 * /metrics: valid Prometheus text, serval's series read from runtime.stats() at scrape time,
 * counters that move with traffic, histograms built from snapshots.
 */
import { describe, expect, it } from 'vitest';
import { ServerMetrics } from '../src/server/metrics.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';
import { parsePrometheusText, sampleValue } from './fixtures/prom-text.js';

const scorerInput = { input: { type: 'FP32', dims: [2, 4], data: new Float32Array(8) } };

describe('metrics exposition', () => {
  it('parses as Prometheus text and includes process and serval families', async () => {
    const fake = new FakeRuntime();
    await fake.infer('scorer', scorerInput);
    const metrics = new ServerMetrics(fake);
    metrics.countHttpRequest('/v2/models/:model/infer', 'POST', 200);
    const families = parsePrometheusText(await metrics.render());
    for (const name of [
      'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes',
      'serval_inference_request_success_total', 'serval_inference_request_failure_total', 'serval_inference_count_total',
      'serval_inference_exec_count_total', 'serval_inference_pending_request_count',
      'serval_inference_queue_duration_seconds', 'serval_inference_compute_duration_seconds',
      'serval_inference_request_duration_seconds', 'serval_inference_batch_size',
      'serval_instance_utilization', 'serval_instance_placements_total', 'serval_model_state', 'serval_http_requests_total',
      'serval_policy_fallbacks_total',
    ]) {
      expect(families.has(name), name).toBe(true);
    }
    expect(families.get('serval_inference_queue_duration_seconds')!.type).toBe('histogram');
    expect(families.get('serval_inference_request_success_total')!.type).toBe('counter');
    expect(sampleValue(families, 'serval_http_requests_total', { route: '/v2/models/:model/infer', status: '200' })).toBe(1);
    expect(sampleValue(families, 'serval_model_state', { model: 'scorer', version: '1', state: 'READY' })).toBe(1);
    expect(sampleValue(families, 'serval_model_state', { model: 'scorer', version: '1', state: 'LOADING' })).toBe(0);
    expect(sampleValue(families, 'serval_inference_batch_size_bucket', { model: 'scorer', le: '2' })).toBe(1);
    expect(sampleValue(families, 'serval_inference_batch_size_count', { model: 'scorer' })).toBe(1);
    expect(families.get('serval_policy_fallbacks_total')!.type).toBe('counter');
    expect(sampleValue(families, 'serval_policy_fallbacks_total', { model: 'scorer', version: '1' })).toBe(0);
  });

  it('counters move with traffic; failures carry their reason', async () => {
    const fake = new FakeRuntime();
    const metrics = new ServerMetrics(fake);
    const before = parsePrometheusText(await metrics.render());
    expect(sampleValue(before, 'serval_inference_request_success_total', { model: 'scorer' })).toBe(0);
    for (let i = 0; i < 3; i++) await fake.infer('scorer', scorerInput);
    await fake.infer('failing', { code: { type: 'BYTES', dims: [1], data: ['QUEUE_FULL'] } }).catch(() => {});
    const after = parsePrometheusText(await metrics.render());
    expect(sampleValue(after, 'serval_inference_request_success_total', { model: 'scorer', version: '1' })).toBe(3);
    expect(sampleValue(after, 'serval_inference_count_total', { model: 'scorer' })).toBe(6);
    expect(sampleValue(after, 'serval_inference_exec_count_total', { model: 'scorer' })).toBe(3);
    expect(sampleValue(after, 'serval_inference_request_failure_total', { model: 'failing', reason: 'QUEUE_FULL' })).toBe(1);
    expect(sampleValue(after, 'serval_instance_placements_total', { model: 'scorer', model_instance: '0' })).toBe(3);
    expect(sampleValue(after, 'serval_inference_request_duration_seconds_count', { model: 'scorer' })).toBe(3);
  });

  it('instance utilisation is busy time over wall time between scrapes, within [0, 1]', async () => {
    const fake = new FakeRuntime();
    const metrics = new ServerMetrics(fake);
    await metrics.render();
    fake.slowMs = 50;
    await fake.infer('slow', { x: { type: 'FP32', dims: [1], data: new Float32Array(1) } });
    const fams = parsePrometheusText(await metrics.render());
    const u = sampleValue(fams, 'serval_instance_utilization', { model: 'slow', model_instance: '0' })!;
    expect(u).toBeGreaterThan(0.3);
    expect(u).toBeLessThanOrEqual(1);
    const idle = parsePrometheusText(await metrics.render());
    expect(sampleValue(idle, 'serval_instance_utilization', { model: 'slow', model_instance: '0' })).toBe(0);
  });

  it('escapes label values and drops series of unloaded models', async () => {
    const fake = new FakeRuntime(['scorer']);
    fake.addVersion('we"ird\\name', 1);
    const metrics = new ServerMetrics(fake);
    const fams = parsePrometheusText(await metrics.render());
    expect(sampleValue(fams, 'serval_inference_request_success_total', { model: 'we"ird\\name' })).toBe(0);
    await fake.unloadModel('scorer');
    const after = parsePrometheusText(await metrics.render());
    expect(sampleValue(after, 'serval_inference_request_success_total', { model: 'scorer' })).toBeUndefined();
  });
});

describe('prometheus text parser (the test oracle itself)', () => {
  it('rejects what Prometheus rejects', () => {
    expect(() => parsePrometheusText('a 1')).toThrow(/newline/);
    expect(() => parsePrometheusText('a 1\n')).toThrow(/without a # TYPE/);
    expect(() => parsePrometheusText('# TYPE a counter\na{b=c} 1\n')).toThrow(/unquoted/);
    expect(() => parsePrometheusText('# TYPE a counter\na one\n')).toThrow(/bad value/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n')).toThrow(/\+Inf/);
  });
});
