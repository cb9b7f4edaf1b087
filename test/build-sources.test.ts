// The two build descriptions list the same native sources, and both built addons load.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/binding.js';

function cmakeSources(): string[] {
  const text = readFileSync(join(PACKAGE_ROOT, 'cmake', 'ServalSources.cmake'), 'utf8');
  return [...text.matchAll(/native\/[\w/]+\.cc/g)].map((m) => m[0]).sort();
}

function gypSources(): string[] {
  const text = readFileSync(join(PACKAGE_ROOT, 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, '');
  const gyp = JSON.parse(text) as { targets: { sources: string[] }[] };
  return [...gyp.targets[0]!.sources].sort();
}

describe('native build descriptions', () => {
  it('CMake and binding.gyp list the same sources', () => {
    expect(gypSources()).toEqual(cmakeSources());
  });

  it('every listed source exists', () => {
    for (const s of cmakeSources()) expect(existsSync(join(PACKAGE_ROOT, s)), s).toBe(true);
  });

  const builds = [['cmake-js', 'build-cmake'], ['node-gyp', 'build']] as const;
  for (const [tool, dir] of builds) {
    const path = join(PACKAGE_ROOT, dir, 'Release', 'serval.node');
    it(`the ${tool} addon loads and lists the placement policies`, () => {
      const addon = createRequire(import.meta.url)(path) as { buildInfo(): { policies: string[] } };
      expect(addon.buildInfo().policies).toContain('least_outstanding');
    });
  }
});
