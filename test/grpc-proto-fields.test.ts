/**
 * The wire contract with Triton's and KServe's clients: field numbers and types of the messages they
 * exchange with serval, pinned to the public protocol definition (grpc_service.proto, model_config.proto).
 * An edit of proto/ that renumbers or retypes one of these breaks interoperability and fails here.
 */
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { protoDirectory } from '../src/server/grpc/proto.js';

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(protoDirectory(), target);
root.loadSync(['grpc_service.proto', 'health.proto'], { keepCase: true });

/** message → field → "number type [repeated|map]" as in the public definition. */
const SPEC: Record<string, Record<string, string>> = {
  'inference.ModelInferRequest': { model_name: '1 string', model_version: '2 string', id: '3 string', parameters: '4 InferParameter map', inputs: '5 InferInputTensor repeated', outputs: '6 InferRequestedOutputTensor repeated', raw_input_contents: '7 bytes repeated' },
  'inference.ModelInferRequest.InferInputTensor': { name: '1 string', datatype: '2 string', shape: '3 int64 repeated', parameters: '4 InferParameter map', contents: '5 InferTensorContents' },
  'inference.ModelInferRequest.InferRequestedOutputTensor': { name: '1 string', parameters: '2 InferParameter map' },
  'inference.ModelInferResponse': { model_name: '1 string', model_version: '2 string', id: '3 string', parameters: '4 InferParameter map', outputs: '5 InferOutputTensor repeated', raw_output_contents: '6 bytes repeated' },
  'inference.ModelInferResponse.InferOutputTensor': { name: '1 string', datatype: '2 string', shape: '3 int64 repeated', parameters: '4 InferParameter map', contents: '5 InferTensorContents' },
  'inference.InferTensorContents': { bool_contents: '1 bool repeated', int_contents: '2 int32 repeated', int64_contents: '3 int64 repeated', uint_contents: '4 uint32 repeated', uint64_contents: '5 uint64 repeated', fp32_contents: '6 float repeated', fp64_contents: '7 double repeated', bytes_contents: '8 bytes repeated' },
  'inference.InferParameter': { bool_param: '1 bool', int64_param: '2 int64', string_param: '3 string', double_param: '4 double', uint64_param: '5 uint64' },
  'inference.ModelStreamInferResponse': { error_message: '1 string', infer_response: '2 ModelInferResponse' },
  'inference.ModelMetadataResponse': { name: '1 string', versions: '2 string repeated', platform: '3 string', inputs: '4 TensorMetadata repeated', outputs: '5 TensorMetadata repeated' },
  'inference.ModelMetadataResponse.TensorMetadata': { name: '1 string', datatype: '2 string', shape: '3 int64 repeated' },
  'inference.ServerMetadataResponse': { name: '1 string', version: '2 string', extensions: '3 string repeated' },
  'inference.ModelReadyRequest': { name: '1 string', version: '2 string' },
  'inference.ModelStatistics': { name: '1 string', version: '2 string', last_inference: '3 uint64', inference_count: '4 uint64', execution_count: '5 uint64', inference_stats: '6 InferStatistics', batch_stats: '7 InferBatchStatistics repeated', memory_usage: '8 MemoryUsage repeated' },
  'inference.InferStatistics': { success: '1 StatisticDuration', fail: '2 StatisticDuration', queue: '3 StatisticDuration', compute_input: '4 StatisticDuration', compute_infer: '5 StatisticDuration', compute_output: '6 StatisticDuration', cache_hit: '7 StatisticDuration', cache_miss: '8 StatisticDuration' },
  'inference.RepositoryIndexRequest': { repository_name: '1 string', ready: '2 bool' },
  'inference.RepositoryIndexResponse.ModelIndex': { name: '1 string', version: '2 string', state: '3 string', reason: '4 string' },
  'inference.RepositoryModelLoadRequest': { repository_name: '1 string', model_name: '2 string', parameters: '3 ModelRepositoryParameter map' },
  'inference.ModelConfig': { name: '1 string', platform: '2 string', backend: '17 string', version_policy: '3 ModelVersionPolicy', max_batch_size: '4 int32', input: '5 ModelInput repeated', output: '6 ModelOutput repeated', dynamic_batching: '11 ModelDynamicBatching', instance_group: '7 ModelInstanceGroup repeated', default_model_filename: '8 string', parameters: '14 ModelParameter map', model_warmup: '16 ModelWarmup repeated', ensemble_scheduling: '15 ModelEnsembling', response_cache: '24 ModelResponseCache', optimization: '12 ModelOptimizationPolicy' },
  'inference.ModelOptimizationPolicy': { execution_accelerators: '4 ExecutionAccelerators' },
  'inference.ModelOptimizationPolicy.ExecutionAccelerators': { gpu_execution_accelerator: '1 Accelerator repeated', cpu_execution_accelerator: '2 Accelerator repeated' },
  'inference.ModelOptimizationPolicy.ExecutionAccelerators.Accelerator': { name: '1 string', parameters: '2 string map' },
  'inference.ModelEnsembling': { step: '1 Step repeated' },
  'inference.ModelEnsembling.Step': { model_name: '1 string', model_version: '2 int64', input_map: '3 string map', output_map: '4 string map' },
  'inference.ModelResponseCache': { enable: '1 bool' },
  'inference.ModelInput': { name: '1 string', data_type: '2 DataType', format: '3 Format', dims: '4 int64 repeated', reshape: '5 ModelTensorReshape', optional: '8 bool' },
  'inference.ModelOutput': { name: '1 string', data_type: '2 DataType', dims: '3 int64 repeated', reshape: '5 ModelTensorReshape' },
  'inference.ModelInstanceGroup': { name: '1 string', kind: '4 Kind', count: '2 int32', gpus: '3 int32 repeated' },
  'inference.ModelDynamicBatching': { preferred_batch_size: '1 int32 repeated', max_queue_delay_microseconds: '2 uint64', preserve_ordering: '3 bool', priority_levels: '4 uint64', default_priority_level: '5 uint64', default_queue_policy: '6 ModelQueuePolicy', priority_queue_policy: '7 ModelQueuePolicy map' },
  'inference.ModelQueuePolicy': { timeout_action: '1 TimeoutAction', default_timeout_microseconds: '2 uint64', allow_timeout_override: '3 bool', max_queue_size: '4 uint32' },
  'grpc.health.v1.HealthCheckRequest': { service: '1 string' },
  'grpc.health.v1.HealthCheckResponse': { status: '1 ServingStatus' },
};

