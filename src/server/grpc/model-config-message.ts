/**
 * serval's normalised `ModelConfig` as the `inference.ModelConfig` message of the ModelConfig RPC
 * (proto/model_config.proto, Triton's field names and numbers). Mapped: name, platform, backend,
 * version_policy, max_batch_size, input, output (dims, reshape, optional), dynamic_batching (all of
 * its fields, priority queue policies included), instance_group (name, kind, count, gpus), parameters,
 * model_warmup, default_model_filename, ensemble_scheduling, response_cache and optimization's
 * execution_accelerators. Everything else of Triton's ModelConfig is not served.
 */
import type { ModelConfig } from '../../api-types.js';
import { toTritonType } from '../../dtypes.js';
import type { QueuePolicyConfig, TensorConfig } from '../../repository/model-config.js';

type Message = Record<string, unknown>;

export function modelConfigMessage(c: ModelConfig): Message {
  const message: Message = {
    name: c.name,
    platform: c.platform,
    backend: c.backend,
    version_policy: versionPolicy(c.versionPolicy),
    max_batch_size: c.maxBatchSize,
    input: c.input.map((t) => ({ ...tensor(t), optional: t.optional === true })),
    output: c.output.map(tensor),
    instance_group: c.instanceGroup.map((g) => ({ name: g.name, kind: g.kind, count: g.count, gpus: g.gpus })),
    default_model_filename: c.defaultModelFilename,
    parameters: Object.fromEntries(Object.entries(c.parameters).map(([k, v]) => [k, { string_value: v }])),
    model_warmup: c.modelWarmup.map((w) => ({
      name: w.name,
      batch_size: w.batchSize,
      count: w.count,
      inputs: Object.fromEntries(
        Object.entries(w.inputs).map(([k, i]) => [
          k,
          {
            data_type: toTritonType(i.dataType),
            dims: i.dims,
            ...(i.zeroData ? { zero_data: true } : {}),
            ...(i.randomData ? { random_data: true } : {}),
            ...(i.inputDataFile !== undefined ? { input_data_file: i.inputDataFile } : {}),
          },
        ]),
      ),
    })),
  };
  if (c.optimization) {
    const accelerator = (a: { name: string }) => ({ name: a.name, parameters: {} });
    message['optimization'] = {
      execution_accelerators: { gpu_execution_accelerator: c.optimization.executionAccelerators.gpuExecutionAccelerator.map(accelerator) },
    };
  }
  const steps = c.ensembleScheduling?.step;
  if (steps) {
    message['ensemble_scheduling'] = {
      step: steps.map((s) => ({ model_name: s.modelName, model_version: s.modelVersion, input_map: s.inputMap, output_map: s.outputMap })),
    };
  }
  if (c.responseCache) message['response_cache'] = { enable: c.responseCache.enable };
  const b = c.dynamicBatching;
  if (b) {
    message['dynamic_batching'] = {
      preferred_batch_size: b.preferredBatchSize,
      max_queue_delay_microseconds: b.maxQueueDelayMicroseconds,
      preserve_ordering: b.preserveOrdering,
      priority_levels: b.priorityLevels,
      default_priority_level: b.defaultPriorityLevel,
      default_queue_policy: queuePolicy(b.defaultQueuePolicy),
      priority_queue_policy: Object.fromEntries(Object.entries(b.priorityQueuePolicy).map(([level, p]) => [level, queuePolicy(p)])),
    };
  }
  return message;
}

function tensor(t: TensorConfig): Message {
  return {
    name: t.name,
    data_type: toTritonType(t.dataType),
    dims: t.dims,
    ...(t.reshape ? { reshape: { shape: t.reshape } } : {}),
  };
}

function queuePolicy(p: QueuePolicyConfig): Message {
  return {
    timeout_action: p.timeoutAction,
    default_timeout_microseconds: p.defaultTimeoutMicroseconds,
    allow_timeout_override: p.allowTimeoutOverride,
    max_queue_size: p.maxQueueSize,
  };
}

function versionPolicy(p: ModelConfig['versionPolicy']): Message {
  if ('latest' in p) return { latest: { num_versions: p.latest.numVersions } };
  if ('specific' in p) return { specific: { versions: p.specific.versions } };
  return { all: {} };
}
