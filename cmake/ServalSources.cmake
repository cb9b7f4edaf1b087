# The native sources, listed once for CMake. binding.gyp lists the same files (keep them in sync;
# test/build-sources.test.ts checks that they match).
set(SERVAL_CORE_SOURCES
  native/core/adaptive_concurrency_policy.cc
  native/core/admission_policy.cc
  native/core/batch.cc
  native/core/batch_planner.cc
  native/core/codel_admission_policy.cc
  native/core/deadline_admission_policy.cc
  native/core/deadline_timer.cc
  native/core/dynamic_batcher.cc
  native/core/earliest_finish_time_policy.cc
  native/core/execution_stream.cc
  native/core/histogram.cc
  native/core/inference_request.cc
  native/core/instance_load.cc
  native/core/instance_registry.cc
  native/core/latency_profile.cc
  native/core/learned_admission_policy.cc
  native/core/learned_policy.cc
  native/core/least_outstanding_policy.cc
  native/core/model_scheduler.cc
  native/core/placement_policy.cc
  native/core/policy_features.cc
  native/core/policy_network.cc
  native/core/policy_registry.cc
  native/core/power_of_two_policy.cc
  native/core/queue_gate.cc
  native/core/request_queue.cc
  native/core/round_robin_policy.cc
  native/core/shortest_expected_delay_policy.cc
  native/core/status.cc
  native/core/weighted_round_robin_policy.cc
)

# The simulator and trainer (napi-free, like the core): rollouts for `serval train-policy`.
set(SERVAL_SIM_SOURCES
  native/sim/arrival_process.cc
  native/sim/behaviour_cloning.cc
  native/sim/decision_recorder.cc
  native/sim/simulator.cc
)

set(SERVAL_BINDING_SOURCES
  native/binding/addon.cc
  native/binding/completion_dispatcher.cc
  native/binding/executor_wrap.cc
  native/binding/front_end_wrap.cc
  native/binding/js_values.cc
  native/binding/model_wrap.cc
  native/binding/policy_tools_wrap.cc
  native/binding/request_reader.cc
  native/binding/runtime_wrap.cc
  native/binding/shared_models.cc
  native/binding/sim_wrap.cc
  native/binding/tensor_convert.cc
)
