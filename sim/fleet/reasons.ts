// Reasons by class: every container of a container class meets the same
// checks on every node of a destination class, so the reasons are computed
// once per (container class, destination class) with the kernel model
// (pair.ts) on example members, and shared. Texts are interned so reports can
// refer to them by number.

import { type Analysis, ctCode } from "./engine.ts";
import type { NodeFact } from "./facts.ts";
import { type Outcome, pairOutcome, type Reason } from "./pair.ts";

export interface ClassReasons {
  /** The outcome of container class k on destination class d (reasons without per-container messages). */
  outcome(k: number, d: number): Outcome;
  /** Outcome of container ci moving to node b (its own messages included). */
  containerOutcome(ci: number, b: number): Outcome;
}

/** A node of class d other than `avoid` when there is one (a pair needs two nodes). */
const member = (a: Analysis, d: number, avoid: number): number => {
  const nodes = (a.dst[d] as { nodes: number[] }).nodes;
  return nodes.find((n) => n !== avoid) ?? (nodes[0] as number);
};

const stripMessages = (r: Reason): Reason => {
  if (!r.messages) return r;
  const { messages: _drop, ...rest } = r;
  return rest;
};

export function classReasons(a: Analysis): ClassReasons {
  const memo = new Map<number, Outcome>();
  const D = a.dst.length;
  const outcome = (k: number, d: number): Outcome => {
    const key = k * D + d;
    let o = memo.get(key);
    if (!o) {
      const ex = (a.cts[k] as { example: number }).example;
      const c = a.facts.containers[ex] as Analysis["facts"]["containers"][number];
      const src = a.facts.nodes[c.node] as NodeFact;
      const dst = a.facts.nodes[member(a, d, c.node)] as NodeFact;
      const full = pairOutcome(src, c, dst);
      o = { ...full, reasons: full.reasons.map(stripMessages) };
      memo.set(key, o);
    }
    return o;
  };
  return {
    outcome,
    containerOutcome(ci, b) {
      const c = a.facts.containers[ci] as Analysis["facts"]["containers"][number];
      const o = outcome(a.ctClass[ci] as number, a.nodeDst[b] as number);
      if (o.code !== ctCode(a, ci, b)) throw new Error("reason cache out of step with the matrix");
      return {
        ...o,
        reasons: o.reasons.map((r) =>
          r.kind === "unsupported" ? { ...r, messages: c.messages } : r,
        ),
      };
    },
  };
}
