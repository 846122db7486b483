// Islands: groups of nodes between which every running container can move
// both ways. The edge A -> B means "every running container of A can go to B"
// (verdict all, or A has none running). Islands start as the strongly
// connected components of that graph ("reach groups": mutually reachable,
// maybe through a third node). The relation is not transitive (B may take
// A's containers and C B's, while C refuses A's), so a reach group whose
// pairs do not all pass both ways directly is split, greedily in node order,
// into islands whose pairs all do. The graph is never built node x node:
// vertices are the N nodes plus one per destination class; node A points to
// the classes its row accepts, a class points to its nodes. A path A -> d -> B
// is the edge A -> B (B != A); a simple path never uses the A -> d -> A loop.

import { type Analysis, passes } from "./engine.ts";
import { stronglyConnected } from "./scc.ts";

export interface Island {
  readonly id: number;
  /** Node indices, ascending. */
  readonly nodes: number[];
  /** The reach group (strongly connected component) it was cut from. */
  readonly group: number;
  /** True when its reach group had to be split. */
  readonly split: boolean;
}

export interface IslandEdge {
  readonly from: number;
  readonly to: number;
  /** Node pairs (a in from, b in to) where a's running containers can all go to b. */
  readonly pairs: number;
  /** |from| x |to|. */
  readonly of: number;
  /** Pairs in the other direction (0 for a one-way edge). */
  readonly back: number;
}

export interface IslandMap {
  readonly islands: Island[];
  /** node -> island id. */
  readonly islandOf: Int32Array;
  readonly groups: number;
  /** Edges between islands with at least one passing pair, one-way first. */
  readonly edges: IslandEdge[];
  /** Total number of island pairs with a passing pair (edges may be truncated). */
  readonly edgeCount: number;
  /** False when there were too many island pairs to count them all. */
  readonly edgesComplete: boolean;
}

/** Island pairs counted at most (memory guard). */
const EDGE_BUDGET = 2_000_000;

const words = (n: number): number => (n + 31) >>> 5;

/** Row class s accepts destination class d (as a bitset per row, built lazily). */
function rowBits(a: Analysis): (s: number) => Uint32Array {
  const D = a.dst.length;
  const cache = new Map<number, Uint32Array>();
  return (s) => {
    let b = cache.get(s);
    if (!b) {
      b = new Uint32Array(words(D));
      for (let d = 0; d < D; d++) if (passes(a.verdict[s * D + d] as number)) setBit(b, d);
      cache.set(s, b);
    }
    return b;
  };
}

const setBit = (b: Uint32Array, i: number): void => {
  b[i >>> 5] = ((b[i >>> 5] as number) | (1 << (i & 31))) >>> 0;
};
const hasBit = (b: Uint32Array, i: number): boolean =>
  !!(((b[i >>> 5] as number) >>> (i & 31)) & 1);

export interface IslandOptions {
  /** Keep at most this many edges in the result (all are counted). */
  readonly maxEdges?: number;
}

