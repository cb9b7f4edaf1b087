/**
 * `--model-control-mode poll`: rescans the model repository every `--repository-poll-secs` and tells
 * the runtime what changed. A model is new or changed when its fingerprint differs (version
 * directories, and name, size and mtime of every file up to two levels down, config.pbtxt included);
 * a model whose directory disappeared is unloaded. One scan at a time; a failed load is logged and
 * not retried until the model changes again.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from './logger.js';
import type { ServingRuntime } from './serving-runtime.js';

/** Model name → fingerprint of its directory. */
export type RepositorySnapshot = Map<string, string>;

export async function scanRepository(dir: string): Promise<RepositorySnapshot> {
  const out: RepositorySnapshot = new Map();
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    try {
      out.set(e.name, (await fingerprint(path.join(dir, e.name), 2)).join('\n'));
    } catch {
      // Removed or unreadable between readdir and stat: treat as absent this round.
    }
  }
  return out;
}

async function fingerprint(dir: string, depth: number, prefix = ''): Promise<string[]> {
  const lines: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const rel = `${prefix}${e.name}`;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      lines.push(`${rel}/`);
      if (depth > 0) lines.push(...(await fingerprint(full, depth - 1, `${rel}/`)));
    } else {
      const s = await stat(full);
      lines.push(`${rel} ${s.size} ${s.mtimeMs}`);
    }
  }
  return lines;
}

export class RepositoryPoller {
  private known: RepositorySnapshot = new Map();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly dir: string,
    private readonly runtime: Pick<ServingRuntime, 'loadModel' | 'unloadModel'>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** Records the repository as it is now (already loaded by the runtime) and starts polling. */
  async start(): Promise<void> {
    this.known = await scanRepository(this.dir);
    this.schedule();
  }

  /** Stops polling; resolves once a scan in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One scan: loads new and changed models, unloads removed ones. */
  async pollOnce(): Promise<void> {
    let now: RepositorySnapshot;
    try {
      now = await scanRepository(this.dir);
    } catch (err) {
      this.logger.error('cannot scan the model repository', { dir: this.dir, err });
      return;
    }
    for (const [name, fp] of now) {
      const before = this.known.get(name);
      if (before === fp) continue;
      await this.apply(name, before === undefined ? 'new' : 'changed', () => this.runtime.loadModel(name));
    }
    for (const name of this.known.keys()) {
      if (!now.has(name)) await this.apply(name, 'removed', () => this.runtime.unloadModel(name));
    }
    this.known = now;
  }

  private async apply(model: string, change: string, action: () => Promise<void>): Promise<void> {
    this.logger.info(`repository poll: model ${change}`, { model });
    try {
      await action();
    } catch (err) {
      this.logger.error(`repository poll: ${change === 'removed' ? 'unload' : 'load'} failed`, { model, err });
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pollOnce().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }
}
