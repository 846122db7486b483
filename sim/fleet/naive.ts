// The straightforward implementation: every container of every node checked
// against every other node through the kernel model's own functions (pair.ts),
// node x node verdicts in a dense matrix, islands from that matrix. It is the
// baseline of bench/fleet.ts and the oracle the grouped engine is tested
// against; it is O(containers x nodes) in time and O(nodes^2) in memory.

import { ALL, EMPTY, MODULE, NONE, passes, SELF, SOME, VERSION } from "./engine.ts";
import type { FleetFacts } from "./facts.ts";
import {
  isGo,
  pairCode,
  preCode,
  REFUSED_NO_CPT,
  REFUSED_NO_RST,
  REFUSED_VERSION,
} from "./pair.ts";
import { stronglyConnected } from "./scc.ts";

export interface NaiveRows {
  /** The source nodes computed (all nodes unless a sample was asked for). */
  readonly sources: readonly number[];
  /** verdict[i * N + b] for sources[i]. */
  readonly verdict: Uint8Array;
  readonly goCount: Uint16Array;
  /** Accepting destinations of every container of the computed sources (else -1). */
  readonly destinations: Int32Array;
}

/** Node verdicts and container destination counts for some (or all) source nodes. */
export function naiveRows(facts: FleetFacts, sources?: readonly number[]): NaiveRows {
  const N = facts.nodes.length;
  const srcs = sources ?? facts.nodes.map((n) => n.index);
  const verdict = new Uint8Array(srcs.length * N);
  const goCount = new Uint16Array(srcs.length * N);
  const destinations = new Int32Array(facts.containers.length).fill(-1);
  srcs.forEach((a, i) => {
    const src = facts.nodes[a];
    if (!src) throw new Error(`no node ${a}`);
    let running = 0;
    for (const ci of facts.byNode[a] as readonly number[]) {
      const c = facts.containers[ci];
      if (!c) continue;
      const isRunning = c.ct.state === "running";
      if (isRunning) running++;
      let count = 0;
      for (let b = 0; b < N; b++) {
        if (b === a) continue;
        if (isGo(pairCode(src, c, facts.nodes[b] as (typeof facts.nodes)[number]))) {
          count++;
          if (isRunning) goCount[i * N + b] = (goCount[i * N + b] as number) + 1;
        }
      }
      destinations[ci] = count;
    }
    for (let b = 0; b < N; b++) {
      let v: number;
      const g = goCount[i * N + b] as number;
      if (b === a) v = SELF;
      else if (running > 0 && g === running) v = ALL;
      else if (g > 0) v = SOME;
      else {
        const pre = preCode(src, facts.nodes[b] as (typeof facts.nodes)[number]);
        v =
          pre === REFUSED_VERSION
            ? VERSION
            : pre === REFUSED_NO_RST || pre === REFUSED_NO_CPT
              ? MODULE
              : running === 0
                ? EMPTY
                : NONE;
      }
      verdict[i * N + b] = v;
    }
  });
  return { sources: srcs, verdict, goCount, destinations };
}

export interface NaiveIslands {
  /** Islands as sorted node lists, in the same order as islands.ts numbers them. */
  readonly islands: number[][];
  readonly groups: number;
}

/** Islands from the dense matrix: SCCs, then the same greedy split, pair by pair. */
export function naiveIslands(rows: NaiveRows, n: number): NaiveIslands {
  if (rows.sources.length !== n) throw new Error("naiveIslands needs every source row");
  const pass = (a: number, b: number): boolean => passes(rows.verdict[a * n + b] as number);
  const succ: Int32Array[] = [];
  for (let a = 0; a < n; a++) {
    const out: number[] = [];
    for (let b = 0; b < n; b++) if (a !== b && pass(a, b)) out.push(b);
    succ.push(Int32Array.from(out));
  }
  const { comp } = stronglyConnected(n, (v) => succ[v] as Int32Array);
  const ids = new Map<number, number>();
  const groups: number[][] = [];
  for (let v = 0; v < n; v++) {
    const c = comp[v] as number;
    let g = ids.get(c);
    if (g === undefined) {
      g = groups.length;
      ids.set(c, g);
      groups.push([]);
    }
    (groups[g] as number[]).push(v);
  }
  const islands: number[][] = [];
  for (const nodes of groups) {
    const parts: number[][] = [];
    for (const v of nodes) {
      const p = parts.find((q) => q.every((u) => pass(u, v) && pass(v, u)));
      if (p) p.push(v);
      else parts.push([v]);
    }
    islands.push(...parts);
  }
  return { islands, groups: groups.length };
}