export function findIslands(a: Analysis, opts: IslandOptions = {}): IslandMap {
  const N = a.facts.nodes.length;
  const D = a.dst.length;
  const bits = rowBits(a);

  // Successor lists: node -> accepted classes (shared per row), class -> its nodes.
  const rowSucc = new Map<number, Int32Array>();
  const rowList = (s: number): Int32Array => {
    let l = rowSucc.get(s);
    if (!l) {
      const out: number[] = [];
      for (let d = 0; d < D; d++) if (passes(a.verdict[s * D + d] as number)) out.push(N + d);
      l = Int32Array.from(out);
      rowSucc.set(s, l);
    }
    return l;
  };
  const dstSucc = a.dst.map((c) => Int32Array.from(c.nodes));
  const { comp } = stronglyConnected(N + D, (v) =>
    v < N ? rowList(a.nodeRow[v] as number) : (dstSucc[v - N] as Int32Array),
  );

  // Reach groups over nodes only (numbered by first node).
  const groupOf = new Int32Array(N);
  const groupIds = new Map<number, number>();
  const members: number[][] = [];
  for (let v = 0; v < N; v++) {
    const c = comp[v] as number;
    let g = groupIds.get(c);
    if (g === undefined) {
      g = members.length;
      groupIds.set(c, g);
      members.push([]);
    }
    (members[g] as number[]).push(v);
    groupOf[v] = g;
  }

  // Split each group greedily into islands whose pairs all pass both ways.
  // An island keeps: its destination classes (with counts), and the classes
  // every member row accepts (so "all members accept d" is one bit test).
  const islands: Island[] = [];
  const islandOf = new Int32Array(N);
  for (let g = 0; g < members.length; g++) {
    const nodes = members[g] as number[];
    if (nodes.length === 1) {
      islandOf[nodes[0] as number] = islands.length;
      islands.push({ id: islands.length, nodes, group: g, split: false });
      continue;
    }
    const parts: { nodes: number[]; dstBits: Uint32Array; accAll: Uint32Array }[] = [];
    for (const v of nodes) {
      const d = a.nodeDst[v] as number;
      const acc = bits(a.nodeRow[v] as number);
      let placed = false;
      for (const p of parts) {
        // Every member accepts v's class, and v accepts every member's class.
        if (!hasBit(p.accAll, d)) continue;
        let ok = true;
        for (let w = 0; w < p.dstBits.length; w++) {
          if (((p.dstBits[w] as number) & ~(acc[w] as number)) !== 0) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        p.nodes.push(v);
        setBit(p.dstBits, d);
        for (let w = 0; w < p.accAll.length; w++)
          p.accAll[w] = (p.accAll[w] as number) & (acc[w] as number);
        placed = true;
        break;
      }
      if (!placed) {
        const dstBits = new Uint32Array(words(D));
        setBit(dstBits, d);
        parts.push({ nodes: [v], dstBits, accAll: Uint32Array.from(acc) });
      }
    }
    for (const p of parts) {
      const id = islands.length;
      islands.push({ id, nodes: p.nodes, group: g, split: parts.length > 1 });
      for (const v of p.nodes) islandOf[v] = id;
    }
  }

  const { edges, edgeCount, complete } = islandEdges(
    a,
    islands,
    islandOf,
    rowList,
    opts.maxEdges ?? Number.POSITIVE_INFINITY,
  );
  return { islands, islandOf, groups: members.length, edges, edgeCount, edgesComplete: complete };
}

/**
 * Passing node pairs between islands, counted per destination class: for
 * island I, how many of its nodes accept class d; for class d, how many of its
 * nodes each island holds. No node x node loop; typed-array accumulators.
 */
function islandEdges(
  a: Analysis,
  islands: readonly Island[],
  islandOf: Int32Array,
  succ: (s: number) => Int32Array,
  maxEdges: number,
): { edges: IslandEdge[]; edgeCount: number; complete: boolean } {
  const N = a.facts.nodes.length;
  const I = islands.length;
  // Per class: the islands holding its nodes, and how many (flat lists).
  const holders: Int32Array[] = [];
  const holderCounts: Int32Array[] = [];
  for (const c of a.dst) {
    const m = new Map<number, number>();
    for (const v of c.nodes) m.set(islandOf[v] as number, (m.get(islandOf[v] as number) ?? 0) + 1);
    holders.push(Int32Array.from(m.keys()));
    holderCounts.push(Int32Array.from(m.values()));
  }
  const accCnt = new Int32Array(a.dst.length);
  const touchedD: number[] = [];
  const fwd = new Float64Array(I);
  const touchedJ: number[] = [];
  const from: number[] = [];
  const to: number[] = [];
  const pairs: number[] = [];
  let complete = true;
  for (const isl of islands) {
    // A fleet of thousands of lone nodes could have ~N^2 island pairs: stop counting.
    if (from.length > EDGE_BUDGET) {
      complete = false;
      break;
    }
    for (const v of isl.nodes) {
      for (const x of succ(a.nodeRow[v] as number)) {
        const d = x - N;
        if (accCnt[d] === 0) touchedD.push(d);
        accCnt[d] = (accCnt[d] as number) + 1;
      }
    }
    for (const d of touchedD) {
      const cnt = accCnt[d] as number;
      accCnt[d] = 0;
      const hs = holders[d] as Int32Array;
      const hc = holderCounts[d] as Int32Array;
      for (let i = 0; i < hs.length; i++) {
        const j = hs[i] as number;
        if (j === isl.id) continue;
        if (fwd[j] === 0) touchedJ.push(j);
        fwd[j] = (fwd[j] as number) + cnt * (hc[i] as number);
      }
    }
    touchedD.length = 0;
    touchedJ.sort((x, y) => x - y);
    for (const j of touchedJ) {
      from.push(isl.id);
      to.push(j);
      pairs.push(fwd[j] as number);
      fwd[j] = 0;
    }
    touchedJ.length = 0;
  }
  // Edges come out ordered by (from, to); list one-way ones first, and build
  // objects only for those returned.
  const E = from.length;
  const index = new Map<number, number>();
  for (let e = 0; e < E; e++) index.set((from[e] as number) * I + (to[e] as number), e);
  const backOf = (e: number): number => {
    const b = index.get((to[e] as number) * I + (from[e] as number));
    return b === undefined ? 0 : (pairs[b] as number);
  };
  const edges: IslandEdge[] = [];
  for (const oneWay of [true, false]) {
    for (let e = 0; e < E && edges.length < maxEdges; e++) {
      const back = backOf(e);
      if ((back === 0) !== oneWay) continue;
      const f = from[e] as number;
      const t = to[e] as number;
      edges.push({
        from: f,
        to: t,
        pairs: pairs[e] as number,
        of: (islands[f] as Island).nodes.length * (islands[t] as Island).nodes.length,
        back,
      });
    }
  }
  return { edges, edgeCount: E, complete };
}
