/** serval's public API (re-exports only). */
export { Runtime } from './runtime.js';
export * from './errors.js';
export * from './api-types.js';
export { DATA_TYPES, type DataType, type TensorData } from './dtypes.js';
export type { ModelConfig } from './repository/model-config.js';
// Also brings in its augmentation of InstanceStats (the `emulatedDevice` field).
export type { CurvePoint } from './executor/latency-curve.js';
// Also brings in their augmentations of RuntimeOptions (`audit`) and InferOptions (`requestId`, `audit`).
export type { AuditOptions, AuditCheckpoint, AuditOverflowPolicy, InferAuditFields } from './audit/audit-options.js';
export type { AuditTrail, AuditTrailStats } from './audit/audit-trail.js';
export type { ExplainOptions, Explanation } from './explain/explain-options.js';
export type { ExplainedInference } from './explain/explained-infer.js';
