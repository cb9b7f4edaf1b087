/**
 * Poll mode's repository watcher: new, changed and removed models reach the runtime as
 * loadModel/unloadModel; an unchanged repository causes no calls; failures do not stop polling.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/server/logger.js';
import { RepositoryPoller, scanRepository } from '../src/server/repository-poller.js';

function makeModel(repo: string, name: string, versions: number[]): void {
  writeFileSync(path.join(mkdirp(repo, name), 'config.pbtxt'), `name: "${name}"\n`);
  for (const v of versions) writeFileSync(path.join(mkdirp(repo, name, String(v)), 'model.onnx'), 'onnx');
}

function mkdirp(...parts: string[]): string {
  const dir = path.join(...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function recorder(failOn?: string) {
  const calls: string[] = [];
  return {
    calls,
    runtime: {
      async loadModel(name: string) {
        calls.push(`load ${name}`);
        if (name === failOn) throw new Error('bad model');
      },
      async unloadModel(name: string) {
        calls.push(`unload ${name}`);
      },
    },
  };
}

describe('repository poller', () => {
  it('loads new and changed models and unloads removed ones', async () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'serval-poll-'));
    makeModel(repo, 'a', [1]);
    makeModel(repo, 'b', [1]);
    const { calls, runtime } = recorder();
    const poller = new RepositoryPoller(repo, runtime, 60_000, silentLogger);
    await poller.start();

    await poller.pollOnce();
    expect(calls).toEqual([]);

    makeModel(repo, 'a', [1, 2]); // new version directory
    makeModel(repo, 'c', [1]); // new model
    await poller.pollOnce();
    expect(calls.sort()).toEqual(['load a', 'load c']);

    calls.length = 0;
    const cfg = path.join(repo, 'b', 'config.pbtxt');
    writeFileSync(cfg, 'name: "b"\nmax_batch_size: 8\n'); // same mtime second possible: size differs
    await poller.pollOnce();
    expect(calls).toEqual(['load b']);

    calls.length = 0;
    const later = new Date(Date.now() + 5000);
    utimesSync(path.join(repo, 'b', '1', 'model.onnx'), later, later); // same size, new mtime
    await poller.pollOnce();
    expect(calls).toEqual(['load b']);

    calls.length = 0;
    rmSync(path.join(repo, 'c'), { recursive: true });
    await poller.pollOnce();
    expect(calls).toEqual(['unload c']);
    await poller.stop();
  });

  it('a failed load is logged, not retried until the model changes, and polling goes on', async () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'serval-poll-'));
    const { calls, runtime } = recorder('bad');
    const poller = new RepositoryPoller(repo, runtime, 60_000, silentLogger);
    await poller.start();
    makeModel(repo, 'bad', [1]);
    makeModel(repo, 'good', [1]);
    await poller.pollOnce();
    expect(calls.sort()).toEqual(['load bad', 'load good']);
    calls.length = 0;
    await poller.pollOnce();
    expect(calls).toEqual([]);
    await poller.stop();
  });

  it('polls on its own timer and ignores hidden entries and loose files', async () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'serval-poll-'));
    writeFileSync(path.join(repo, 'README'), 'x');
    mkdirp(repo, '.cache');
    expect([...(await scanRepository(repo)).keys()]).toEqual([]);
    const { calls, runtime } = recorder();
    const poller = new RepositoryPoller(repo, runtime, 50, silentLogger);
    await poller.start();
    makeModel(repo, 'late', [1]);
    await expect.poll(() => calls, { timeout: 2000 }).toEqual(['load late']);
    await poller.stop();
  });
});
