/**
 * deploy/: every Kubernetes manifest is rendered (kustomize overlays through test/fixtures/kustomize-lite.ts)
 * and validated against the API schemas with kubernetes-models and @kubernetes-models/prometheus-operator;
 * KServe and KEDA objects (no schema library) get structural checks. The serving flags in the manifests are
 * parsed by serval's own option parsers, and the shutdown deadlines must fit inside the pod's grace period.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Service } from 'kubernetes-models/v1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parse as parseYaml } from 'yaml';
import { resolveServeConfig, SERVE_OPTIONS } from '../src/cli/serve-options.js';
import { resolveRouteConfig, ROUTE_OPTIONS } from '../src/cluster/route-options.js';
import { containersOf, readYamlDocuments, renderKustomization, type K8sObject } from './fixtures/kustomize-lite.js';

const DEPLOY = join(import.meta.dirname, '..', 'deploy');
const KUSTOMIZE = join(DEPLOY, 'kustomize');
const OVERLAYS = ['dev', 'production', 'keda'];

type Validatable = { validate(): void };
/** Schema-checked kinds: `apiVersion/kind` → the kubernetes-models class. */
const MODELS: Record<string, new (data: never) => Validatable> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};
/** Kinds without a schema library here: required fields checked by hand below. */
const STRUCTURAL = new Set(['keda.sh/v1alpha1/ScaledObject', 'serving.kserve.io/v1alpha1/ServingRuntime', 'serving.kserve.io/v1beta1/InferenceService']);

function validate(o: K8sObject): void {
  const key = `${o.apiVersion}/${o.kind}`;
  const Model = MODELS[key];
  if (Model) new Model(o as never).validate();
  else if (!STRUCTURAL.has(key)) throw new Error(`no validator for ${key} (${o.metadata?.name})`);
}

