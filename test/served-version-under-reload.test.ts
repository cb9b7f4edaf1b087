/**
 * The version a request reports (RequestHandle.version, which the HTTP and gRPC responses carry as
 * model_version) is the version that computed its answer, also while a reload moves traffic from one
 * version to the next under load. Version v of the model adds v to its input, so the answer names its version.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime, type RequestHandle } from '../src/index.js';
import { GraphBuilder } from '../src/model-generator/onnx/graph-builder.js';
import { OnnxType } from '../src/model-generator/onnx/onnx-proto.js';

function addConstant(c: number): Uint8Array {
  const g = new GraphBuilder('add_constant');
  const x = g.input('x', OnnxType.FLOAT, ['batch', 1]);
  g.output('y', OnnxType.FLOAT, ['batch', 1]);
  g.op('Add', [x, g.floats('c', [1], [c])], undefined, 'y');
  return g.encode();
}

describe('the reported version is the one that answered', () => {
  const root = mkdtempSync(join(tmpdir(), 'serval-reload-'));
  const dir = join(root, 'm');
  const addVersion = (v: number) => {
    mkdirSync(join(dir, String(v)), { recursive: true });
    writeFileSync(join(dir, String(v), 'model.onnx'), addConstant(v));
  };
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('across reloads under load (version_policy latest 1)', async () => {
    addVersion(1);
    writeFileSync(join(dir, 'config.pbtxt'), 'max_batch_size: 8\ndynamic_batching { }\nversion_policy: { latest { num_versions: 1 } }\n');
    const rt = await Runtime.open({ modelRepository: root });
    try {
      let stop = false;
      const seen = new Map<number, number>();
      const mismatches: string[] = [];
      const client = async () => {
        while (!stop) {
          const handle: RequestHandle = {};
          const out = await rt.infer('m', { x: { data: new Float32Array([100]), dims: [1, 1] } }, { handle });
          const answered = (out['y']!.data as Float32Array)[0]! - 100;
          if (answered !== handle.version) mismatches.push(`answer of version ${answered} reported as ${handle.version}`);
          seen.set(answered, (seen.get(answered) ?? 0) + 1);
        }
      };
      const clients = Array.from({ length: 16 }, client);
      for (const v of [2, 3]) {
        await new Promise((r) => setTimeout(r, 100));
        addVersion(v);
        await rt.loadModel('m');
      }
      await new Promise((r) => setTimeout(r, 100));
      stop = true;
      await Promise.all(clients);
      expect(mismatches).toEqual([]);
      expect([...seen.keys()].sort()).toEqual([1, 2, 3]);
    } finally {
      await rt.close();
    }
  });
});
