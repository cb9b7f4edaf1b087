/** Temporary model repositories of models built in the test by serval's own ONNX generator. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GeneratedModel {
  /** The ONNX bytes (a `build*` function of src/model-generator/onnx/). */
  onnx: Uint8Array;
  /** config.pbtxt text; none when omitted (auto-complete). */
  config?: string;
}

/** Writes `<root>/<name>/1/model.onnx` (and config.pbtxt) for each model. */
export function generatedRepo(models: Record<string, GeneratedModel>): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'serval-generated-'));
  for (const [name, m] of Object.entries(models)) {
    mkdirSync(join(root, name, '1'), { recursive: true });
    writeFileSync(join(root, name, '1', 'model.onnx'), m.onnx);
    if (m.config !== undefined) writeFileSync(join(root, name, 'config.pbtxt'), m.config);
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
