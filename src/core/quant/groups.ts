// Revert groups (POT `graph/passes.py::RemoveFakeQuantize.find_and_remove_node`, reached from
// `accuracy_aware_common/algorithm.py::_modify_model_in_scope`): the closure of one quantization decision. Reverting a
// group turns off every quantizer on the inputs (activation AND weight) of every quantizable op
// that reads the seed's tensor (through agnostic ops), the other inputs of eltwise ops, Concat
// partners, and recursively every other consumer of those quantizers.
import type { GraphIndex } from '../onnx/graph';
import type { QuantizerSpec, RevertGroup } from '../types';
import { AGNOSTIC_OPS } from './hardware';

export class GroupFinder {
  private readonly byConsumer = new Map<string, string[]>(); // "node#input" → quantizer ids
  private readonly specs = new Map<string, QuantizerSpec>();
  private readonly quantOps: Set<string>;
  private readonly pos: Map<number, number>;

  constructor(
    private readonly idx: GraphIndex,
    specs: QuantizerSpec[],
    quantizableOps: string[],
  ) {
    for (const s of specs) {
      this.specs.set(s.id, s);
      for (const c of s.consumers) {
        const k = `${c.node}#${c.input}`;
        this.byConsumer.set(k, [...(this.byConsumer.get(k) ?? []), s.id]);
      }
    }
    this.quantOps = new Set(quantizableOps);
    this.pos = idx.topoPosition();
  }

  /** Quantizable ops reached from a quantizer through agnostic ops. */
  private reachedOps(q: QuantizerSpec): string[] {
    const out = new Set<string>();
    const seen = new Set<string>();
    const visitNode = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      if (this.quantOps.has(name)) {
        out.add(name);
        return;
      }
      const i = this.idx.nodeByName.get(name);
      const n = i === undefined ? undefined : this.idx.nodes[i];
      if (!n || !AGNOSTIC_OPS.has(n.opType ?? '')) return;
      for (const o of n.output ?? []) for (const u of this.idx.usesOf(o)) visitNode(this.idx.nodes[u.node].name ?? '');
    };
    for (const c of q.consumers) visitNode(c.node);
    if (!out.size) {
      // an output quantizer no quantizable op reads (onnxruntime's placement: the Q its producer
      // needs to run on integers) belongs to the op producing it (above an absorbed Relu/Clip)
      let p = this.idx.producerNode(q.tensor);
      while (p && !this.quantOps.has(p.name ?? '') && (p.opType === 'Relu' || p.opType === 'Clip' || AGNOSTIC_OPS.has(p.opType ?? '')))
        p = this.idx.producerNode(p.input?.[0] ?? '');
      if (p && this.quantOps.has(p.name ?? '')) out.add(p.name ?? '');
    }
    return [...out];
  }

  /** Quantizers feeding input `k` of node `name`, looking up through agnostic ops. */
  private feeding(name: string, k: number, enabled: Set<string>, seen = new Set<string>()): string[] {
    const key = `${name}#${k}`;
    if (seen.has(key)) return [];
    seen.add(key);
    const direct = (this.byConsumer.get(key) ?? []).filter((q) => enabled.has(q));
    if (direct.length) return direct;
    const i = this.idx.nodeByName.get(name);
    const t = i === undefined ? undefined : this.idx.nodes[i].input?.[k];
    const prod = t ? this.idx.producerNode(t) : undefined;
    if (!prod || !AGNOSTIC_OPS.has(prod.opType ?? '') || this.quantOps.has(prod.name ?? '')) return [];
    return (prod.input ?? []).flatMap((_, j) => this.feeding(prod.name ?? '', j, enabled, seen));
  }

  /** True when quantizer `id` feeds input `k` of node `name` (directly or above agnostic ops). */
  feedsInput(id: string, name: string, k: number): boolean {
    return this.feeding(name, k, new Set(this.specs.keys())).includes(id);
  }

  /** The closure group seeded by quantizer `seed`, among `enabled` quantizers. */
  groupOf(seed: string, enabled: Set<string>): RevertGroup {
    const cut = new Set<string>([seed]);
    const ops = new Set<string>();
    const queue = [seed];
    while (queue.length) {
      const q = this.specs.get(queue.pop()!);
      if (!q) continue;
      for (const op of this.reachedOps(q)) {
        if (ops.has(op)) continue;
        ops.add(op);
        const n = this.idx.nodes[this.idx.nodeByName.get(op)!];
        (n.input ?? []).forEach((_, k) => {
          for (const q2 of this.feeding(op, k, enabled)) {
            if (!cut.has(q2)) {
              cut.add(q2);
              queue.push(q2);
            }
          }
        });
      }
    }
    const opPos = (o: string) => this.pos.get(this.idx.nodeByName.get(o) ?? -1) ?? 0;
    return { id: seed, quantizers: [...cut].sort(), ops: [...ops].sort((a, b) => opPos(a) - opPos(b)) };
  }

  /** Groups covering all enabled quantizers, seeded in graph order (POT's ranking walk). */
  groups(enabledIds: Iterable<string>): RevertGroup[] {
    const enabled = new Set(enabledIds);
    const covered = new Set<string>();
    const out: RevertGroup[] = [];
    for (const id of this.specs.keys()) {
      if (!enabled.has(id) || covered.has(id)) continue;
      const g = this.groupOf(id, enabled);
      g.quantizers.forEach((q) => covered.add(q));
      out.push(g);
    }
    return out;
  }

  /** Quantizable ops that still read at least one enabled quantizer (POT's quantized-op count). */
  quantizedOps(enabledIds: Iterable<string>): string[] {
    const enabled = new Set(enabledIds);
    const out = new Set<string>();
    for (const id of enabled) {
      const q = this.specs.get(id);
      if (q) this.reachedOps(q).forEach((o) => out.add(o));
    }
    const opPos = (o: string) => this.pos.get(this.idx.nodeByName.get(o) ?? -1) ?? 0;
    return [...out].sort((a, b) => opPos(a) - opPos(b));
  }
}
