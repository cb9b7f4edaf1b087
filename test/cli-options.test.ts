/**
 * `serval serve` option merging (flags > env > config file > defaults) and the error for each
 * bad value, naming where the value came from.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { resolveServeConfig, UsageError } from '../src/cli/serve-options.js';
import { autoHttpThreads } from '../src/server/threaded-transport.js';

const repo = mkdtempSync(path.join(tmpdir(), 'serval-cli-repo-'));

function configFile(obj: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'serval-cli-cfg-'));
  const file = path.join(dir, 'serval.json');
  writeFileSync(file, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return file;
}

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('serve options', () => {
  it('defaults', () => {
    expect(resolveServeConfig({ modelRepository: repo }, {})).toEqual({
      modelRepository: repo, httpPort: 8000, grpcPort: 8001, host: '127.0.0.1', modelControlMode: 'none', loadModel: [],
      repositoryPollSecs: 15, maxBodyMb: 64, logFormat: 'pretty', drainTimeoutSecs: 30,
      shutdownGraceSecs: 5, strictReadiness: true, maxJsonBodyMb: 8, maxBufferedBodyMb: 256, bodyTimeoutSecs: 10,
      httpThreads: autoHttpThreads(availableParallelism()),
    });
  });

  it('--http-threads: a count from 1 to 63, or auto (one per four cores, at least 1, at most 16)', () => {
    expect(resolveServeConfig({ modelRepository: repo, httpThreads: '3' }, {}).httpThreads).toBe(3);
    expect(resolveServeConfig({ modelRepository: repo }, { SERVAL_HTTP_THREADS: 'auto' }).httpThreads).toBe(autoHttpThreads(availableParallelism()));
    expect(usage(() => resolveServeConfig({ modelRepository: repo, httpThreads: '0' }, {}))).toMatch(/^--http-threads must be/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo, httpThreads: '64' }, {}))).toMatch(/^--http-threads must be/);
    expect([1, 2, 3, 4, 7, 8, 16, 64, 128].map(autoHttpThreads)).toEqual([1, 1, 1, 1, 1, 2, 4, 16, 16]);
  });

  it('flags beat env, env beats the config file, the file beats defaults', () => {
    const file = configFile({ httpPort: 7000, host: '0.0.0.0', maxBodyMb: 8, modelControlMode: 'poll', loadModel: ['x'] });
    const env = { SERVAL_HTTP_PORT: '7100', SERVAL_HOST: '::1', SERVAL_CONFIG: file };
    const cfg = resolveServeConfig({ modelRepository: repo, httpPort: '7200' }, env);
    expect(cfg.httpPort).toBe(7200);
    expect(cfg.host).toBe('::1');
    expect(cfg.maxBodyMb).toBe(8);
    expect(cfg.modelControlMode).toBe('poll');
    expect(cfg.loadModel).toEqual(['x']);
  });

  it('repeatable --load-model, comma-separated SERVAL_LOAD_MODEL', () => {
    expect(resolveServeConfig({ modelRepository: repo, loadModel: ['a', 'b'] }, {}).loadModel).toEqual(['a', 'b']);
    expect(resolveServeConfig({ modelRepository: repo }, { SERVAL_LOAD_MODEL: 'a, b,' }).loadModel).toEqual(['a', 'b']);
  });

  it('--grpc-port: a port, 0 for a free one, off for no gRPC listener', () => {
    expect(resolveServeConfig({ modelRepository: repo, grpcPort: '9001' }, {}).grpcPort).toBe(9001);
    expect(resolveServeConfig({ modelRepository: repo }, { SERVAL_GRPC_PORT: '0' }).grpcPort).toBe(0);
    expect(resolveServeConfig({ modelRepository: repo, grpcPort: 'off' }, {})).not.toHaveProperty('grpcPort');
    expect(usage(() => resolveServeConfig({ modelRepository: repo, grpcPort: 'on' }, {}))).toMatch(/^--grpc-port must be a number/);
  });

  it('paths in the config file are relative to the file', () => {
    const file = configFile({});
    const rel = path.relative(path.dirname(file), repo); // e.g. ../serval-cli-repo-XXXX
    writeFileSync(file, JSON.stringify({ modelRepository: rel, authTokenFile: 'token' }));
    const cfg = resolveServeConfig({ config: file }, {});
    expect(cfg.modelRepository).toBe(repo);
    expect(cfg.authTokenFile).toBe(path.join(path.dirname(file), 'token'));
  });

  it('bad input: missing or non-directory repository', () => {
    expect(usage(() => resolveServeConfig({}, {}))).toMatch(/needs --model-repository/);
    expect(usage(() => resolveServeConfig({ modelRepository: path.join(repo, 'nope') }, {}))).toMatch(/--model-repository: .* is not a directory/);
  });

  it('bad input: each value names its source', () => {
    expect(usage(() => resolveServeConfig({ modelRepository: repo, httpPort: '70000' }, {}))).toMatch(/^--http-port must be an integer from 0 to 65535/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo }, { SERVAL_HTTP_PORT: 'x' }))).toMatch(/^SERVAL_HTTP_PORT must be a number/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo, modelControlMode: 'auto' }, {}))).toMatch(/--model-control-mode must be one of none, poll, explicit/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo, maxBodyMb: '0' }, {}))).toMatch(/--max-body-mb must be greater than zero/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo, repositoryPollSecs: '-1' }, {}))).toMatch(/--repository-poll-secs/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo, logFormat: 'xml' }, {}))).toMatch(/--log-format must be one of pretty, json/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo, strictReadiness: 'yes' }, {}))).toMatch(/^--strict-readiness must be true or false, got "yes"/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo }, { SERVAL_SHUTDOWN_GRACE_SECS: '-1' }))).toMatch(/^SERVAL_SHUTDOWN_GRACE_SECS must be zero or more/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo, bodyTimeoutSecs: '0' }, {}))).toMatch(/^--body-timeout-secs must be greater than zero/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo, maxJsonBodyMb: 'x' }, {}))).toMatch(/^--max-json-body-mb must be a number/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo, maxBufferedBodyMb: '0' }, {}))).toMatch(/^--max-buffered-body-mb must be greater than zero/);
    expect(usage(() => resolveServeConfig({ modelRepository: repo, maxBodyMb: '512' }, {}))).toMatch(/^--max-buffered-body-mb \(256\) must be at least --max-body-mb \(512\)/);
    expect(resolveServeConfig({ modelRepository: repo, strictReadiness: 'false' }, {}).strictReadiness).toBe(false);
    expect(resolveServeConfig({ modelRepository: repo, config: configFile({ strictReadiness: false }) }, {}).strictReadiness).toBe(false);
    const file = configFile({ httpPort: 'eighty' });
    expect(usage(() => resolveServeConfig({ modelRepository: repo, config: file }, {}))).toMatch(/serval\.json: "httpPort" must be a number/);
  });

  it('bad input: config files that are unreadable, not JSON, not an object, or carry unknown keys', () => {
    expect(usage(() => resolveServeConfig({ config: path.join(repo, 'missing.json') }, {}))).toMatch(/cannot read config file .*ENOENT/);
    expect(usage(() => resolveServeConfig({ config: configFile('{nope') }, {}))).toMatch(/is not valid JSON/);
    expect(usage(() => resolveServeConfig({ config: configFile([1]) }, {}))).toMatch(/must hold a JSON object/);
    expect(usage(() => resolveServeConfig({ config: configFile({ httpport: 1 }) }, {}))).toMatch(/unknown option\(s\) httpport/);
  });
});
