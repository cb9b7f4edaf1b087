/**
 * Prometheus metrics for `serval serve`. Node process metrics come from prom-client; serval's own
 * metrics are read from `runtime.stats()` once per scrape (collect callbacks), never counted per
 * request in JS. Histograms arrive as snapshots, which prom-client's `Histogram` cannot take, so
 * they are registered as small custom metrics (`SnapshotHistogram`) that format through the same
 * registry. Names and their Triton equivalents: src/server/METRICS.md.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { HistogramSnapshot, InstanceStats, ModelState, ModelStats, ModelVersionInfo, RuntimeStats } from '../api-types.js';
import type { ServingRuntime } from './serving-runtime.js';
import { registerPipelineMetrics } from './pipeline-metrics.js';
import { registerTrafficMetrics } from '../rollout/traffic-metrics.js';
import { registerAutoscalingMetrics } from '../cluster/autoscaling-metrics.js';
import { registerUpstreamMetrics } from '../cluster/upstream-metrics.js';

type Labels = Record<string, string>;

interface Snapshot {
  stats: RuntimeStats;
  models: ModelVersionInfo[];
  /** process.hrtime in seconds when the snapshot was taken. */
  at: number;
}

const STATES: readonly ModelState[] = ['LOADING', 'READY', 'UNLOADING', 'UNAVAILABLE'];
const modelLabels = (m: { name: string; version: number }): Labels => ({ model: m.name, version: String(m.version) });
const nowSeconds = (): number => Number(process.hrtime.bigint()) / 1e9;

/**
 * A histogram whose buckets come from a `HistogramSnapshot` (non-cumulative counts per bound) at
 * scrape time. Implements the part of prom-client's metric interface that `Registry` uses.
 */
export class SnapshotHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly series: () => { labels: Labels; h: HistogramSnapshot }[],
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { metricName: string; labels: Labels; value: number }[] }> {
    const values: { metricName: string; labels: Labels; value: number }[] = [];
    for (const { labels, h } of this.series()) {
      let cumulative = 0;
      let sawInf = false;
      h.bounds.forEach((bound, i) => {
        cumulative += h.counts[i] ?? 0;
        sawInf ||= bound === Infinity;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: formatBound(bound) }, value: cumulative });
      });
      if (!sawInf) values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: h.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: h.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}

function formatBound(bound: number): string {
  return bound === Infinity ? '+Inf' : String(bound);
}

