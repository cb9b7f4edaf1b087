/**
 * Rollouts on the live runtime: both arms must be served (version_policy, or the declared rollout keeps
 * them); requests that name no version are split and report the arm that answered; a drifting candidate
 * is rolled back with no client request failing; config.pbtxt declares a rollout; a new version can enter
 * as a canary on reload.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, type RuntimeEvent } from '../src/index.js';
import { rolloutScorerConfig, writeRolloutModel } from '../src/model-generator/rollout-repository.js';
import { RepositoryPoller } from '../src/server/repository-poller.js';
import { createLogger } from '../src/server/logger.js';
import { caught } from './helpers/caught.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function repo(): string {
  const root = mkdtempSync(join(tmpdir(), 'serval-rollout-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

async function open(root: string, events: RuntimeEvent[] = []): Promise<Runtime> {
  const rt = await Runtime.open({ modelRepository: root, onEvent: (e) => events.push(e) });
  cleanups.push(() => rt.close());
  return rt;
}

const x = (v: number) => ({ x: { data: new Float32Array(4).fill(v), dims: [1, 4] } });

describe('rollouts on the runtime', () => {
  it('splits requests that name no version and reports the arm that answered; named versions go to that version', async () => {
    const root = repo();
    writeRolloutModel(root, 's', { 1: {}, 2: { shift: 3 } }, rolloutScorerConfig());
    const rt = await open(root);
    rt.rollout('s', { strategy: 'ab', stable: '1', candidate: '2', weight: 50, seed: 5 });
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const { version, outputs } = rt.inferServed('s', x(2));
      const y = (await outputs)['y']!.data as Float32Array;
      expect(y[0]).toBe(version === 2 ? 4 : 1);
      seen.add(version!);
    }
    expect([...seen].sort()).toEqual([1, 2]);
    for (let i = 0; i < 5; i++) expect(((await rt.infer('s', x(2), { version: 1 }))['y']!.data as Float32Array)[0]).toBe(1);
    const key = rt.inferServed('s', x(2), { routingKey: 'user-42' }).version;
    for (let i = 0; i < 10; i++) expect(rt.inferServed('s', x(2), { routingKey: 'user-42' }).version).toBe(key);
    const bad = await rt.inferServed('s', x(2), { routingKey: 7 as unknown as string }).outputs.catch((e) => e);
    expect(bad.code).toBe('INVALID_ARGUMENT');
  });

  it('refuses a rollout whose arms are not both served, naming version_policy', async () => {
    const root = repo();
    writeRolloutModel(root, 's', { 1: {}, 2: {} }, rolloutScorerConfig().replace('version_policy { all { } }', ''));
    const rt = await open(root);
    expect(rt.models().map((m) => m.version)).toEqual([2]);
    const err = caught(() => rt.rollout('s', { strategy: 'canary', stable: 1, candidate: 2 }));
    expect(err.code).toBe('MODEL_UNAVAILABLE');
    expect(err.message).toMatch(/stable version 1 is not loaded.*version_policy/);
    expect(caught(() => rt.rollout('nope', { strategy: 'canary', stable: 1, candidate: 2 })).code).toBe('UNKNOWN_MODEL');
    expect(caught(() => rt.rollout('s', { strategy: 'canary', stable: 1 })).code).toBe('INVALID_ARGUMENT');
  });

  it('rolls back a candidate whose predictions drift; every client request succeeds', async () => {
    const root = repo();
    writeRolloutModel(root, 's', { 1: {}, 2: { shift: 3 } }, rolloutScorerConfig());
    const events: RuntimeEvent[] = [];
    const rt = await open(root, events);
    rt.rollout('s', { strategy: 'canary', stable: 1, candidate: 2, steps: [30, 100], stepSeconds: 60, guards: { minRequests: 15 }, seed: 2 });
    let failures = 0;
    for (let i = 0; i < 300 && rt.rolloutState('s')!.phase === 'progressing'; i++) {
      await rt.infer('s', x(i % 10)).catch(() => failures++);
      rt.traffic.rolloutStates(); // reads state on the way, as GET /rollout would
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 300)); // the analysis timer
    const s = rt.rolloutState('s')!;
    expect(failures).toBe(0);
    expect(s.phase).toBe('rolled_back');
    expect(s.reason).toMatch(/guard prediction_drift failed/);
    expect(s.weights).toEqual({ stable: 100, candidate: 0 });
    expect(events.filter((e) => e.kind === 'rollout').map((e) => (e as { phase: string }).phase)).toEqual(['progressing', 'rolled_back']);
    expect(rt.inferServed('s', x(1)).version).toBe(1);
  });

  it('starts the rollout config.pbtxt declares, and keeps both arms loaded over version_policy', async () => {
    const root = repo();
    const params = [
      ['rollout_strategy', 'ab'], ['rollout_stable', '1'], ['rollout_candidate', '2'], ['rollout_weight', '25'], ['rollout_metric', 'output:y'],
    ].map(([k, v]) => `parameters { key: "${k}" value { string_value: "${v}" } }`).join('\n');
    writeRolloutModel(root, 's', { 1: {}, 2: {}, 3: {} }, rolloutScorerConfig(params).replace('version_policy { all { } }', ''));
    const rt = await open(root);
    expect(rt.models().map((m) => m.version)).toEqual([1, 2, 3]);
    expect(rt.rolloutState('s')).toMatchObject({ strategy: 'ab', stable: '1', candidate: '2', weights: { stable: 75, candidate: 25 }, phase: 'progressing' });
  });

  it('a bad rollout parameter makes the model unavailable with the reason', async () => {
    const root = repo();
    writeRolloutModel(root, 's', { 1: {}, 2: {} },
      rolloutScorerConfig('parameters { key: "rollout_strategy" value { string_value: "canary" } }\nparameters { key: "rollout_steps" value { string_value: "10,5" } }'));
    const rt = await Runtime.open({ modelRepository: root });
    cleanups.push(() => rt.close());
    expect(rt.models()[0]).toMatchObject({ state: 'UNAVAILABLE' });
    expect(rt.models()[0]!.reason).toMatch(/rollout steps: must ascend/);
  });

  it('with rollout_new_versions: canary, a reload that brings a newer version keeps the serving one and starts a canary', async () => {
    const root = repo();
    const config = rolloutScorerConfig('parameters { key: "rollout_new_versions" value { string_value: "canary" } }\nparameters { key: "rollout_step_seconds" value { string_value: "60" } }')
      .replace('version_policy { all { } }', '');
    writeRolloutModel(root, 's', { 1: {} }, config);
    const rt = await open(root);
    expect(rt.rolloutState('s')).toBeUndefined();
    writeRolloutModel(root, 's', { 2: { shift: 0.001 } }, config);
    await rt.loadModel('s');
    expect(rt.models().map((m) => [m.version, m.state])).toEqual([[1, 'READY'], [2, 'READY']]);
    expect(rt.rolloutState('s')).toMatchObject({ strategy: 'canary', stable: '1', candidate: '2', phase: 'progressing', weights: { candidate: 10 } });
  });

  it('in poll mode, a version dropped into the repository enters as a canary', async () => {
    const root = repo();
    const config = rolloutScorerConfig('parameters { key: "rollout_new_versions" value { string_value: "canary" } }').replace('version_policy { all { } }', '');
    writeRolloutModel(root, 's', { 1: {} }, config);
    const rt = await open(root);
    const poller = new RepositoryPoller(root, rt, 60_000, createLogger({ write: () => {} }));
    await poller.start();
    cleanups.push(() => poller.stop());
    writeRolloutModel(root, 's', { 2: {} }, config);
    await poller.pollOnce();
    expect(rt.rolloutState('s')).toMatchObject({ strategy: 'canary', stable: '1', candidate: '2', weights: { candidate: 10 } });
  });

  it('after a rollback, a reload keeps the stable version serving and does not retry the rejected candidate', async () => {
    const root = repo();
    const config = rolloutScorerConfig('parameters { key: "rollout_new_versions" value { string_value: "canary" } }').replace('version_policy { all { } }', '');
    writeRolloutModel(root, 's', { 1: {} }, config);
    const rt = await open(root);
    writeRolloutModel(root, 's', { 2: { shift: 3 } }, config);
    await rt.loadModel('s');
    rt.traffic.control('s', 'rollback');
    await rt.loadModel('s');
    expect(rt.models().map((m) => [m.version, m.state])).toEqual([[1, 'READY'], [2, 'READY']]);
    expect(rt.rolloutState('s')).toMatchObject({ phase: 'rolled_back', stable: '1', candidate: '2' });
    expect(rt.inferServed('s', x(1)).version).toBe(1);
    // A newer version is a new candidate, against the version that serves (1), not the rejected one.
    writeRolloutModel(root, 's', { 3: {} }, config);
    await rt.loadModel('s');
    expect(rt.rolloutState('s')).toMatchObject({ phase: 'progressing', stable: '1', candidate: '3' });
    expect(rt.models().map((m) => m.version)).toEqual([1, 3]);
  });
});
