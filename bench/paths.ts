/**
 * Where the harness's own entry points are: compiled under dist/ (`npm run bench`), or TypeScript run
 * through tsx (tests, `npx tsx bench/main.ts`). Child processes are started the same way the parent runs.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');

/** The repository root (the folder with package.json). */
export const repoRoot = fromSource ? resolve(here, '..') : resolve(here, '../..');

/** How to start `module` (a path from the repository root without extension, e.g. `bench/trials/trial-main`). */
export function entryPoint(module: string): { file: string; execArgv: string[] } {
  return fromSource ? { file: join(repoRoot, `${module}.ts`), execArgv: ['--import', 'tsx'] } : { file: join(repoRoot, 'dist', `${module}.js`), execArgv: [] };
}