/** Resolution of `nodejs_eventloop_lag_*` (prom-client's `eventLoopMonitoringPrecision`). */
const EVENT_LOOP_SAMPLE_MS = 250;

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  private readonly httpChildren = new Map<string, { inc(value?: number): void }>();
  private readonly grpcRequests: Counter<'method' | 'code'>;
  private readonly threadAnswered: Counter<'thread'>;
  private snapshot: Snapshot = { stats: { policy: '', admission: 'none', models: [] }, models: [], at: nowSeconds() };
  /** Busy seconds and time per instance at the previous scrape, for utilisation over the interval. */
  private readonly previousBusy = new Map<string, { busy: number; at: number }>();

  constructor(private readonly runtime: ServingRuntime) {
    // prom-client samples event-loop delay with a 10 ms libuv timer by default: 100 wake-ups a second on an
    // idle server (most of its idle CPU). 250 ms keeps the lag metric meaningful for alerting.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'serval_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status code.',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    });
    this.threadAnswered = new Counter({
      name: 'serval_http_thread_requests_total',
      help: 'Inference requests an HTTP thread (--http-threads; 1 and up, the main thread is 0 and not counted here) answered without the main thread.',
      labelNames: ['thread'] as const,
      registers,
    });
    this.grpcRequests = new Counter({
      name: 'serval_grpc_requests_total',
      help: 'gRPC requests answered (each ModelStreamInfer request counts), by method and status code name.',
      labelNames: ['method', 'code'] as const,
      registers,
    });

    const self = this;
    registerPipelineMetrics(this.registry, () => self.snapshot.stats);
    const perModel = (name: string, help: string, value: (m: ModelStats) => number): void => {
      new Counter({
        name,
        help,
        labelNames: ['model', 'version'] as const,
        registers,
        collect() {
          this.reset();
          for (const m of self.snapshot.stats.models) this.inc(modelLabels(m), value(m));
        },
      });
    };
    perModel('serval_inference_request_success_total', 'Successful inference requests.', (m) => m.success);
    perModel('serval_inference_count_total', 'Inferences performed (a batch of n counts n).', (m) => m.inferenceCount);
    perModel('serval_inference_exec_count_total', 'Model executions (batches).', (m) => m.executionCount);
    new Gauge({
      name: 'serval_inference_pending_request_count',
      help: 'Requests queued and not yet executing.',
      labelNames: ['model', 'version'] as const,
      registers,
      collect() {
        this.reset();
        for (const m of self.snapshot.stats.models) this.set(modelLabels(m), m.pending);
      },
    });

    new Counter({
      name: 'serval_inference_request_failure_total',
      help: 'Failed inference requests by reason (serval error code).',
      labelNames: ['model', 'version', 'reason'] as const,
      registers,
      collect() {
        this.reset();
        for (const m of self.snapshot.stats.models) {
          for (const [reason, n] of Object.entries(m.failure)) this.inc({ ...modelLabels(m), reason }, n);
        }
      },
    });

    new Counter({
      name: 'serval_policy_fallbacks_total',
      help: 'Placement decisions the learned policy handed to earliest_finish_time (features outside its training envelope, or profile error too high).',
      labelNames: ['model', 'version'] as const,
      registers,
      collect() {
        this.reset();
        for (const m of self.snapshot.stats.models) this.inc(modelLabels(m), m.policyFallbacks ?? 0);
      },
    });

    new Counter({
      name: 'serval_inference_request_shed_total',
      help: 'Requests the admission policy shed, by reason: deadline (predicted late at arrival), late (became late while queued), codel, concurrency.',
      labelNames: ['model', 'version', 'reason'] as const,
      registers,
      collect() {
        this.reset();
        for (const m of self.snapshot.stats.models) {
          for (const [reason, n] of Object.entries(m.shed ?? {})) this.inc({ ...modelLabels(m), reason }, n);
        }
      },
    });
    registerTrafficMetrics(this.registry, () => runtime.traffic);
    const admissionGauge = (name: string, help: string, value: (m: ModelStats) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['model', 'version', 'admission'] as const,
        registers,
        collect() {
          this.reset();
          for (const m of self.snapshot.stats.models) this.set({ ...modelLabels(m), admission: m.admission ?? 'none' }, value(m));
        },
      });
    };
    admissionGauge('serval_admission_in_flight', 'Admitted requests not yet answered (queued or running).', (m) => m.inFlight ?? 0);
    admissionGauge('serval_admission_limit', 'The adaptive in-flight limit (adaptive_concurrency; 0 for other policies).', (m) => m.admissionLimit ?? 0);
    admissionGauge('serval_admission_prediction_error_ratio',
      'Mean |predicted - actual| / actual latency of the requests admission predicted at arrival (predicted vs actual latency error).',
      (m) => m.predictionErrorMean ?? 0);

    const histogram = (name: string, help: string, pick: (m: ModelStats) => HistogramSnapshot): void => {
      const metric = new SnapshotHistogram(name, help, () =>
        this.snapshot.stats.models.map((m) => ({ labels: modelLabels(m), h: pick(m) })),
      );
      // SnapshotHistogram provides what Registry reads (name, help, type, get); prom-client's type wants its own classes.
      this.registry.registerMetric(metric as unknown as Metric);
    };
    histogram('serval_inference_queue_duration_seconds', 'Time requests waited in the scheduler queue.', (m) => m.queueSeconds);
    histogram('serval_inference_compute_duration_seconds', 'Time model executions took (per request).', (m) => m.computeSeconds);
    histogram('serval_inference_request_duration_seconds', 'End-to-end request time inside the runtime.', (m) => m.requestSeconds);
    histogram('serval_inference_batch_size', 'Batch size of model executions.', (m) => m.batchSize);

    const instanceLabels = ['model', 'version', 'model_instance', 'kind'] as const;
    new Gauge({
      name: 'serval_instance_utilization',
      help: 'Fraction of wall time the instance spent executing since the previous scrape (0-1).',
      labelNames: instanceLabels,
      registers,
      collect() {
        this.reset();
        for (const [labels, u] of self.utilization()) this.set(labels, u);
      },
    });
    const perInstance = (name: string, help: string, value: (i: InstanceStats) => number): void => {
      new Counter({
        name,
        help,
        labelNames: instanceLabels,
        registers,
        collect() {
          this.reset();
          for (const m of self.snapshot.stats.models) {
            for (const i of m.instances) this.inc({ ...modelLabels(m), model_instance: String(i.index), kind: i.kind }, value(i));
          }
        },
      });
    };
    perInstance('serval_instance_placements_total', 'Requests the placement policy sent to the instance.', (i) => i.placements);
    perInstance('serval_instance_restarts_total', 'Executor restarts after a crash.', (i) => i.restarts);
    perInstance('serval_instance_device_overruns_total',
      'Batches whose real run took longer than the emulated device time (device_latency_model / instance_slowdown): the host is slower than the declared device.',
      (i) => i.emulatedDevice?.overruns ?? 0);
    new Gauge({
      name: 'serval_model_state',
      help: 'Model version state: 1 for the current state, 0 for the others.',
      labelNames: ['model', 'version', 'state'] as const,
      registers,
      collect() {
        this.reset();
        for (const m of self.snapshot.models) {
          for (const state of STATES) this.set({ ...modelLabels(m), state }, m.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'serval_policy_info',
      help: 'The placement and default admission policies in use (value is always 1).',
      labelNames: ['policy', 'admission'] as const,
      registers,
      collect() {
        this.reset();
        this.set({ policy: self.snapshot.stats.policy || self.runtime.policy, admission: self.snapshot.stats.admission || 'none' }, 1);
      },
    });
    const { profileOf } = runtime;
    if (profileOf) registerAutoscalingMetrics(this.registry, { profileOf: profileOf.bind(runtime), config: runtime.config.bind(runtime) }, () => this.snapshot);
    // A router (src/cluster/cluster-runtime.ts) also reports its replicas.
    const router = runtime as Partial<{ upstreamStatus(): import('../cluster/upstream-set.js').UpstreamStatus[] }>;
    if (router.upstreamStatus) registerUpstreamMetrics(this.registry, router.upstreamStatus.bind(runtime));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Requests HTTP thread `thread` answered itself (reported in batches, src/server/threaded-transport.ts). */
  countThreadAnswered(thread: number, n: number): void {
    this.threadAnswered.labels(String(thread)).inc(n);
  }

  countHttpRequest(route: string, method: string, status: number, n = 1): void {
    // One bound child per (route, method, status), found by a string key: prom-client hashes a label
    // object on every inc() otherwise, which cost about 2.7 µs per request.
    const key = `${route} ${method} ${status}`;
    let child = this.httpChildren.get(key);
    if (child === undefined) {
      child = this.httpRequests.labels(route, method, String(status));
      this.httpChildren.set(key, child);
    }
    child.inc(n);
  }

  countGrpcRequest(method: string, code: string): void {
    this.grpcRequests.inc({ method, code });
  }

  /** The exposition text: one `runtime.stats()` snapshot feeds every serval metric of the scrape. */
  async render(): Promise<string> {
    this.snapshot = { stats: this.runtime.stats(), models: this.runtime.models(), at: nowSeconds() };
    return this.registry.metrics();
  }

  /** busySeconds delta / wall delta per instance; the first scrape uses the version's uptime. */
  private utilization(): [Labels, number][] {
    const { stats, at } = this.snapshot;
    const out: [Labels, number][] = [];
    const seen = new Set<string>();
    for (const m of stats.models) {
      for (const i of m.instances) {
        const labels = { ...modelLabels(m), model_instance: String(i.index), kind: i.kind };
        const key = `${m.name}\0${m.version}\0${i.index}`;
        seen.add(key);
        const prev = this.previousBusy.get(key);
        const u = prev && at > prev.at && i.busySeconds >= prev.busy
          ? (i.busySeconds - prev.busy) / (at - prev.at)
          : m.uptimeSeconds > 0 ? i.busySeconds / m.uptimeSeconds : 0;
        this.previousBusy.set(key, { busy: i.busySeconds, at });
        out.push([labels, Math.min(1, Math.max(0, u))]);
      }
    }
    for (const key of this.previousBusy.keys()) if (!seen.has(key)) this.previousBusy.delete(key);
    return out;
  }
}
