/**
 * A small ONNX graph builder over the `onnx-proto` protobuf definitions: typed inputs/outputs, initializers
 * stored as little-endian raw data, nodes with attributes, serialized as an opset-17 / IR-8 model.
 * Only what the Gaussian-mixture generator needs; no shape inference.
 */
import { onnx } from 'onnx-proto';

export type Dim = number | string;
export type ElemType = 'float32' | 'int64';
export type AttrValue = number | number[] | { int: number } | { ints: number[] };

const ELEM: Record<ElemType, number> = { float32: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64 };

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inits: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly prefix = 'n') {}

  /** Declares a graph input; returns its name. */
  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares a graph output (the value `name` must be produced by a node). */
  output(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** A float32 constant. */
  constF(values: ArrayLike<number>, dims: readonly number[], name?: string): string {
    const n = name ?? this.fresh('c');
    const f = Float32Array.from(values as ArrayLike<number>);
    this.inits.push({ name: n, dataType: ELEM.float32, dims: [...dims], rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) });
    return n;
  }

  /** A scalar float32 constant. */
  scalar(v: number, name?: string): string {
    return this.constF([v], [], name);
  }

  /** An int64 constant. */
  constI(values: readonly number[], dims: readonly number[], name?: string): string {
    const n = name ?? this.fresh('i');
    const b = BigInt64Array.from(values, (v) => BigInt(v));
    this.inits.push({ name: n, dataType: ELEM.int64, dims: [...dims], rawData: new Uint8Array(b.buffer) });
    return n;
  }

  /** Adds a node; returns the name of its (first) output. */
  op(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => attr(name, v));
    this.nodes.push({ opType, input: [...inputs], output: [out], name: `${opType}_${this.counter}`, attribute });
    return out;
  }

  /** Serializes the model. */
  build(opts: { producer: string; doc?: string; graphName?: string }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      producerName: opts.producer,
      producerVersion: '1',
      docString: opts.doc ?? '',
      graph: {
        name: opts.graphName ?? 'graph',
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private fresh(kind: string): string {
    this.counter++;
    return `${this.prefix}_${kind}_${this.counter}`;
  }
}

function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ELEM[type], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function attr(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.FLOAT, f: v };
  if (Array.isArray(v)) return { name, type: T.FLOATS, floats: v };
  if ('int' in v) return { name, type: T.INT, i: v.int };
  return { name, type: T.INTS, ints: v.ints };
}
