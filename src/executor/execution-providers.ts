/**
 * Which onnxruntime execution providers an instance asks for, in order, and why any it would want are
 * skipped. Pure: the caller says what is installed (see `installedProviders`) and tries the candidates in
 * order, adding a reason for each that fails to create a session. Rules (Triton's, for the ONNX Runtime
 * backend): a KIND_CPU instance runs on CPU; a KIND_GPU instance runs on TensorRT when config.pbtxt's
 * `optimization.execution_accelerators.gpu_execution_accelerator` names "tensorrt", else on CUDA, with
 * the instance's device id; CPU is always the last resort.
 */

export type ProviderName = 'tensorrt' | 'cuda' | 'cpu';

/** One provider to try: what `InferenceSession.create`'s `executionProviders` takes. */
export interface ProviderCandidate {
  name: ProviderName;
  /** The GPU ordinal (`instance_group.gpus`); absent for CPU. */
  deviceId?: number;
}

export interface SkippedProvider {
  name: ProviderName;
  reason: string;
}

export interface ProviderRequest {
  kind: 'CPU' | 'GPU';
  device: number;
  /** Names from `gpu_execution_accelerator` (config order). */
  gpuAccelerators: readonly string[];
  /** Providers whose libraries are installed (CPU is always present). */
  available: ReadonlySet<ProviderName>;
}

export interface ProviderPlan {
  /** Tried in order; the last is always CPU. */
  candidates: ProviderCandidate[];
  /** Providers the instance wanted but that are not installed (in preference order). */
  skipped: SkippedProvider[];
}

/** Where onnxruntime-node looks for a provider's shared library (next to its binding). */
export const PROVIDER_LIBRARIES: Readonly<Record<Exclude<ProviderName, 'cpu'>, string>> = {
  cuda: 'libonnxruntime_providers_cuda.so',
  tensorrt: 'libonnxruntime_providers_tensorrt.so',
};

/** The bridge every non-CPU provider library is loaded through. */
export const PROVIDERS_SHARED_LIBRARY = 'libonnxruntime_providers_shared.so';

export function planProviders(req: ProviderRequest): ProviderPlan {
  const candidates: ProviderCandidate[] = [];
  const skipped: SkippedProvider[] = [];
  if (req.kind === 'GPU') {
    const wanted: Exclude<ProviderName, 'cpu'>[] = req.gpuAccelerators.includes('tensorrt') ? ['tensorrt', 'cuda'] : ['cuda'];
    for (const name of wanted) {
      if (req.available.has(name)) candidates.push({ name, deviceId: req.device });
      else skipped.push({ name, reason: notInstalled(name) });
    }
  }
  candidates.push({ name: 'cpu' });
  return { candidates, skipped };
}

export function notInstalled(name: Exclude<ProviderName, 'cpu'>): string {
  const label = name === 'tensorrt' ? 'TensorRT' : 'CUDA';
  return `onnxruntime's ${label} execution provider is not installed (${PROVIDER_LIBRARIES[name]} not found)`;
}

/**
 * The GPU providers installed, from onnxruntime-node's `listSupportedBackends()` (names the binding can
 * use; `bundled: false` means its library must be installed separately) and whether the provider's
 * library and the shared provider bridge exist beside the binding. Checking the files first keeps
 * onnxruntime from logging a load error.
 */
export function installedProviders(
  backends: readonly { name: string }[], libraryExists: (file: string) => boolean,
): Set<ProviderName> {
  const out = new Set<ProviderName>(['cpu']);
  if (!libraryExists(PROVIDERS_SHARED_LIBRARY)) return out;
  for (const name of ['cuda', 'tensorrt'] as const) {
    if (backends.some((b) => b.name === name) && libraryExists(PROVIDER_LIBRARIES[name])) out.add(name);
  }
  return out;
}

/** The provider an instance runs on and, when that is not its first choice, why (one line, in order). */
export interface ProviderStatus {
  executionProvider: ProviderName;
  fallbackReason?: string;
}

export function providerStatus(used: ProviderName, skipped: readonly SkippedProvider[]): ProviderStatus {
  if (skipped.length === 0) return { executionProvider: used };
  const reasons = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  return { executionProvider: used, fallbackReason: `running on ${used}: ${reasons}` };
}

/**
 * Why a `tensorrt_plan` model (a serialized TensorRT engine) cannot load. serval runs models through
 * onnxruntime, which executes ONNX graphs, not engines: without TensorRT the reason is its absence.
 */
export function tensorRtPlanReason(available: ReadonlySet<ProviderName>): string {
  if (!available.has('tensorrt')) {
    return 'platform tensorrt_plan needs a TensorRT runtime, and none is present (onnxruntime\'s TensorRT execution provider is not installed)';
  }
  return 'platform tensorrt_plan: serval runs TensorRT through onnxruntime and cannot execute a serialized engine; serve the ONNX model '
    + 'with optimization { execution_accelerators { gpu_execution_accelerator: [ { name: "tensorrt" } ] } }';
}
