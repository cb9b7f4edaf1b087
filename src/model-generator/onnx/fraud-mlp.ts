/**
 * fraud_mlp: features FP32 [batch, 128] → probability FP32 [batch, 1].
 * An MLP INPUT → HIDDEN_1 → HIDDEN_2 → 1 with Relu between layers and a final Sigmoid.
 * The hidden sizes set the model's cost per row: change them here to tune it.
 */
import { GraphBuilder } from './graph-builder.js';
import { OnnxType } from './onnx-proto.js';
import { heNormal, mulberry32 } from './prng.js';

export const FRAUD_MLP_INPUT = 128;
export const FRAUD_MLP_HIDDEN_1 = 512;
export const FRAUD_MLP_HIDDEN_2 = 256;
const SEED = 0x5e4a1001;

/** Seeds of the members of the bundled fraud_ensemble (fraud_mlp_s1..s3): same architecture, other weights. */
export const FRAUD_ENSEMBLE_SEEDS: readonly number[] = [0x5e4a2001, 0x5e4a2002, 0x5e4a2003];

export function buildFraudMlp(seed = SEED, name = 'fraud_mlp'): Uint8Array {
  const rng = mulberry32(seed);
  const g = new GraphBuilder(name);
  const features = g.input('features', OnnxType.FLOAT, ['batch', FRAUD_MLP_INPUT]);
  g.output('probability', OnnxType.FLOAT, ['batch', 1]);

  const widths = [FRAUD_MLP_INPUT, FRAUD_MLP_HIDDEN_1, FRAUD_MLP_HIDDEN_2, 1];
  let x = features;
  for (let layer = 0; layer + 1 < widths.length; layer++) {
    const fanIn = widths[layer]!;
    const fanOut = widths[layer + 1]!;
    const w = g.floats(`fc${layer + 1}.weight`, [fanIn, fanOut], heNormal(rng, fanIn, fanIn * fanOut));
    const b = g.floats(`fc${layer + 1}.bias`, [fanOut], new Float32Array(fanOut));
    x = g.op('Gemm', [x, w, b]);
    x = layer + 2 < widths.length ? g.op('Relu', [x]) : g.op('Sigmoid', [x], undefined, 'probability');
  }
  return g.encode();
}
