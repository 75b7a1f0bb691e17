// Graph index over a ModelProto's main graph: producers, consumers, initializers, topological order.
import { QuantizeError } from '../types';
import { toNum, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';

export interface Use {
  node: number;
  input: number;
}

export class GraphIndex {
  readonly graph: GraphProto;
  readonly nodes: NodeProto[];
  readonly initializers = new Map<string, TensorProto>();
  /** tensor name → index of the node producing it */
  readonly producer = new Map<string, number>();
  /** tensor name → nodes reading it */
  readonly consumers = new Map<string, Use[]>();
  readonly inputs: string[];
  readonly outputs: string[];
  readonly valueInfo = new Map<string, ValueInfoProto>();
  readonly nodeByName = new Map<string, number>();
  /** node indices in topological order */
  readonly order: number[];

  constructor(model: ModelProto) {
    if (!model.graph) throw new QuantizeError('model has no graph');
    this.graph = model.graph;
    this.nodes = model.graph.node ?? [];
    for (const t of model.graph.initializer ?? []) this.initializers.set(t.name ?? '', t);
    this.inputs = (model.graph.input ?? []).map((v) => v.name ?? '').filter((n) => !this.initializers.has(n));
    this.outputs = (model.graph.output ?? []).map((v) => v.name ?? '');
    for (const v of [...(model.graph.input ?? []), ...(model.graph.valueInfo ?? []), ...(model.graph.output ?? [])]) {
      if (v.name) this.valueInfo.set(v.name, v);
    }
    this.nodes.forEach((n, i) => {
      if (n.name) this.nodeByName.set(n.name, i);
      (n.output ?? []).forEach((o) => o && this.producer.set(o, i));
      (n.input ?? []).forEach((inp, k) => {
        if (!inp) return;
        const list = this.consumers.get(inp) ?? [];
        list.push({ node: i, input: k });
        this.consumers.set(inp, list);
      });
    });
    this.order = this.topoSort();
  }

  private topoSort(): number[] {
    const n = this.nodes.length;
    const indeg = new Array<number>(n).fill(0);
    const deps: number[][] = Array.from({ length: n }, () => []);
    this.nodes.forEach((node, i) => {
      const seen = new Set<number>();
      for (const inp of node.input ?? []) {
        const p = inp ? this.producer.get(inp) : undefined;
        if (p !== undefined && p !== i && !seen.has(p)) {
          seen.add(p);
          indeg[i]++;
          deps[p].push(i);
        }
      }
    });
    // Kahn's algorithm, lowest index first (keeps the file order where it is valid).
    const ready: number[] = [];
    for (let i = 0; i < n; i++) if (indeg[i] === 0) ready.push(i);
    const out: number[] = [];
    while (ready.length) {
      ready.sort((a, b) => a - b);
      const i = ready.shift()!;
      out.push(i);
      for (const j of deps[i]) if (--indeg[j] === 0) ready.push(j);
    }
    if (out.length !== n) {
      const stuck = this.nodes.findIndex((_, i) => !out.includes(i));
      throw new QuantizeError(`the graph has a cycle through node '${this.nodes[stuck]?.name ?? stuck}'`, { expected: 'an acyclic ONNX graph' });
    }
    return out;
  }

  isConstant(tensor: string): boolean {
    return this.initializers.has(tensor);
  }

  producerNode(tensor: string): NodeProto | undefined {
    const p = this.producer.get(tensor);
    return p === undefined ? undefined : this.nodes[p];
  }

  usesOf(tensor: string): Use[] {
    return this.consumers.get(tensor) ?? [];
  }

  /** Declared shape of a tensor (graph input/output/value_info): numbers, or -1 for symbolic/unknown dims. */
  shapeOf(tensor: string): number[] | undefined {
    const init = this.initializers.get(tensor);
    if (init) return (init.dims ?? []).map(toNum);
    const dims = this.valueInfo.get(tensor)?.type?.tensorType?.shape?.dim;
    if (!dims) return undefined;
    return dims.map((d) => (d.dimValue != null && toNum(d.dimValue) > 0 ? toNum(d.dimValue) : -1));
  }

  /** Position of each node in topological order. */
  topoPosition(): Map<number, number> {
    return new Map(this.order.map((n, i) => [n, i]));
  }
}
