// The difference between two analyses of (nearly) the same fleet, for
// what-if: node pairs whose verdict changed, islands, and containers that
// gained or lost every destination. Pairs are counted by classes: nodes are
// grouped by (row class before, row class after) as sources and by
// (destination class before, after) as destinations, so a 10,000-node fleet
// costs groups x groups, not nodes x nodes.

import { type Analysis, reach, VERDICT_NAMES, type VerdictName } from "./engine.ts";
import type { IslandMap } from "./islands.ts";

export interface PairChange {
  readonly source: string;
  readonly destination: string;
  readonly before: VerdictName;
  readonly after: VerdictName;
}

export interface Transition {
  readonly before: VerdictName;
  readonly after: VerdictName;
  readonly pairs: number;
}

export interface ContainerChange {
  readonly node: string;
  readonly id: number;
  readonly before: number;
  readonly after: number;
}

export interface FleetDiff {
  readonly nodesAdded: string[];
  readonly nodesRemoved: string[];
  /** Ordered pairs of nodes present before and after. */
  readonly pairsCompared: number;
  readonly pairsChanged: number;
  readonly transitions: Transition[];
  /** Some changed pairs (all of them up to `limit`). */
  readonly examples: PairChange[];
  readonly islands: {
    readonly before: number;
    readonly after: number;
    /** Node pairs sharing an island before and not after, and the other way round. */
    readonly pairsSeparated: number;
    readonly pairsJoined: number;
  };
  readonly reach: {
    readonly before: { running: number; reachable: number };
    readonly after: { running: number; reachable: number };
  };
  /** Running containers (on nodes present in both) that lost their last / found a first destination. */
  readonly stranded: ContainerChange[];
  readonly rescued: ContainerChange[];
}

const pairsOf = (n: number): number => (n * (n - 1)) / 2;

export function diffAnalyses(
  before: Analysis,
  after: Analysis,
  islandsBefore: IslandMap,
  islandsAfter: IslandMap,
  limit = 50,
): FleetDiff {
  const bNodes = before.facts.nodes;
  const aNodes = after.facts.nodes;
  const aIndex = new Map(aNodes.map((n) => [n.name, n.index]));
  const bNames = new Set(bNodes.map((n) => n.name));
  const common: [number, number][] = [];
  for (const n of bNodes) {
    const j = aIndex.get(n.name);
    if (j !== undefined) common.push([n.index, j]);
  }

  // Source and destination groups over the common nodes.
  const srcGroups = new Map<string, number[]>();
  const dstGroups = new Map<string, number[]>();
  const srcOf: string[] = [];
  const dstOf: string[] = [];
  common.forEach(([bi, ai], idx) => {
    const sk = `${before.nodeRow[bi]}|${after.nodeRow[ai]}`;
    const dk = `${before.nodeDst[bi]}|${after.nodeDst[ai]}`;
    srcOf.push(sk);
    dstOf.push(dk);
    (srcGroups.get(sk) ?? srcGroups.set(sk, []).get(sk))?.push(idx);
    (dstGroups.get(dk) ?? dstGroups.set(dk, []).get(dk))?.push(idx);
  });
  // Nodes that are in both a given source group and a given destination group (self pairs).
  const both = new Map<string, number>();
  common.forEach((_, idx) => {
    const key = `${srcOf[idx]}#${dstOf[idx]}`;
    both.set(key, (both.get(key) ?? 0) + 1);
  });

  const Db = before.dst.length;
  const Da = after.dst.length;
  const trans = new Map<string, number>();
  let changed = 0;
  const examples: PairChange[] = [];
  for (const [sk, srcIdx] of srcGroups) {
    const [rb, ra] = sk.split("|").map(Number) as [number, number];
    for (const [dk, dstIdx] of dstGroups) {
      const [db, da] = dk.split("|").map(Number) as [number, number];
      const vb = before.verdict[rb * Db + db] as number;
      const va = after.verdict[ra * Da + da] as number;
      if (vb === va) continue;
      const pairs = srcIdx.length * dstIdx.length - (both.get(`${sk}#${dk}`) ?? 0);
      if (pairs === 0) continue;
      changed += pairs;
      const tk = `${vb}>${va}`;
      trans.set(tk, (trans.get(tk) ?? 0) + pairs);
      for (const s of srcIdx) {
        if (examples.length >= limit) break;
        for (const d of dstIdx) {
          if (examples.length >= limit) break;
          if (s === d) continue;
          examples.push({
            source: (bNodes[(common[s] as [number, number])[0]] as { name: string }).name,
            destination: (bNodes[(common[d] as [number, number])[0]] as { name: string }).name,
            before: VERDICT_NAMES[vb] as VerdictName,
            after: VERDICT_NAMES[va] as VerdictName,
          });
        }
      }
    }
  }
  examples.sort(
    (x, y) => x.source.localeCompare(y.source) || x.destination.localeCompare(y.destination),
  );
  const transitions = [...trans.entries()]
    .map(([k, pairs]) => {
      const [vb, va] = k.split(">").map(Number) as [number, number];
      return {
        before: VERDICT_NAMES[vb] as VerdictName,
        after: VERDICT_NAMES[va] as VerdictName,
        pairs,
      };
    })
    .sort((x, y) => y.pairs - x.pairs);

  // Islands: pairs of common nodes sharing an island, by a contingency table.
  const cell = new Map<string, number>();
  const bSize = new Map<number, number>();
  const aSize = new Map<number, number>();
  for (const [bi, ai] of common) {
    const ib = islandsBefore.islandOf[bi] as number;
    const ia = islandsAfter.islandOf[ai] as number;
    cell.set(`${ib}|${ia}`, (cell.get(`${ib}|${ia}`) ?? 0) + 1);
    bSize.set(ib, (bSize.get(ib) ?? 0) + 1);
    aSize.set(ia, (aSize.get(ia) ?? 0) + 1);
  }
  const sum = (m: Map<unknown, number>): number =>
    [...m.values()].reduce((s, n) => s + pairsOf(n), 0);
  const together = sum(cell);

  // Containers on common nodes, matched by (node, id).
  const stranded: ContainerChange[] = [];
  const rescued: ContainerChange[] = [];
  for (const [bi, ai] of common) {
    const after_ = new Map<number, number>();
    for (const ci of after.facts.byNode[ai] as readonly number[]) {
      const c = after.facts.containers[ci];
      if (c && c.ct.state === "running") after_.set(c.ct.id, after.destinations[ci] as number);
    }
    for (const ci of before.facts.byNode[bi] as readonly number[]) {
      const c = before.facts.containers[ci];
      if (c?.ct.state !== "running") continue;
      const nb = before.destinations[ci] as number;
      const na = after_.get(c.ct.id);
      if (na === undefined) continue;
      const node = (bNodes[bi] as { name: string }).name;
      if (nb > 0 && na === 0) stranded.push({ node, id: c.ct.id, before: nb, after: na });
      if (nb === 0 && na > 0) rescued.push({ node, id: c.ct.id, before: nb, after: na });
    }
  }

  return {
    nodesAdded: aNodes.filter((n) => !bNames.has(n.name)).map((n) => n.name),
    nodesRemoved: bNodes.filter((n) => !aIndex.has(n.name)).map((n) => n.name),
    pairsCompared: common.length * (common.length - 1),
    pairsChanged: changed,
    transitions,
    examples,
    islands: {
      before: islandsBefore.islands.length,
      after: islandsAfter.islands.length,
      pairsSeparated: sum(bSize) - together,
      pairsJoined: sum(aSize) - together,
    },
    reach: { before: reach(before), after: reach(after) },
    stranded,
    rescued,
  };
}
