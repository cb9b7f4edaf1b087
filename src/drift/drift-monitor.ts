/**
 * DriftMonitor: input and output drift of one model, per version. Each sampled request's rows feed one
 * FeatureSketch per feature (element of a row, the first `maxFeatures` of each numeric tensor); a window
 * that closes scores every feature against its reference, and a feature whose PSI reaches the threshold
 * while its KS test rejects (Bonferroni over the version's features) raises a `drift` event once, until a
 * later window of that feature scores clean again.
 *
 * Cost on the request path: one counter and, for a sampled request, a binary search per monitored value
 * (the window scores are computed when a window closes, O(features x bins)). Inputs are read during
 * `observe` (the caller may reuse them once infer returns); outputs when the answer arrives.
 */
import type { InferInputs, InferOutputs, RuntimeEvent } from '../api-types.js';
import { round } from '../rollout/arm-window.js';
import type { DriftOptions, DriftReference } from './drift-options.js';
import { FeatureSketch, type FeatureScore } from './feature-sketch.js';

export interface FeatureDrift {
  tensor: string;
  /** `input` or `output`. */
  kind: 'input' | 'output';
  feature: number;
  psi: number;
  ks: number;
  pValue: number;
  drifted: boolean;
}

export interface VersionDriftSummary {
  model: string;
  version: number;
  /** `reference` while the reference window fills, then `monitoring`. */
  phase: 'reference' | 'monitoring';
  sampledRows: number;
  windowsScored: number;
  /** Features drifted in their last window. */
  drifted: number;
  features: FeatureDrift[];
}

interface TensorSketches {
  kind: 'input' | 'output';
  width: number;
  sketches: FeatureSketch[];
  drifted: boolean[];
}

class VersionDrift {
  readonly tensors = new Map<string, TensorSketches>();
  sampledRows = 0;
  windowsScored = 0;
  private seen = 0;

  constructor(private readonly options: DriftOptions, private readonly reference: DriftReference | undefined) {}

  /** Counter sampling: exactly `sampleRate` of the requests, evenly spread. */
  sampled(): boolean {
    this.seen++;
    const rate = this.options.sampleRate;
    return rate >= 1 || Math.floor(this.seen * rate) !== Math.floor((this.seen - 1) * rate);
  }

  tensor(name: string, kind: 'input' | 'output', rowWidth: number): TensorSketches {
    let t = this.tensors.get(`${kind}:${name}`);
    if (!t) {
      const width = Math.min(rowWidth, this.options.maxFeatures);
      const o = this.options;
      t = { kind, width, sketches: Array.from({ length: width }, () => new FeatureSketch(o.referenceRows, o.windowRows, o.bins)), drifted: new Array(width).fill(false) };
      const rows = this.reference?.[name];
      if (rows) t.sketches.forEach((sketch, f) => sketch.setReference(rows.map((r) => r[f] ?? NaN)));
      this.tensors.set(`${kind}:${name}`, t);
    }
    return t;
  }

  featureCount(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.width;
    return n;
  }
}

export class DriftMonitor {
  private readonly versions = new Map<number, VersionDrift>();
  private closed = false;

  /** `reference`: rows by tensor name from `drift_reference_file`; other tensors learn theirs from the first requests. */
  constructor(
    readonly model: string, readonly options: DriftOptions, private readonly emit: (e: RuntimeEvent) => void, private readonly reference?: DriftReference,
  ) {}

  /** Samples one request's inputs now and its outputs when they arrive. Never throws, never delays the answer. */
  observe(version: number, inputs: InferInputs, outputs: Promise<InferOutputs>): void {
    if (this.closed) return;
    let v = this.versions.get(version);
    if (!v) this.versions.set(version, (v = new VersionDrift(this.options, this.reference)));
    if (!v.sampled()) return;
    const state = v;
    try {
      this.addTensors(version, state, inputs, 'input');
    } catch {
      return; // a malformed request: infer rejects it with the reason
    }
    outputs.then((out) => { if (!this.closed) this.addTensors(version, state, out, 'output'); }, () => {});
  }

  summaries(): VersionDriftSummary[] {
    return [...this.versions].map(([version, v]) => {
      const features: FeatureDrift[] = [];
      let reference = false;
      for (const [key, t] of v.tensors) {
        const tensor = key.slice(key.indexOf(':') + 1);
        t.sketches.forEach((s, feature) => {
          if (!s.ready) reference = true;
          if (s.last) features.push({ tensor, kind: t.kind, feature, psi: round(s.last.psi), ks: round(s.last.ks), pValue: s.last.pValue, drifted: t.drifted[feature]! });
        });
      }
      return {
        model: this.model, version, phase: reference || v.tensors.size === 0 ? 'reference' : 'monitoring', sampledRows: v.sampledRows,
        windowsScored: v.windowsScored, drifted: features.filter((f) => f.drifted).length, features,
      };
    });
  }

  /** Forgets a version (unloaded). */
  dropVersion(version: number): void {
    this.versions.delete(version);
  }

  close(): void {
    this.closed = true;
    this.versions.clear();
  }

  private addTensors(version: number, v: VersionDrift, tensors: InferInputs | InferOutputs, kind: 'input' | 'output'): void {
    for (const [name, t] of Object.entries(tensors)) {
      const data = (t as { data: unknown }).data;
      const dims = (t as { dims: readonly number[] }).dims;
      if (Array.isArray(data) || !ArrayBuffer.isView(data)) continue;
      const values = data as unknown as ArrayLike<number | bigint>;
      const rows = dims.length === 0 ? 1 : Math.max(1, dims[0]!);
      const width = Math.floor(values.length / rows);
      if (width === 0) continue;
      const sketches = v.tensor(name, kind, width);
      for (let r = 0; r < rows; r++) {
        if (kind === 'input' && name === Object.keys(tensors)[0]) v.sampledRows++;
        for (let f = 0; f < sketches.width; f++) {
          const score = sketches.sketches[f]!.add(Number(values[r * width + f]!));
          if (score) this.scored(version, v, name, sketches, f, score);
        }
      }
    }
  }

  private scored(version: number, v: VersionDrift, tensor: string, t: TensorSketches, feature: number, s: FeatureScore): void {
    if (feature === 0) v.windowsScored++;
    const alpha = this.options.alpha / Math.max(1, v.featureCount());
    const drifted = s.psi >= this.options.psiThreshold && s.pValue < alpha;
    const was = t.drifted[feature];
    t.drifted[feature] = drifted;
    if (drifted && !was) {
      this.emit({ kind: 'drift', model: this.model, version, tensor, tensorKind: t.kind, feature, psi: round(s.psi), ks: round(s.ks), pValue: s.pValue });
    }
  }
}
