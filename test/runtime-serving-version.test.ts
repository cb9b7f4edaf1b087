// Runtime.servingVersion: the version a request without an explicit version goes to (the newest READY one),
// cheap enough for every request (the HTTP and gRPC routes name it in their responses).
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { makeRepo, slowIdentityConfig } from './helpers/temp-repo.js';

let rt: Runtime | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
  cleanup?.();
});

describe('Runtime.servingVersion', () => {
  it('is the newest ready version, and undefined for an unknown or unloaded model', async () => {
    const repo = makeRepo([{ name: 'm', from: 'slow_identity', versions: [1, 3, 2], config: `${slowIdentityConfig()}\nversion_policy: { all { } }` }]);
    cleanup = repo.cleanup;
    rt = await Runtime.open({ modelRepository: repo.root });
    expect(rt.models().map((m) => m.version)).toEqual([1, 2, 3]);
    expect(rt.servingVersion('m')).toBe(3);
    expect(rt.servingVersion('nope')).toBeUndefined();
    await rt.unloadModel('m');
    expect(rt.servingVersion('m')).toBeUndefined();
  });
});
