// `serval serve --audit-log DIR --audit-overflow P --audit-key-file F`: flags, environment and config file
// become RuntimeOptions.audit (paths resolved); each bad value is a UsageError naming where it came from.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditOptions } from '../src/cli/audit-serve-options.js';
import { resolveServeConfig, UsageError } from '../src/cli/serve-options.js';
import { caught } from './helpers/caught.js';

const repo = mkdtempSync(path.join(tmpdir(), 'serval-cli-repo-'));

/** The message of the UsageError `fn` throws. */
const usage = (fn: () => unknown): string => {
  const err = caught(fn);
  expect(err).toBeInstanceOf(UsageError);
  return err.message;
};

describe('serve --audit-* options', () => {
  it('no --audit-log: no trail', () => {
    expect(auditOptions(resolveServeConfig({ modelRepository: repo }, {}))).toEqual({});
  });

  it('flags and environment become RuntimeOptions.audit, with the key read from its file', () => {
    const key = path.join(mkdtempSync(path.join(tmpdir(), 'serval-key-')), 'audit.key');
    writeFileSync(key, 'secret\n');
    const cfg = resolveServeConfig({ modelRepository: repo, auditLog: 'trail', auditOverflow: 'fail-closed' }, { SERVAL_AUDIT_KEY_FILE: key });
    expect(auditOptions(cfg)).toEqual({ audit: { path: path.resolve('trail'), overflow: 'fail-closed', checkpointKey: 'secret' } });
  });

  it('write errors are logged: the first and then every 100th', () => {
    const warnings: unknown[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (msg: string, fields?: unknown) => void warnings.push({ msg, fields }) };
    const { audit } = auditOptions(resolveServeConfig({ modelRepository: repo, auditLog: 'x' }, {}), logger);
    for (let i = 0; i < 150; i++) audit!.onError!(new Error('disk full'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ msg: expect.stringMatching(/audit trail write failed/), fields: { errors: 1, err: 'disk full' } });
  });

  it('bad input: an unknown overflow policy, options without --audit-log, an unreadable or empty key file', () => {
    expect(usage(() => resolveServeConfig({ modelRepository: repo, auditLog: 'x', auditOverflow: 'sometimes' }, {})))
      .toMatch(/--audit-overflow must be one of block, drop, fail-closed, got "sometimes"/);
    expect(usage(() => auditOptions(resolveServeConfig({ modelRepository: repo }, { SERVAL_AUDIT_OVERFLOW: 'drop' }))))
      .toMatch(/need --audit-log DIR/);
    expect(usage(() => auditOptions(resolveServeConfig({ modelRepository: repo, auditLog: 'x', auditKeyFile: '/nonexistent/key' }, {}))))
      .toMatch(/--audit-key-file: cannot read .*ENOENT/);
    const empty = path.join(mkdtempSync(path.join(tmpdir(), 'serval-key-')), 'empty.key');
    writeFileSync(empty, '\n');
    expect(usage(() => auditOptions(resolveServeConfig({ modelRepository: repo, auditLog: 'x', auditKeyFile: empty }, {})))).toMatch(/is empty/);
  });
});
