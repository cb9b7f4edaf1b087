/**
 * What the HTTP server needs from the embedded runtime: the public surface of `Runtime`
 * (src/runtime.ts). The server depends on this contract, so tests can serve a fake.
 */
import type { Runtime } from '../runtime.js';

export type ServingRuntime = Pick<
  Runtime,
  | 'infer'
  | 'models'
  | 'metadata'
  | 'config'
  | 'isReady'
  | 'stats'
  | 'repositoryIndex'
  | 'loadModel'
  | 'unloadModel'
  | 'close'
  | 'policy'
  | 'admission'
  | 'servingVersion'
> &
  /** Rollouts and drift (src/rollout/), when the runtime serves versions itself (not `serval route`). */
  Partial<Pick<Runtime, 'rollout' | 'rolloutState' | 'traffic'>> &
  /** The repository, when there is one: its root is redacted from messages sent to clients. */
  Partial<Pick<Runtime, 'repository'>> &
  /** Explanations (src/explain/), when the runtime gives them. */
  Partial<Pick<Runtime, 'explain' | 'inferExplained'>> &
  /** Latency profiles, when the runtime measures its own instances: the autoscaling gauges (src/cluster/autoscaling-metrics.ts). */
  Partial<Pick<Runtime, 'profileOf' | 'queueLoad'>> &
  /** The models HTTP threads may serve themselves (`--http-threads`); absent: they hand every request over. */
  Partial<Pick<Runtime, 'frontEndModels' | 'onModelsChanged'>>;
