/**
 * The `serval` binary's surface: help, version, exit codes for usage errors (2, no stack).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

function serval(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('serval CLI', () => {
  it('--version prints package.json version', () => {
    const r = serval('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('--help lists serve and bench; serve --help documents flags and env vars', () => {
    const top = serval('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/serve \[options\]/);
    expect(top.stdout).toMatch(/bench/);
    const serve = serval('serve', '--help');
    expect(serve.code).toBe(0);
    for (const s of ['--model-repository', '--http-port', '--model-control-mode', '--load-model', '--auth-token-file', '--config', 'SERVAL_HTTP_PORT', 'SERVAL_MODEL_REPOSITORY', 'SERVAL_HTTP_TRANSPORT']) {
      expect(serve.stdout).toContain(s);
    }
  });

  it('bad input: unknown flags, bad values and a missing repository exit 2 without a stack', () => {
    for (const args of [['serve', '--bogus'], ['serve', '--http-port', 'x', '--model-repository', '.'], ['serve'], ['nope'], []]) {
      const r = serval(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
    expect(serval('serve').stderr).toMatch(/serval: error: serve needs --model-repository/);
  });
});
