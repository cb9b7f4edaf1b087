/** serval's public API (re-exports only). */
export { Runtime } from './runtime.js';
export * from './errors.js';
export * from './api-types.js';
export { DATA_TYPES, type DataType, type TensorData } from './dtypes.js';
export type { ModelConfig } from './repository/model-config.js';
// Also brings in its augmentation of InstanceStats (the `emulatedDevice` field).
export type { CurvePoint } from './executor/latency-curve.js';
// What a JavaScript-backend model (model.js / model.mjs) receives and returns, for models written in TypeScript.
export type { JsBatch, JsBatchOutputs, JsModelContext, JsModelModule, JsTensor } from './js-backend/js-model-api.js';
export type { RolloutSpecInput, CanaryGuards, ShadowOptions, AbMetric } from './rollout/rollout-spec.js';
export type { RolloutState, RolloutPhase, RolloutAction, TimelineEntry } from './rollout/rollout-controller.js';
export type { VersionDriftSummary, FeatureDrift } from './drift/drift-monitor.js';
// Also brings in their augmentations of RuntimeOptions (`audit`) and InferOptions (`requestId`, `audit`).
export type { AuditOptions, AuditCheckpoint, AuditOverflowPolicy, InferAuditFields } from './audit/audit-options.js';
export type { AuditTrail, AuditTrailStats } from './audit/audit-trail.js';
export type { ExplainOptions, Explanation } from './explain/explain-options.js';
export type { ExplainedInference } from './explain/explained-infer.js';
