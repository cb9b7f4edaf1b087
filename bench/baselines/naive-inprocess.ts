/**
 * Baseline (b) of the `embedded` benchmark: the naive way to serve ONNX in Node, in process: one
 * onnxruntime-node session per model (one intra-op thread) and one `session.run` per request, no batching,
 * no queue. `session.run` blocks the JS thread while it computes, so requests simply take turns.
 */
import type { ModelInfo } from '../inputs.js';
import type { WireTensor } from '../protocol/v2-codec.js';
import type { BenchTarget } from '../targets/target.js';
import { cycle } from '../targets/target.js';
import { listRepositoryModels, loadOrtModel, type OrtModel, toFeeds } from './ort-models.js';

export class NaiveInProcessTarget implements BenchTarget {
  readonly description = 'naive in-process session.run';
  private readonly models = new Map<string, OrtModel>();

  constructor(private readonly repo: string) {}

  listModels(): Promise<string[]> {
    return listRepositoryModels(this.repo);
  }

  async metadata(model: string): Promise<ModelInfo> {
    return (await this.load(model)).info;
  }

  async prepare(model: string, requests: WireTensor[][]): Promise<() => Promise<void>> {
    const { session } = await this.load(model);
    const feeds = cycle(requests.map(toFeeds));
    return async () => {
      await session.run(feeds());
    };
  }

  async serverCounters(): Promise<undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    for (const m of this.models.values()) await m.session.release();
    this.models.clear();
  }

  private async load(model: string): Promise<OrtModel> {
    let m = this.models.get(model);
    if (!m) {
      m = await loadOrtModel(this.repo, model);
      this.models.set(model, m);
    }
    return m;
  }
}
