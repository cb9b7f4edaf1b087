/**
 * Counts and times of one ensemble version, kept on the main thread: requests (success, failures by code,
 * end-to-end time), each step's requests to its member, and, when the config names one with the
 * `uncertainty_output` parameter, the distribution of an uncertainty output (e.g. probability_std).
 */
import type { ServalError } from '../errors.js';
import type { InferOutputs, ModelState, ModelStats } from '../api-types.js';
import type { ModelConfig } from '../repository/model-config.js';
import { JsHistogram, LATENCY_BOUNDS_S, emptyHistogram } from '../util/js-histogram.js';
import type { EnsemblePlan } from './ensemble-plan.js';
import type { StepObserver } from './ensemble-run.js';

/** Buckets for a standard deviation or other spread of probabilities (0..0.5). */
export const UNCERTAINTY_BOUNDS: readonly number[] = [0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5];

interface Counts { success: number; failure: Record<string, number>; seconds: JsHistogram }

const counts = (): Counts => ({ success: 0, failure: {}, seconds: new JsHistogram(LATENCY_BOUNDS_S) });

function count(c: Counts, seconds: number, error?: ServalError): void {
  if (error) {
    const code = (error as { code?: string }).code ?? 'INTERNAL';
    c.failure[code] = (c.failure[code] ?? 0) + 1;
  } else {
    c.success++;
    c.seconds.observe(seconds);
  }
}

export class EnsembleStatsRecorder implements StepObserver {
  private readonly request = counts();
  private readonly steps: Counts[];
  private inferences = 0;
  private readonly uncertainty: { output: string; histogram: JsHistogram } | undefined;
  private readonly batching: boolean;

  constructor(config: ModelConfig, private readonly plan: EnsemblePlan) {
    this.steps = plan.steps.map(counts);
    this.batching = config.maxBatchSize > 0;
    const output = config.parameters['uncertainty_output'];
    if (output) this.uncertainty = { output, histogram: new JsHistogram(UNCERTAINTY_BOUNDS) };
  }

  stepDone(step: number, seconds: number, error?: ServalError): void {
    count(this.steps[step]!, seconds, error);
  }

  requestDone(started: number, error?: ServalError, outputs?: InferOutputs): void {
    count(this.request, (performance.now() - started) / 1000, error);
    if (!outputs) return;
    const first = Object.values(outputs)[0];
    this.inferences += this.batching && first ? first.dims[0] ?? 1 : 1;
    const u = this.uncertainty && outputs[this.uncertainty.output];
    if (u && ArrayBuffer.isView(u.data)) for (const v of u.data as Float32Array) this.uncertainty!.histogram.observe(v);
  }

  snapshot(name: string, version: number, state: ModelState, inFlight: number, uptimeSeconds: number): ModelStats {
    return {
      name, version, state,
      success: this.request.success,
      failure: { ...this.request.failure },
      inferenceCount: this.inferences,
      executionCount: this.request.success,
      pending: 0,
      policyFallbacks: 0,
      admission: 'none',
      shed: {},
      inFlight,
      admissionLimit: 0,
      predictionErrorMean: 0,
      predictionCount: 0,
      queueSeconds: emptyHistogram(),
      computeSeconds: emptyHistogram(),
      requestSeconds: this.request.seconds.snapshot(),
      batchSize: emptyHistogram(),
      instances: [],
      uptimeSeconds,
      ensemble: {
        steps: this.steps.map((c, i) => ({
          step: i, model: this.plan.steps[i]!.model, success: c.success, failure: { ...c.failure }, seconds: c.seconds.snapshot(),
        })),
        ...(this.uncertainty ? { uncertainty: { output: this.uncertainty.output, histogram: this.uncertainty.histogram.snapshot() } } : {}),
      },
    };
  }
}
