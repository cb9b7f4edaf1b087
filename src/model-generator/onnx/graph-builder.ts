/**
 * A small builder over `GraphSpec`: names intermediate values and nodes, so a model reads as a list of ops.
 */
import {
  encodeModel, OnnxType, type AttributeValue, type GraphSpec, type NodeSpec, type TensorSpec, type ValueInfoSpec,
} from './onnx-proto.js';

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: TensorSpec[] = [];
  private readonly inputs: ValueInfoSpec[] = [];
  private readonly outputs: ValueInfoSpec[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  /** `shape` undefined declares no shape (any rank), unlike [] (rank 0). */
  input(name: string, elemType: OnnxType, shape: readonly (number | string)[] | undefined): string {
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  output(name: string, elemType: OnnxType, shape: readonly (number | string)[] | undefined): string {
    this.outputs.push({ name, elemType, shape });
    return name;
  }

  /** A FLOAT initializer; returns its name. */
  floats(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    this.initializers.push({ name, dims, dataType: OnnxType.FLOAT, floats: values });
    return name;
  }

  /** A 1-D INT64 initializer (shapes, axes); returns its name. */
  int64s(name: string, values: readonly number[]): string {
    this.initializers.push({ name, dims: [values.length], dataType: OnnxType.INT64, int64s: values });
    return name;
  }

  /**
   * Appends a node. Its output is `out` when given (a graph output), else a fresh intermediate name.
   * Returns the output name.
   */
  op(opType: string, inputs: readonly string[], attributes?: Record<string, AttributeValue>, out?: string): string {
    const index = this.counter++;
    const output = out ?? `${opType.toLowerCase()}_${index}`;
    this.nodes.push({ opType, name: `${opType}_${index}`, inputs, outputs: [output], attributes });
    return output;
  }

  build(): GraphSpec {
    return {
      name: this.name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
    };
  }

  encode(): Uint8Array {
    return encodeModel(this.build());
  }
}
