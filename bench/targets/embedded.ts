/**
 * serval's embedded `Runtime`, in this process, no HTTP. Loaded through a dynamic import so the harness builds
 * and its tests run before (and without) `src/runtime.ts`; tests pass a fake through `EmbeddedTarget`'s
 * constructor.
 */
import type { InferInputs, InferOptions, InferOutputs, ModelMetadata, PolicyName, RuntimeOptions, RuntimeStats } from '../../src/api-types.js';
import { BenchError } from '../errors.js';
import type { ModelInfo } from '../inputs.js';
import type { WireTensor } from '../protocol/v2-codec.js';
import type { BenchTarget, ServerCounters } from './target.js';
import { cycle } from './target.js';

/** The part of `Runtime` (src/runtime.ts) the harness uses. */
export interface RuntimeLike {
  infer(model: string, inputs: InferInputs, options?: InferOptions): Promise<InferOutputs>;
  metadata(model: string): ModelMetadata | Promise<ModelMetadata>;
  stats(): RuntimeStats | Promise<RuntimeStats>;
  models(): unknown;
  close(): Promise<void>;
}

interface RuntimeModule {
  Runtime: { open(options: RuntimeOptions): Promise<RuntimeLike> };
}

export async function openRuntime(options: RuntimeOptions): Promise<RuntimeLike> {
  let mod: RuntimeModule;
  // A computed specifier: the harness must compile while src/runtime.ts does not exist yet.
  const specifier = new URL('../../src/runtime.js', import.meta.url).href;
  try {
    mod = (await import(specifier)) as RuntimeModule;
  } catch (err) {
    throw new BenchError('TARGET_UNAVAILABLE', `serval's embedded Runtime cannot be loaded (${(err as Error).message.split('\n')[0]}): build it with npm run build`);
  }
  return mod.Runtime.open(options);
}

export interface EmbeddedTargetOptions {
  /** Per-request queue timeout passed to `rt.infer`. */
  timeoutMs?: number;
  /** Per-request latency objective passed to `rt.infer` (admission policies act on it). */
  sloMs?: number;
  /** For the report. */
  policy?: PolicyName | string;
}

export class EmbeddedTarget implements BenchTarget {
  readonly description: string;

  constructor(private readonly rt: RuntimeLike, private readonly options: EmbeddedTargetOptions = {}) {
    const admission = (rt as { admission?: string }).admission;
    this.description = `serval embedded${options.policy ? ` (${options.policy}${admission && admission !== 'none' ? ` + ${admission}` : ''})` : ''}`;
  }

  static async open(options: RuntimeOptions & EmbeddedTargetOptions): Promise<EmbeddedTarget> {
    const { timeoutMs, sloMs, ...runtimeOptions } = options;
    return new EmbeddedTarget(await openRuntime(runtimeOptions), { timeoutMs, sloMs, policy: options.policy });
  }

  async listModels(): Promise<string[]> {
    const listed = await this.rt.models();
    if (!Array.isArray(listed)) return [];
    const names = listed
      .filter((m: unknown) => typeof m === 'string' || (m as { state?: string }).state === undefined || (m as { state?: string }).state === 'READY')
      .map((m: unknown) => (typeof m === 'string' ? m : String((m as { name?: unknown }).name)));
    return [...new Set(names)];
  }

  async metadata(model: string): Promise<ModelInfo> {
    try {
      const meta = await this.rt.metadata(model);
      return { name: model, inputs: meta.inputs, outputs: meta.outputs };
    } catch (err) {
      if ((err as { code?: string }).code === 'UNKNOWN_MODEL') throw new BenchError('UNKNOWN_MODEL', (err as Error).message);
      throw err;
    }
  }

  async prepare(model: string, requests: WireTensor[][]): Promise<() => Promise<void>> {
    const next = cycle(
      requests.map((inputs): InferInputs => Object.fromEntries(inputs.map((t) => [t.name, { type: t.datatype, dims: t.shape, data: t.data }]))),
    );
    const { timeoutMs, sloMs } = this.options;
    const inferOptions: InferOptions | undefined = timeoutMs || sloMs ? { ...(timeoutMs ? { timeoutMs } : {}), ...(sloMs ? { sloMs } : {}) } : undefined;
    return async () => {
      const t0 = performance.now();
      try {
        await this.rt.infer(model, next(), inferOptions);
      } catch (err) {
        // Shed at arrival (never queued) or dropped from a queue (late, codel): the message names the reason.
        if ((err as { code?: string }).code === 'SHED' && !/^shed \((late|codel)\)/.test((err as Error).message)) this.noteShed(performance.now() - t0);
        throw err;
      }
    };
  }

  /** How long requests shed at arrival took to be answered (ms), a bounded sample; cleared by takeShedLatencies(). */
  private shedMs: number[] = [];
  private shedSeen = 0;

  private noteShed(ms: number): void {
    // Reservoir sampling keeps the sample unbiased and bounded under heavy shedding.
    this.shedSeen++;
    if (this.shedMs.length < 20_000) this.shedMs.push(ms);
    else {
      const k = Math.floor(Math.random() * this.shedSeen);
      if (k < this.shedMs.length) this.shedMs[k] = ms;
    }
  }

  takeShedLatencies(): number[] {
    const out = this.shedMs;
    this.shedMs = [];
    this.shedSeen = 0;
    return out;
  }

  async serverCounters(models: string[]): Promise<ServerCounters> {
    const stats = await this.rt.stats();
    const out: ServerCounters = { queueCount: 0, queueSeconds: 0, computeCount: 0, computeSeconds: 0, placements: {} };
    for (const m of stats.models) {
      if (!models.includes(m.name)) continue;
      out.queueCount += m.queueSeconds.count;
      out.queueSeconds += m.queueSeconds.sum;
      out.computeCount += m.computeSeconds.count;
      out.computeSeconds += m.computeSeconds.sum;
      const placed = out.placements![m.name] ?? [];
      m.instances.forEach((inst, i) => (placed[i] = (placed[i] ?? 0) + inst.placements));
      out.placements![m.name] = placed;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.rt.close();
  }
}