const find = (objs: K8sObject[], kind: string, name: string): K8sObject => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} not rendered`);
  return o;
};
type Json = Record<string, any>;
const spec = (o: K8sObject): Json => o['spec'] as Json;

/** `--flag=value` args → commander-style option values keyed by each option table's keys. */
function optionValues(args: string[], table: readonly { key: string; flags: string }[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of args.filter((x) => x.startsWith('--'))) {
    const [flag, value] = a.split(/=(.*)/s, 2) as [string, string | undefined];
    const o = table.find((x) => x.flags.split(' ')[0] === flag);
    if (!o) throw new Error(`unknown flag ${flag}`);
    const prev = out[o.key];
    out[o.key] = prev === undefined ? value ?? 'true' : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return out;
}

const emptyRepo = mkdtempSync(join(tmpdir(), 'serval-deploy-'));

/** The serve flags of a container, parsed by `serval serve`'s own resolver (the repository swapped for a local directory). */
function serveConfigOf(args: string[]) {
  expect(args[0]).toBe('serve');
  return resolveServeConfig({ ...optionValues(args.slice(1), SERVE_OPTIONS), modelRepository: emptyRepo }, {});
}

describe('kustomize overlays render to schema-valid objects', () => {
  for (const overlay of OVERLAYS) {
    it(`${overlay}: every object validates`, () => {
      const objs = renderKustomization(join(KUSTOMIZE, 'overlays', overlay));
      expect(objs.length).toBeGreaterThanOrEqual(5);
      for (const o of objs) expect(() => validate(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
      // The base's labels reach the base's objects (components carry their own, as in kustomize).
      for (const o of objs.filter((x) => ['Deployment', 'Service', 'PodDisruptionBudget'].includes(x.kind))) {
        expect(o.metadata.labels?.['app.kubernetes.io/part-of']).toBe('serval');
      }
    });
  }

  it('a schema violation is caught (the validation can fail)', () => {
    const objs = renderKustomization(join(KUSTOMIZE, 'overlays', 'production'));
    const broken = structuredClone(find(objs, 'Deployment', 'serval-replica'));
    spec(broken)['replicas'] = 'four';
    expect(() => validate(broken)).toThrow();
    const noPort = structuredClone(find(objs, 'Service', 'serval-replica-headless'));
    spec(noPort)['ports'][0]['port'] = 'http';
    expect(() => validate(noPort)).toThrow();
  });

  it('dev overlay: namespace, image, replica counts and the resource patch apply', () => {
    const objs = renderKustomization(join(KUSTOMIZE, 'overlays', 'dev'));
    const replica = find(objs, 'Deployment', 'serval-replica');
    expect(replica.metadata.namespace).toBe('serval-dev');
    expect(spec(replica)['replicas']).toBe(1);
    expect(spec(find(objs, 'Deployment', 'serval-router'))['replicas']).toBe(1);
    const c = containersOf(replica)[0]!;
    expect(c['image']).toBe('serval:dev');
    expect(c['resources']).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '2Gi' } });
    // The patch merged into the named container instead of replacing the list.
    expect(c['readinessProbe']).toBeDefined();
    expect(objs.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  it('production overlay: 4 replicas, the HPA on the SLO-capacity gauge, monitoring', () => {
    const objs = renderKustomization(join(KUSTOMIZE, 'overlays', 'production'));
    expect(spec(find(objs, 'Deployment', 'serval-replica'))['replicas']).toBe(4);
    expect(containersOf(find(objs, 'Deployment', 'serval-replica'))[0]!['image']).toBe('ghcr.io/example/serval:0.1.0');
    const hpa = spec(find(objs, 'HorizontalPodAutoscaler', 'serval-replica'));
    expect(hpa['scaleTargetRef']).toMatchObject({ kind: 'Deployment', name: 'serval-replica' });
    expect(hpa['metrics'][0]['pods']['metric']['name']).toBe('serval_slo_capacity_utilization');
    expect(objs.every((o) => o.metadata.namespace === 'serval')).toBe(true);
    find(objs, 'ServiceMonitor', 'serval');
  });

  it('keda overlay: a ScaledObject on the same gauge, no HPA', () => {
    const objs = renderKustomization(join(KUSTOMIZE, 'overlays', 'keda'));
    expect(objs.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
    const so = spec(find(objs, 'ScaledObject', 'serval-replica'));
    expect(so['scaleTargetRef']['name']).toBe('serval-replica');
    find(objs, 'Deployment', so['scaleTargetRef']['name']);
    expect(so['minReplicaCount']).toBeLessThanOrEqual(so['maxReplicaCount']);
    const trigger = so['triggers'][0];
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metadata.query).toContain('serval_slo_capacity_utilization');
    expect(Number(trigger.metadata.threshold)).toBeGreaterThan(0);
  });

  it('an unsupported kustomization field is an error, not ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kustomize-lite-'));
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources: []\nconfigMapGenerator: []\n');
    expect(() => renderKustomization(dir)).toThrow(/configMapGenerator/);
  });
});

describe('the replica and router workloads', () => {
  const objs = renderKustomization(join(KUSTOMIZE, 'overlays', 'production'));
  const replica = find(objs, 'Deployment', 'serval-replica');
  const router = find(objs, 'Deployment', 'serval-router');

  it('replica probes, non-root, and a grace period longer than shutdown grace + drain', () => {
    const pod = spec(replica)['template']['spec'];
    const c = containersOf(replica)[0]!;
    expect(c['readinessProbe'].httpGet.path).toBe('/v2/health/ready');
    expect(c['livenessProbe'].httpGet.path).toBe('/v2/health/live');
    expect(c['resources'].requests.cpu).toBeDefined();
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const cfg = serveConfigOf(c['args'] as string[]);
    expect(cfg.host).toBe('0.0.0.0');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(cfg.shutdownGraceSecs + cfg.drainTimeoutSecs);
    const ports = (c['ports'] as Json[]).map((p) => p['containerPort']);
    expect(ports).toEqual([cfg.httpPort, cfg.grpcPort]);
  });

  it('the headless Service selects the replicas and the PDB protects them', () => {
    const headless = spec(find(objs, 'Service', 'serval-replica-headless'));
    expect(headless['clusterIP']).toBe('None');
    const podLabels = spec(replica)['template']['metadata']['labels'];
    for (const [k, v] of Object.entries(headless['selector'])) expect(podLabels[k]).toBe(v);
    const pdb = spec(find(objs, 'PodDisruptionBudget', 'serval-replica'));
    for (const [k, v] of Object.entries(pdb['selector']['matchLabels'])) expect(podLabels[k]).toBe(v);
  });

  it('the router discovers replicas through the headless Service, with flags `serval route` accepts', () => {
    const c = containersOf(router)[0]!;
    const args = c['args'] as string[];
    expect(args[0]).toBe('route');
    const cfg = resolveRouteConfig(optionValues(args.slice(1), ROUTE_OPTIONS), {});
    const headless = find(objs, 'Service', 'serval-replica-headless');
    expect(cfg.upstreamDns).toEqual([{ host: headless.metadata.name, port: spec(headless)['ports'][0]['port'] }]);
    expect(spec(router)['template']['spec'].terminationGracePeriodSeconds).toBeGreaterThan(cfg.shutdownGraceSecs + cfg.drainTimeoutSecs);
  });
});

describe('monitoring, KServe and image artefacts', () => {
  it('the PrometheusRule ships exactly the groups of deploy/prometheus/rules.yml', () => {
    const rule = readYamlDocuments(join(KUSTOMIZE, 'components', 'monitoring', 'prometheusrule.yaml'))[0]!;
    const file = parseYaml(readFileSync(join(DEPLOY, 'prometheus', 'rules.yml'), 'utf8')) as Json;
    const norm = (g: unknown) => JSON.parse(JSON.stringify(g).replace(/\s+/g, ' '));
    expect(norm((rule['spec'] as Json)['groups'])).toEqual(norm(file['groups']));
  });

  it('KServe ServingRuntime serves onnx over v2 with serval serve flags; the InferenceService uses it', () => {
    const [rt] = readYamlDocuments(join(DEPLOY, 'kserve', 'servingruntime.yaml')) as K8sObject[];
    const [isvc] = readYamlDocuments(join(DEPLOY, 'kserve', 'inferenceservice.yaml')) as K8sObject[];
    for (const o of [rt!, isvc!]) validate(o);
    const s = spec(rt!);
    expect(s['supportedModelFormats'].map((f: Json) => f['name'])).toContain('onnx');
    expect(s['protocolVersions']).toContain('v2');
    const c = s['containers'][0];
    // The container must not be a valid Pod container in name only: it goes through the Pod schema.
    new Deployment({ metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: s['containers'] } } } } as never).validate();
    const cfg = serveConfigOf(c.args);
    expect(c.ports[0].containerPort).toBe(cfg.httpPort);
    const m = spec(isvc!)['predictor']['model'];
    expect(m).toMatchObject({ runtime: rt!.metadata.name, protocolVersion: 'v2', modelFormat: { name: 'onnx' } });
  });

  it('the Grafana dashboard is valid JSON whose panels all query serval series', () => {
    const dash = JSON.parse(readFileSync(join(DEPLOY, 'grafana', 'serval-dashboard.json'), 'utf8')) as Json;
    expect(dash['panels'].length).toBeGreaterThanOrEqual(8);
    for (const p of dash['panels']) for (const t of p.targets) expect(t.expr).toMatch(/serval_/);
  });

  it('the Dockerfile is multi-stage, runs the README build and ends as a non-root user', () => {
    const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
    expect(text.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/RUN npm ci/);
    const user = [...text.matchAll(/^USER (\S+)/gm)].at(-1)![1]!;
    expect(user.split(':')[0]).not.toMatch(/^(0|root)$/);
  });

  it('every YAML file under deploy/ parses', () => {
    const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
    const files = walk(DEPLOY).filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(15);
    for (const f of files) expect(() => readYamlDocuments(f), f).not.toThrow();
  });
});