describe('gRPC proto: field numbers and types of the public definition', () => {
  it.each(Object.keys(SPEC))('%s', (name) => {
    const type = root.lookupType(name);
    const actual = Object.fromEntries(
      Object.values(type.fields).map((f) => {
        const kind = f instanceof protobuf.MapField ? ' map' : f.repeated ? ' repeated' : '';
        return [f.name, `${f.id} ${f.type.split('.').pop()}${kind}`];
      }),
    );
    expect(actual).toEqual(SPEC[name]);
  });

  it('service methods: the RPC names clients call, streaming where the protocol streams', () => {
    const service = root.lookupService('inference.GRPCInferenceService');
    const methods = Object.fromEntries(Object.values(service.methods).map((m) => [m.name, `${m.requestType}${m.requestStream ? '*' : ''} -> ${m.responseType}${m.responseStream ? '*' : ''}`]));
    expect(methods).toEqual({
      ServerLive: 'ServerLiveRequest -> ServerLiveResponse',
      ServerReady: 'ServerReadyRequest -> ServerReadyResponse',
      ModelReady: 'ModelReadyRequest -> ModelReadyResponse',
      ServerMetadata: 'ServerMetadataRequest -> ServerMetadataResponse',
      ModelMetadata: 'ModelMetadataRequest -> ModelMetadataResponse',
      ModelInfer: 'ModelInferRequest -> ModelInferResponse',
      ModelStreamInfer: 'ModelInferRequest* -> ModelStreamInferResponse*',
      ModelConfig: 'ModelConfigRequest -> ModelConfigResponse',
      ModelStatistics: 'ModelStatisticsRequest -> ModelStatisticsResponse',
      RepositoryIndex: 'RepositoryIndexRequest -> RepositoryIndexResponse',
      RepositoryModelLoad: 'RepositoryModelLoadRequest -> RepositoryModelLoadResponse',
      RepositoryModelUnload: 'RepositoryModelUnloadRequest -> RepositoryModelUnloadResponse',
    });
    expect(root.lookupEnum('inference.DataType').values).toMatchObject({ TYPE_BOOL: 1, TYPE_INT64: 9, TYPE_FP16: 10, TYPE_FP32: 11, TYPE_STRING: 13, TYPE_BF16: 14 });
  });
});
