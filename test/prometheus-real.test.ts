/**
 * A real Prometheus (Debian's `prometheus` package, 2.42) scrapes a running `serval serve`: the shipped
 * rules (deploy/prometheus/rules.yml) load and evaluate, the HPA (Prometheus adapter) and KEDA queries of
 * deploy/ return the autoscaling signal, and every scraped series name and label follows Prometheus's
 * conventions (no label collides with the target labels Prometheus adds: no `exported_*`).
 * Skipped, saying why, only when the prometheus or promtool binary is absent (.ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { call } from './fixtures/http-call.js';
import { ROOT, startServal, tempRepository, type ServalProcess } from './fixtures/serval-process.js';

const DEPLOY = join(ROOT, 'deploy');
const hasBinary = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
const available = hasBinary('prometheus') && hasBinary('promtool');
if (!available) {
  console.warn('prometheus-real.test.ts SKIPPED: the prometheus/promtool binaries are absent (Debian: apt-get install -y prometheus; .ci/run installs it)');
}

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const port = (s.address() as { port: number }).port;
    s.close(() => resolve(port));
  });
  s.on('error', reject);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Json = Record<string, any>;

describe.skipIf(!available)('real Prometheus against serval serve', () => {
  let serval: ServalProcess;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let promLog = '';
  const target = () => new URL(serval.url).host;

  const api = async (path: string): Promise<Json> => {
    const r = await call(promUrl, 'GET', path);
    expect(r.status, `${path}: ${r.raw.toString()}`).toBe(200);
    return r.json.data;
  };
  const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> =>
    (await api(`/api/v1/query?query=${encodeURIComponent(q)}`))['result'];
  const infer = (n: number) => Promise.all(Array.from({ length: n }, () =>
    call(serval.url, 'POST', '/v2/models/fraud_mlp/infer', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 128], data: new Array(128).fill(0.5) }] })));

  beforeAll(async () => {
    serval = await startServal(['--model-repository', tempRepository(['fraud_mlp']), '--grpc-port', 'off']);
    await infer(20);
    const dir = mkdtempSync(join(tmpdir(), 'serval-prometheus-'));
    // The shipped rules, evaluated every second instead of every 15 s so the test needs seconds, not minutes.
    const rules = parseYaml(readFileSync(join(DEPLOY, 'prometheus', 'rules.yml'), 'utf8')) as Json;
    for (const g of rules['groups']) g.interval = '1s';
    writeFileSync(join(dir, 'rules.yml'), JSON.stringify(rules));
    // deploy/prometheus/prometheus.yml's job and relabelling, with a static loopback target instead of DNS discovery.
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yml')],
      scrape_configs: [{
        job_name: 'serval-replica', metrics_path: '/metrics', static_configs: [{ targets: [target()] }],
        relabel_configs: [{ target_label: 'namespace', replacement: 'serval' }],
      }],
    }));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (c: Buffer) => void (promLog += c));
    prom.stderr!.on('data', (c: Buffer) => void (promLog += c));
    // Ready, then at least 4 scrapes and rule evaluations with traffic between them (rate() needs 2 samples).
    for (let i = 0; i < 100; i++) {
      const ok = await call(promUrl, 'GET', '/-/ready').then((r) => r.status === 200, () => false);
      if (ok) break;
      if (prom.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
      await sleep(200);
    }
    // Traffic between scrapes until Prometheus has 4 successful scrapes and the rules produced the request rate.
    const scraped = async (): Promise<boolean> => {
      const ups = await query('sum_over_time(up{job="serval-replica"}[1m])').catch(() => []);
      const rate = await query('model:serval_inference_requests:rate1m').catch(() => []);
      return Number(ups[0]?.value[1] ?? 0) >= 4 && rate.length > 0;
    };
    for (let i = 0; i < 60 && !(await scraped()); i++) {
      await infer(10);
      await sleep(1000);
    }
  }, 120_000);

  afterAll(async () => {
    prom?.kill('SIGTERM');
    await serval?.stop();
  });

  it('promtool accepts the shipped rules and passes their unit tests', () => {
    const check = spawnSync('promtool', ['check', 'rules', join(DEPLOY, 'prometheus', 'rules.yml')], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const test = spawnSync('promtool', ['test', 'rules', 'rules.test.yml'], { cwd: join(DEPLOY, 'prometheus'), encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    const config = spawnSync('promtool', ['check', 'config', '--syntax-only', join(DEPLOY, 'prometheus', 'prometheus.yml')], { encoding: 'utf8' });
    expect(config.status, config.stdout + config.stderr).toBe(0);
  });

  it('scrapes serval and every series name and label follows Prometheus conventions', async () => {
    const targets = (await api('/api/v1/targets'))['activeTargets'] as Json[];
    expect(targets.map((t) => [t['labels']['job'], t['health']])).toEqual([['serval-replica', 'up']]);
    const series = (await api(`/api/v1/series?match[]=${encodeURIComponent('{job="serval-replica"}')}`)) as unknown as Record<string, string>[];
    const metadata = (await api('/api/v1/metadata')) as unknown as Record<string, { type: string }[]>;
    const names = new Set(series.map((s) => s['__name__']!));
    expect(names.size).toBeGreaterThan(30);
    for (const s of series) {
      const name = s['__name__']!;
      expect(name, 'metric names: [a-zA-Z_][a-zA-Z0-9_]*, colons are for recording rules').toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
      for (const label of Object.keys(s)) {
        expect(label).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
        expect(label, `${name}: a label collided with a target label`).not.toMatch(/^exported_/);
        if (label !== '__name__') expect(label.startsWith('__'), `${name}.${label}: reserved prefix`).toBe(false);
      }
      expect(s['instance']).toBe(target());
    }
    for (const name of [...names].filter((n) => n.startsWith('serval_'))) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      const type = (metadata[name] ?? metadata[base])?.[0]?.type;
      expect(type, `${name} has metadata`).toBeDefined();
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name, `${name}: only counters end in _total`).not.toMatch(/_total$/);
      if (/duration|latency/.test(base)) expect(base, 'durations are in seconds').toMatch(/_seconds$/);
    }
    const util = await query('serval_instance_utilization');
    expect(util.length).toBeGreaterThan(0);
    for (const r of util) expect(Object.keys(r.metric)).toEqual(expect.arrayContaining(['model_instance', 'instance', 'job', 'kind']));
  });

  it('every serval series the rules, dashboard and autoscalers use is exported', async () => {
    // Sampled series, and families exported with no sample yet (failure and shed counters before the first one).
    const names = new Set([
      ...((await api(`/api/v1/label/__name__/values`)) as unknown as string[]),
      ...Object.keys(await api('/api/v1/metadata')),
    ]);
    const texts = [
      readFileSync(join(DEPLOY, 'prometheus', 'rules.yml'), 'utf8'),
      readFileSync(join(DEPLOY, 'grafana', 'serval-dashboard.json'), 'utf8'),
      readFileSync(join(DEPLOY, 'kustomize', 'components', 'hpa', 'hpa.yaml'), 'utf8'),
      readFileSync(join(DEPLOY, 'kustomize', 'components', 'keda', 'scaledobject.yaml'), 'utf8'),
    ];
    // A name matcher such as serval_inference_request_(success|failure)_total names each alternative.
    const expand = (t: string) => t.replace(/serval_([a-z_]*)\(([a-z|]+)\)([a-z_]*)/g,
      (_m, a: string, alts: string, b: string) => alts.split('|').map((x) => `serval_${a}${x}${b}`).join(' '));
    const used = new Set(texts.map(expand).flatMap((t) => t.match(/(?<![:\w])serval_[a-z_]+(?![:\w])/g) ?? []));
    expect(used.size).toBeGreaterThan(8);
    for (const n of used) expect(names.has(n), `${n} is used in deploy/ but serval does not export it`).toBe(true);
  });

  it('the recording and alert rules evaluate against serval data', async () => {
    const groups = (await api('/api/v1/rules'))['groups'] as Json[];
    const rules = groups.flatMap((g) => g['rules'] as Json[]);
    expect(rules.length).toBe(10);
    for (const r of rules) expect([r['name'], r['health'], r['lastError'] ?? '']).toEqual([r['name'], 'ok', '']);
    const rate = await query('model:serval_inference_requests:rate1m{model="fraud_mlp"}');
    expect(Number(rate[0]?.value[1])).toBeGreaterThan(0);
    const p99 = await query('model:serval_inference_request_duration_seconds:p99_rate1m{model="fraud_mlp"}');
    expect(Number(p99[0]?.value[1])).toBeGreaterThan(0);
    // The signal is per scrape interval: some interval of the run had arrivals (the last one may not).
    const needed = await query('max_over_time(model:serval_replicas_needed:ceil{model="fraud_mlp"}[1m])');
    expect(Number(needed[0]?.value[1])).toBeGreaterThanOrEqual(1);
    // No alert fires for a healthy replica serving light traffic.
    const alerts = (await api('/api/v1/alerts'))['alerts'] as Json[];
    expect(alerts.filter((a) => a['state'] === 'firing')).toEqual([]);
  });

  it("the HPA's adapter query and KEDA's query return the SLO-capacity signal", async () => {
    const adapter = parseYaml(readFileSync(join(DEPLOY, 'prometheus', 'adapter-config.yaml'), 'utf8')) as Json;
    const rule = adapter['rules'][0];
    // The adapter fills the template with the series, the HPA's selector (namespace, pods) and the grouping label.
    const hpaQuery = String(rule.metricsQuery).replace('<<.Series>>', rule.name.as)
      .replace('<<.LabelMatchers>>', 'namespace="serval"').replace('<<.GroupBy>>', 'instance');
    const perPod = await query(hpaQuery);
    expect(perPod.length).toBe(1);
    const utilization = Number(perPod[0]!.value[1]);
    expect(Number.isFinite(utilization) && utilization >= 0).toBe(true);
    // The arrivals between the test's scrapes show in the signal.
    const peak = await query('max_over_time(serval_slo_capacity_utilization{model="fraud_mlp"}[1m])');
    expect(Number(peak[0]!.value[1])).toBeGreaterThan(0);
    const keda = parseYaml(readFileSync(join(DEPLOY, 'kustomize', 'components', 'keda', 'scaledobject.yaml'), 'utf8')) as Json;
    const total = await query(keda['spec']['triggers'][0]['metadata']['query']);
    expect(Number(total[0]!.value[1])).toBeCloseTo(utilization, 6);
    const capacity = await query('serval_slo_capacity_requests_per_second{model="fraud_mlp"}');
    expect(Number(capacity[0]!.value[1])).toBeGreaterThan(0);
  });
});
