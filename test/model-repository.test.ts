import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OnnxModelInfo } from '../src/repository/autocomplete.js';
import { ModelRepository } from '../src/repository/repository.js';
import { caught, rejected } from './helpers/caught.js';

let root: string;

/** Creates `<root>/<name>/` with the given version dirs and, when given, a config.pbtxt. */
function addModel(name: string, versions: string[], config?: string): void {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const v of versions) mkdirSync(join(dir, v), { recursive: true });
  if (config !== undefined) writeFileSync(join(dir, 'config.pbtxt'), config);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'serval-repo-'));
  addModel('plain', ['1', '2', '3', '10', '03', '0', 'latest']);
  writeFileSync(join(root, 'plain', '4'), 'a file, not a version directory');
  addModel('configured', ['1'], 'name: "configured"\nmax_batch_size: 4\n');
  addModel('.hidden', ['1']);
  addModel('empty', []);
  writeFileSync(join(root, 'README.md'), 'not a model');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('ModelRepository', () => {
  it('lists model directories with their numeric version directories, ascending', async () => {
    const repo = new ModelRepository(root);
    expect(await repo.list()).toEqual([
      { name: 'configured', versions: [1], configPath: join(root, 'configured', 'config.pbtxt') },
      { name: 'empty', versions: [] },
      { name: 'plain', versions: [1, 2, 3, 10] },
    ]);
  });

  it('gives a clear error for a missing or non-directory repository', async () => {
    const missing = new ModelRepository(join(root, 'nope'));
    const err = await rejected(missing.list());
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe(`model repository ${join(root, 'nope')} does not exist`);
    expect((await rejected(missing.readConfig('plain'))).code).toBe('INVALID_ARGUMENT');
    const file = new ModelRepository(join(root, 'README.md'));
    expect((await rejected(file.list())).message).toContain('is not a directory');
  });

  describe('model names (bad input)', () => {
    it.each(['', '.', '..', '../etc', 'a/b', 'a\\b', '.hidden', 'a\0b', 'tab\tname', '/abs'])('rejects %j', (name) => {
      const err = caught(() => new ModelRepository(root).validateModelName(name));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toContain('invalid model name');
    });

    it('rejects traversal in every entry point before touching the disk', async () => {
      const repo = new ModelRepository(root);
      expect((await rejected(repo.readConfig('../plain'))).code).toBe('INVALID_ARGUMENT');
      expect(caught(() => repo.modelFile('..', 1, { defaultModelFilename: 'model.onnx' })).code).toBe('INVALID_ARGUMENT');
    });

    it('accepts ordinary names', () => {
      const repo = new ModelRepository(root);
      for (const name of ['fraud_mlp', 'model-1.v2', 'ÆØÅ', 'a..b']) expect(() => repo.validateModelName(name)).not.toThrow();
    });
  });

  it('reports an unknown model', async () => {
    const err = await rejected(new ModelRepository(root).readConfig('ghost'));
    expect(err.code).toBe('UNKNOWN_MODEL');
    expect(err.message).toContain("unknown model 'ghost'");
  });

  it('reads a config.pbtxt, or gives defaults named after the directory when there is none', async () => {
    const repo = new ModelRepository(root);
    const configured = await repo.readConfig('configured');
    expect(configured.config.maxBatchSize).toBe(4);
    expect(configured.source.file).toBe(join(root, 'configured', 'config.pbtxt'));
    const plain = await repo.readConfig('plain');
    expect(plain.config.name).toBe('plain');
    expect(plain.source.lines.size).toBe(0);
  });

  it('names the full config path and line in config errors', async () => {
    addModel('broken', ['1'], 'name: "broken"\nmax_batch_sizee: 4\n');
    addModel('misnamed', ['1'], 'name: "other"\n');
    const repo = new ModelRepository(root);
    const err = await rejected(repo.readConfig('broken'));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toBe(`${join(root, 'broken', 'config.pbtxt')}:2: unknown field 'max_batch_sizee' in ModelConfig`);
    expect((await rejected(repo.readConfig('misnamed'))).message).toContain('but the model directory is "misnamed"');
  });

  it('builds model file paths from default_model_filename', () => {
    const repo = new ModelRepository(root);
    expect(repo.modelFile('plain', 3, { defaultModelFilename: 'model.onnx' })).toBe(join(root, 'plain', '3', 'model.onnx'));
    expect(repo.modelFile('plain', 3, { defaultModelFilename: 'net.onnx' })).toBe(join(root, 'plain', '3', 'net.onnx'));
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(caught(() => repo.modelFile('plain', bad, { defaultModelFilename: 'model.onnx' })).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('version policies', () => {
  const versionsFor = async (policy: string): Promise<number[]> => {
    const name = `policy_${Math.random().toString(36).slice(2)}`;
    addModel(name, ['1', '2', '3', '10'], `version_policy ${policy}`);
    const repo = new ModelRepository(root);
    return repo.versions(name, await repo.readConfig(name));
  };

  it('serves the newest version by default', async () => {
    const repo = new ModelRepository(root);
    expect(await repo.versions('plain', await repo.readConfig('plain'))).toEqual([10]);
  });

  it('applies latest, all and specific', async () => {
    expect(await versionsFor('{ latest { num_versions: 2 } }')).toEqual([3, 10]);
    expect(await versionsFor('{ latest { num_versions: 9 } }')).toEqual([1, 2, 3, 10]);
    expect(await versionsFor('{ all {} }')).toEqual([1, 2, 3, 10]);
    expect(await versionsFor('{ specific { versions: [10, 1] } }')).toEqual([1, 10]);
  });

  it('rejects a specific version that has no directory, naming the field', async () => {
    const err = await rejected(versionsFor('{\n specific { versions: [1, 7] } }'));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toMatch(/config\.pbtxt:2: field 'version_policy\.specific\.versions' lists version 7, which has no directory \(present: 1, 2, 3, 10\)$/);
  });

  it('rejects a model with no version directories', async () => {
    const repo = new ModelRepository(root);
    const err = await rejected(repo.versions('empty', await repo.readConfig('empty')));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain('the model has no version directories');
  });
});

describe('resolve', () => {
  it('auto-completes from the newest served version and lists every served file', async () => {
    addModel('resolved', ['1', '2'], 'version_policy { all {} }\ndefault_model_filename: "net.onnx"');
    const info: OnnxModelInfo = {
      inputs: [{ name: 'a', type: 'float32', shape: ['n', 2] }],
      outputs: [{ name: 'b', type: 'float32', shape: ['n', 2] }],
    };
    const readInfo = vi.fn(async () => info);
    const model = await new ModelRepository(root).resolve('resolved', readInfo);
    expect(readInfo).toHaveBeenCalledExactlyOnceWith(join(root, 'resolved', '2', 'net.onnx'));
    expect(model.versions).toEqual([1, 2]);
    expect([...model.files]).toEqual([[1, join(root, 'resolved', '1', 'net.onnx')], [2, join(root, 'resolved', '2', 'net.onnx')]]);
    expect(model.config.maxBatchSize).toBe(8);
    expect(model.config.input).toEqual([{ name: 'a', dataType: 'FP32', dims: [2] }]);
  });
});
