// An ONNX graph under construction and its encoding as a ModelProto. Field numbers are onnx.proto's
// (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto).

import { ProtoWriter } from './protobuf.js';

/** Opset 17: LayerNormalization is a built-in op from 17 on; everything else here is in 13. */
export const OPSET = 17;
/** IR version 8 is the one that goes with opset 17. */
export const IR_VERSION = 8;

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** An ONNX node attribute: an int, a string, ints, or floats/float wrapped so they stay floats. */
export type AttrValue = number | string | number[] | { floats: number[] } | { float: number };

/** One ONNX node: its op type, input and output value names, name and attributes. */
export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Record<string, AttrValue>;
}

/** One ONNX initializer: a named float32 constant (a weight) with its dims. */
export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array;
}

/** A value flowing through the graph: its name and what is known of its shape (null: unknown size). */
export interface Value {
  name: string;
  shape: (number | null)[];
}

/** An ONNX graph under construction: the nodes and initializers an ONNX lowering adds, with unique names. */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  private counter = 0;
  private names = new Set<string>();

  private unique(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Adds a weight (or constant) under a unique name, returning the name. */
  initializer(name: string, dims: readonly number[], data: ArrayLike<number>): string {
    const n = this.unique(name);
    this.initializers.push({ name: n, dims: dims.slice(), data: Float32Array.from(data) });
    return n;
  }

  /** A float scalar constant. */
  scalar(name: string, v: number): string {
    return this.initializer(name, [], [v]);
  }

  /** Adds a node with one output, named after `name`, and returns the output's name. */
  node(op: string, inputs: string[], name: string, attrs: Record<string, AttrValue> = {}): string {
    const nodeName = this.unique(name || op);
    const out = this.unique(`${nodeName}:out`);
    this.nodes.push({ op, inputs, outputs: [out], name: nodeName, attrs });
    return out;
  }
}

function attribute(name: string, v: AttrValue): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`onnx: attribute ${name} = ${v} must be an integer (use {float})`);
    a.varint(20, ATTR.INT).varint(3, v);
  } else if (typeof v === 'string') a.varint(20, ATTR.STRING).string(4, v);
  else if (Array.isArray(v)) a.varint(20, ATTR.INTS).packedVarints(8, v);
  else if ('floats' in v) a.varint(20, ATTR.FLOATS).packedFloats(7, v.floats);
  else a.varint(20, ATTR.FLOAT).float(2, v.float);
  return a;
}

function tensorProto(t: Initializer): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length) w.packedVarints(1, t.dims);
  w.varint(2, FLOAT).string(8, t.name);
  const raw = new Uint8Array(t.data.length * 4);
  const dv = new DataView(raw.buffer);
  t.data.forEach((x, i) => dv.setFloat32(4 * i, x, true));
  return w.bytes(9, raw);
}

/** ValueInfoProto of a float tensor; a string dim is symbolic (dim_param), e.g. the batch size. */
function valueInfo(name: string, dims: (number | string)[] | null): ProtoWriter {
  const tensorType = new ProtoWriter().varint(1, FLOAT);
  if (dims) {
    const shape = new ProtoWriter();
    for (const d of dims) shape.message(1, typeof d === 'string' ? new ProtoWriter().string(2, d) : new ProtoWriter().varint(1, d));
    tensorType.message(2, shape);
  }
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

export interface ModelInfo {
  graphName: string;
  input: { name: string; dims: (number | string)[] };
  output: { name: string; dims: (number | string)[] | null };
  producerVersion: string;
  docString?: string;
}

/** The ModelProto bytes of `g`, whose last node's output becomes the graph output `info.output.name`. */
export function encodeModel(g: GraphBuilder, info: ModelInfo): Uint8Array {
  const graph = new ProtoWriter();
  const last = g.nodes[g.nodes.length - 1];
  if (!last) throw new Error('onnx: the graph has no nodes');
  last.outputs = [info.output.name];
  for (const n of g.nodes) {
    const w = new ProtoWriter();
    for (const i of n.inputs) w.string(1, i);
    for (const o of n.outputs) w.string(2, o);
    w.string(3, n.name).string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs)) w.message(5, attribute(k, v));
    graph.message(1, w);
  }
  graph.string(2, info.graphName);
  for (const t of g.initializers) graph.message(5, tensorProto(t));
  if (info.docString) graph.string(10, info.docString);
  graph.message(11, valueInfo(info.input.name, info.input.dims));
  graph.message(12, valueInfo(info.output.name, info.output.dims));
  const model = new ProtoWriter()
    .varint(1, IR_VERSION)
    .string(2, 'skipgrad')
    .string(3, info.producerVersion)
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').varint(2, OPSET));
  return model.finish();
}
