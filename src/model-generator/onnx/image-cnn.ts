/**
 * image_cnn: image FP32 [batch, 3, 32, 32] → logits FP32 [batch, 10] and probabilities FP32 [batch, 10].
 * Conv(3→16, 3x3, pad 1) → Relu → MaxPool 2 → Conv(16→32, 3x3, pad 1) → Relu → GlobalAveragePool → Flatten
 * → Gemm(32→10) = logits → Softmax = probabilities.
 */
import { GraphBuilder } from './graph-builder.js';
import { OnnxType } from './onnx-proto.js';
import { heNormal, mulberry32 } from './prng.js';

const CONV1_CHANNELS = 16;
const CONV2_CHANNELS = 32;
const CLASSES = 10;
const SEED = 0xc0ffee01;

export function buildImageCnn(): Uint8Array {
  const rng = mulberry32(SEED);
  const g = new GraphBuilder('image_cnn');
  const image = g.input('image', OnnxType.FLOAT, ['batch', 3, 32, 32]);
  g.output('logits', OnnxType.FLOAT, ['batch', CLASSES]);
  g.output('probabilities', OnnxType.FLOAT, ['batch', CLASSES]);

  const conv = (x: string, name: string, cin: number, cout: number): string => {
    const fanIn = cin * 9;
    const w = g.floats(`${name}.weight`, [cout, cin, 3, 3], heNormal(rng, fanIn, cout * fanIn));
    const b = g.floats(`${name}.bias`, [cout], new Float32Array(cout));
    return g.op('Relu', [g.op('Conv', [x, w, b], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } })]);
  };

  let x = conv(image, 'conv1', 3, CONV1_CHANNELS);
  x = g.op('MaxPool', [x], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
  x = conv(x, 'conv2', CONV1_CHANNELS, CONV2_CHANNELS);
  x = g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: { int: 1 } });
  const w = g.floats('fc.weight', [CONV2_CHANNELS, CLASSES], heNormal(rng, CONV2_CHANNELS, CONV2_CHANNELS * CLASSES));
  const b = g.floats('fc.bias', [CLASSES], new Float32Array(CLASSES));
  const logits = g.op('Gemm', [x, w, b], undefined, 'logits');
  g.op('Softmax', [logits], { axis: { int: -1 } }, 'probabilities');
  return g.encode();
}
