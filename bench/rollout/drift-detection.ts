/**
 * Drift detection figures for `npm run bench -- rollout`: on seeded N(0,1) data with 16 features, how often a
 * 0.5-sigma mean shift of one feature is flagged on that feature (and on another) within one window after
 * the reference; the false-alarm rate on unshifted data; and the CPU cost of `observe` on the request path.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferOutputs } from '../../src/api-types.js';
import { Runtime } from '../../src/runtime.js';
import { BUNDLED_REPOSITORY } from '../../src/model-generator/generate.js';
import { DriftMonitor } from '../../src/drift/drift-monitor.js';
import { DEFAULT_DRIFT, type DriftOptions } from '../../src/drift/drift-options.js';
import { mulberry32, normalSamples } from '../../src/model-generator/onnx/prng.js';

const FEATURES = 16;
const SHIFTED = 3;
const never = new Promise<InferOutputs>(() => {});

export interface DetectionRow {
  windowRows: number;
  /** Requests after the shift began within which it must be flagged (one window). */
  requestsAfterShift: number;
  trials: number;
  detected: number;
  wrongFeature: number;
  /** Unshifted data: alarms per scored window of the whole model (any feature), and per feature-window. */
  falseAlarmWindows: number;
  falseAlarmsPerModelWindow: number;
  falseAlarmsPerFeatureWindow: number;
}

function feed(m: DriftMonitor, seed: number, rows: number, shiftFrom: number): void {
  const rng = mulberry32(seed);
  for (let r = 0; r < rows; r++) {
    const x = normalSamples(rng, FEATURES, 1);
    if (r >= shiftFrom) x[SHIFTED]! += 0.5;
    m.observe(1, { x: { data: x, dims: [1, FEATURES] } }, never);
  }
}

export function detectionRow(options: DriftOptions, trials: number, falseAlarmWindowsPerTrial: number): DetectionRow {
  let detected = 0;
  let wrongFeature = 0;
  let alarms = 0;
  let alarmedWindows = 0;
  for (let t = 1; t <= trials; t++) {
    const flagged = new Set<number>();
    const m = new DriftMonitor('m', options, (e) => { if (e.kind === 'drift') flagged.add(e.feature); });
    feed(m, t, options.referenceRows + options.windowRows, options.referenceRows);
    if (flagged.has(SHIFTED)) detected++;
    if ([...flagged].some((f) => f !== SHIFTED)) wrongFeature++;
    // Unshifted: every window scored; count features drifted in each (not only first transitions).
    const clean = new DriftMonitor('m', options, () => {});
    const rng = mulberry32(100_000 + t);
    for (let w = 0; w < falseAlarmWindowsPerTrial + 2; w++) {
      const rows = w === 0 ? options.referenceRows : options.windowRows;
      for (let r = 0; r < rows; r++) clean.observe(1, { x: { data: normalSamples(rng, FEATURES, 1), dims: [1, FEATURES] } }, never);
      if (w < 2) continue; // the reference, and the first window
      const drifted = clean.summaries()[0]!.drifted;
      alarms += drifted;
      if (drifted > 0) alarmedWindows++;
    }
  }
  const windows = trials * falseAlarmWindowsPerTrial;
  return {
    windowRows: options.windowRows, requestsAfterShift: options.windowRows, trials, detected, wrongFeature,
    falseAlarmWindows: windows, falseAlarmsPerModelWindow: alarmedWindows / windows, falseAlarmsPerFeatureWindow: alarms / (windows * FEATURES),
  };
}

export interface ObserveCost { features: number; sampleRate: number; cpuUsPerRequest: number }

/** CPU microseconds per `observe` (inputs only: outputs settle later) once the reference is frozen. */
export function observeCost(features: number, sampleRate: number, calls = 50_000): ObserveCost {
  const m = new DriftMonitor('m', { ...DEFAULT_DRIFT, sampleRate }, () => {});
  const rng = mulberry32(1);
  const rows = Array.from({ length: 64 }, () => ({ x: { data: normalSamples(rng, features, 1), dims: [1, features] } }));
  for (let i = 0; i < DEFAULT_DRIFT.referenceRows / sampleRate + 10; i++) m.observe(1, rows[i % 64]!, never);
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) m.observe(1, rows[i % 64]!, never);
  const used = process.cpuUsage(before);
  return { features, sampleRate, cpuUsPerRequest: (used.user + used.system) / calls };
}

export interface RuntimeDriftCost { mode: 'off' | 'on'; requests: number; cpuUsPerRequest: number }

/**
 * CPU per request of fraud_mlp (128 features) served by the runtime without and with drift monitoring
 * (every request sampled), alternating windows of `requests` sequential requests (A B A B ...).
 */
export async function runtimeDriftCost(requests: number, pairs: number): Promise<RuntimeDriftCost[]> {
  const root = mkdtempSync(join(tmpdir(), 'serval-bench-drift-'));
  const config = (name: string, extra: string) =>
    `name: "${name}"\nmax_batch_size: 8\ndynamic_batching { }\ninstance_group [ { count: 1 kind: KIND_CPU } ]\n${extra}\n`;
  for (const [name, extra] of [['plain', ''], ['monitored', 'parameters { key: "drift_monitor" value { string_value: "true" } }']] as const) {
    mkdirSync(join(root, name, '1'), { recursive: true });
    copyFileSync(join(BUNDLED_REPOSITORY, 'fraud_mlp', '1', 'model.onnx'), join(root, name, '1', 'model.onnx'));
    writeFileSync(join(root, name, 'config.pbtxt'), config(name, extra));
  }
  const rt = await Runtime.open({ modelRepository: root });
  try {
    const rng = mulberry32(3);
    const rows = Array.from({ length: 64 }, () => ({ features: { data: normalSamples(rng, 128, 1), dims: [1, 128] } }));
    const out: RuntimeDriftCost[] = [];
    for (let i = 0; i < pairs * 2; i++) {
      const mode = i % 2 === 0 ? 'off' : 'on';
      const before = process.cpuUsage();
      for (let r = 0; r < requests; r++) await rt.infer(mode === 'on' ? 'monitored' : 'plain', rows[r % 64]!);
      const used = process.cpuUsage(before);
      out.push({ mode, requests, cpuUsPerRequest: (used.user + used.system) / requests });
    }
    return out;
  } finally {
    await rt.close();
    rmSync(root, { recursive: true, force: true });
  }
}
