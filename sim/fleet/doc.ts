// The JSON documents of `vzcptsim fleet ... --json` (schema in man/vzcptsim.1,
// FLEET EXPERIMENTS; every document has "schemaVersion": 1 and "kind"). Text
// tables, CSV and HTML are rendered from these same documents, so every
// output says the same thing. Fields are only ever added within a version.

import { describeFlags } from "../../src/cpt/nodeflags.ts";
import type { Baseline, Optimised } from "./baseline.ts";
import type { FleetDiff } from "./diff.ts";
import {
  type Analysis,
  acceptingNodes,
  nodeGoCount,
  nodeVerdict,
  passes,
  VERDICT_NAMES,
  type VerdictName,
} from "./engine.ts";
import type { FleetFacts, NodeFact } from "./facts.ts";
import type { IslandMap } from "./islands.ts";
import { nodeReason, type Reason } from "./pair.ts";
import { type ClassReasons, classReasons } from "./reasons.ts";
import type { UpgradePlan } from "./upgrade.ts";
import type { Change } from "./whatif.ts";
import { describeChange } from "./whatif.ts";

export const SCHEMA_VERSION = 1;

export const VERDICT_MEANINGS: Readonly<Record<VerdictName, string>> = {
  self: "the node itself",
  all: "every running container of the source can go",
  some: "some running containers of the source can go",
  none: "no running container of the source can go",
  version: "the destination refuses the source's image version",
  module: "vzcpt missing on the source or vzrst on the destination",
  empty: "nothing running on the source (and nothing node-wide refuses)",
};

export interface FleetInfo {
  readonly name: string;
  readonly nodes: number;
  readonly containers: { total: number; running: number; stopped: number; locked: number };
}

export interface NodeInfo {
  readonly name: string;
  readonly kernel: string;
  readonly cpu: string;
  readonly flags: number;
  readonly flagNames: string[];
  /** What `vzcptcheck version` prints there (null: fails, the test is skipped). */
  readonly version: number | null;
  /** What `vzcptcheck caps` prints there (null: fails, the test is skipped). */
  readonly caps: number | null;
  readonly running: number;
  readonly stopped: number;
  readonly locked: number;
  /** Its node class (nodes of one class answer every check alike as destinations). */
  readonly class: number;
}

export interface ClassInfo {
  readonly id: number;
  readonly kernel: string;
  readonly caps: number | null;
  readonly vzrst: boolean;
  readonly nodes: number;
  /** Up to 5 of its nodes. */
  readonly examples: string[];
}

export interface ContainerRefusal {
  readonly id: number;
  readonly name: string | null;
  readonly state: string;
  /** Outcome code (see the man page): 11-15 VECAPS 1-5, 20 suspended, 30 version, 31/32 module, 33 locked. */
  readonly code: number;
  readonly check: string;
  readonly vecapsResult: number | null;
  readonly reasons: readonly Reason[];
}

export interface PairDetail {
  readonly source: string;
  readonly destination: string;
  readonly verdict: VerdictName;
  readonly running: number;
  readonly go: number;
  /** The node-wide refusal (verdict version or module), else null. */
  readonly nodeReason: Reason | null;
  /** Refused containers (running ones decide the verdict; stopped/locked listed too). */
  readonly containers: ContainerRefusal[];
  /** Refused containers left out of `containers` (class-detail examples keep 3). */
  readonly containersOmitted?: number;
}

/** A pair detail with at most `max` refused containers listed. */
export const truncatePair = (p: PairDetail, max: number): PairDetail =>
  p.containers.length <= max
    ? p
    : {
        ...p,
        containers: p.containers.slice(0, max),
        containersOmitted: p.containers.length - max,
      };

export interface ContainerInfo {
  readonly node: string;
  readonly id: number;
  readonly name: string | null;
  readonly state: string;
  /** vecaps (running), suspended (stopped: cpt CPT_TEST_CAPS), locked. */
  readonly check: "vecaps" | "suspended" | "locked";
  readonly flags: number;
  readonly destinations: number;
  /** Accepting nodes (node detail only). */
  readonly accepting?: string[];
  /** Kernel messages computing its flags printed (external process ...). */
  readonly messages: readonly string[];
}

export type CellCounts = Partial<Record<VerdictName, number>>;

export interface ClassCell {
  readonly row: number;
  readonly column: number;
  /** An example pair with a refusal in this cell and its refused containers. */
  readonly example: PairDetail | null;
}

export interface MatrixDoc {
  readonly schemaVersion: number;
  readonly kind: "matrix";
  readonly fleet: FleetInfo;
  readonly verdicts: { readonly name: VerdictName; readonly meaning: string }[];
  readonly detail: "node" | "class";
  readonly nodes: NodeInfo[];
  readonly classes: ClassInfo[];
  /** detail "node": verdict[i][j] for nodes[i] -> nodes[j], go[i][j] running CTs that can go. */
  readonly matrix?: { verdict: VerdictName[][]; go: number[][] };
  /** detail "class": node-pair counts per (source class, destination class) and verdict. */
  readonly classMatrix?: { cells: CellCounts[][]; examples: ClassCell[] };
  /** detail "node": every pair that is not "all"/"self"/"empty", with reasons. */
  readonly pairs?: PairDetail[];
  readonly containers: ContainerInfo[];
  /** Running containers by number of destinations. */
  readonly reach: { running: number; reachable: number; stranded: number };
  readonly notes: string[];
}

const cpuName = (n: NodeFact): string =>
  typeof n.spec.cpu === "string"
    ? n.spec.cpu
    : `${n.spec.cpu.vendor} family ${n.spec.cpu.family} model ${n.spec.cpu.model}`;

export function fleetInfo(facts: FleetFacts): FleetInfo {
  const c = { total: facts.containers.length, running: 0, stopped: 0, locked: 0 };
  for (const x of facts.containers) c[x.ct.state]++;
  return { name: facts.name, nodes: facts.nodes.length, containers: c };
}

export function nodeInfos(a: Analysis): NodeInfo[] {
  return a.facts.nodes.map((n) => {
    const s = { running: 0, stopped: 0, locked: 0 };
    for (const ci of a.facts.byNode[n.index] as readonly number[]) {
      const c = a.facts.containers[ci];
      if (c) s[c.ct.state]++;
    }
    return {
      name: n.name,
      kernel: n.model.profile.id,
      cpu: cpuName(n),
      flags: n.model.flags,
      flagNames: describeFlags(n.model.flags, n.model.profile).map((f) => f.name),
      version: n.version,
      caps: n.caps,
      ...s,
      class: a.nodeDst[n.index] as number,
    };
  });
}

export function classInfos(a: Analysis): ClassInfo[] {
  return a.dst.map((c) => ({
    id: c.id,
    kernel: c.profile.id,
    caps: c.caps,
    vzrst: c.rst,
    nodes: c.nodes.length,
    examples: c.nodes.slice(0, 5).map((n) => (a.facts.nodes[n] as NodeFact).name),
  }));
}

const checkOf = (state: string): ContainerInfo["check"] =>
  state === "running" ? "vecaps" : state === "stopped" ? "suspended" : "locked";

/** The refused containers of src moving to dst, with reasons. */
export function pairDetail(a: Analysis, r: ClassReasons, src: number, dst: number): PairDetail {
  const facts = a.facts;
  const containers: ContainerRefusal[] = [];
  let running = 0;
  for (const ci of facts.byNode[src] as readonly number[]) {
    const c = facts.containers[ci];
    if (!c) continue;
    if (c.ct.state === "running") running++;
    const o = r.containerOutcome(ci, dst);
    if (o.go) continue;
    containers.push({
      id: c.ct.id,
      name: c.ct.name ?? null,
      state: c.ct.state,
      code: o.code,
      check: o.check,
      vecapsResult: o.vecapsResult,
      reasons: o.reasons,
    });
  }
  return {
    source: (facts.nodes[src] as NodeFact).name,
    destination: (facts.nodes[dst] as NodeFact).name,
    verdict: VERDICT_NAMES[nodeVerdict(a, src, dst)] as VerdictName,
    running,
    go: nodeGoCount(a, src, dst),
    nodeReason: nodeReason(facts.nodes[src] as NodeFact, facts.nodes[dst] as NodeFact),
    containers,
  };
}

export function containerInfos(
  a: Analysis,
  withAccepting: boolean,
  only?: number,
): ContainerInfo[] {
  const out: ContainerInfo[] = [];
  for (const c of a.facts.containers) {
    if (only !== undefined && c.node !== only) continue;
    const node = (a.facts.nodes[c.node] as NodeFact).name;
    out.push({
      node,
      id: c.ct.id,
      name: c.ct.name ?? null,
      state: c.ct.state,
      check: checkOf(c.ct.state),
      flags: c.flags,
      destinations: a.destinations[c.index] as number,
      ...(withAccepting
        ? { accepting: acceptingNodes(a, c.index).map((n) => (a.facts.nodes[n] as NodeFact).name) }
        : {}),
      messages: c.messages,
    });
  }
  return out;
}

function reachOf(a: Analysis): MatrixDoc["reach"] {
  let running = 0;
  let reachable = 0;
  for (const c of a.facts.containers) {
    if (c.ct.state !== "running") continue;
    running++;
    if ((a.destinations[c.index] as number) > 0) reachable++;
  }
  return { running, reachable, stranded: running - reachable };
}

/** Node-pair verdict counts per (source class, destination class), self pairs left out. */
export function classCells(a: Analysis): CellCounts[][] {
  const D = a.dst.length;
  const cells: CellCounts[][] = a.dst.map(() => a.dst.map(() => ({})));
  // How many nodes of row class s are in node class r.
  const sr = new Map<string, number>();
  for (const n of a.facts.nodes) {
    const key = `${a.nodeRow[n.index]}|${a.nodeDst[n.index]}`;
    sr.set(key, (sr.get(key) ?? 0) + 1);
  }
  for (const [key, cnt] of sr) {
    const [s, r] = key.split("|").map(Number) as [number, number];
    const row = cells[r] as CellCounts[];
    for (let d = 0; d < D; d++) {
      const pairs = cnt * (a.dst[d] as { nodes: number[] }).nodes.length - (r === d ? cnt : 0);
      if (pairs === 0) continue;
      const v = VERDICT_NAMES[a.verdict[s * D + d] as number] as VerdictName;
      const cell = row[d] as CellCounts;
      cell[v] = (cell[v] ?? 0) + pairs;
    }
  }
  return cells;
}

export interface MatrixOptions {
  /** Per-node detail (default: when the fleet has at most `nodeLimit` nodes). */
  readonly detail?: "node" | "class";
  readonly nodeLimit?: number;
}

export const DEFAULT_NODE_LIMIT = 150;

export function matrixDoc(a: Analysis, opts: MatrixOptions = {}): MatrixDoc {
  const N = a.facts.nodes.length;
  const detail = opts.detail ?? (N <= (opts.nodeLimit ?? DEFAULT_NODE_LIMIT) ? "node" : "class");
  const r = classReasons(a);
  const notes = [
    "Only running containers count in node verdicts. Stopped containers are checked as vzmigrate checks a suspended one (cpt CPT_TEST_CAPS of the source node's flags); locked ones are refused (CPT_TEST_VECAPS answers EBUSY).",
    "The CPU check runs on the source kernel: its generation decides the check list and result codes against the flags the destination reports.",
  ];
  const base = {
    schemaVersion: SCHEMA_VERSION,
    kind: "matrix" as const,
    fleet: fleetInfo(a.facts),
    verdicts: VERDICT_NAMES.map((name) => ({ name, meaning: VERDICT_MEANINGS[name] })),
    detail,
    nodes: nodeInfos(a),
    classes: classInfos(a),
    reach: reachOf(a),
    notes,
  };
  if (detail === "node") {
    const verdict: VerdictName[][] = [];
    const go: number[][] = [];
    const pairs: PairDetail[] = [];
    for (let i = 0; i < N; i++) {
      const vr: VerdictName[] = [];
      const gr: number[] = [];
      for (let j = 0; j < N; j++) {
        const v = nodeVerdict(a, i, j);
        vr.push(VERDICT_NAMES[v] as VerdictName);
        gr.push(i === j ? 0 : nodeGoCount(a, i, j));
        if (i !== j && !passes(v)) pairs.push(pairDetail(a, r, i, j));
      }
      verdict.push(vr);
      go.push(gr);
    }
    return { ...base, matrix: { verdict, go }, pairs, containers: containerInfos(a, true) };
  }
  // Class detail: one example pair per cell that refuses something.
  const cells = classCells(a);
  const examples: ClassCell[] = [];
  const D = a.dst.length;
  const firstOfKind = new Map<string, number>(); // "s|r" -> a node
  for (const n of a.facts.nodes) {
    const key = `${a.nodeRow[n.index]}|${a.nodeDst[n.index]}`;
    if (!firstOfKind.has(key)) firstOfKind.set(key, n.index);
  }
  const seen = new Set<number>();
  for (const [key, node] of firstOfKind) {
    const [s, kind] = key.split("|").map(Number) as [number, number];
    for (let d = 0; d < D; d++) {
      const cellKey = kind * D + d;
      if (seen.has(cellKey) || passes(a.verdict[s * D + d] as number)) continue;
      const dstNode = (a.dst[d] as { nodes: number[] }).nodes.find((x) => x !== node);
      if (dstNode === undefined) continue;
      seen.add(cellKey);
      examples.push({
        row: kind,
        column: d,
        example: truncatePair(pairDetail(a, r, node, dstNode), 3),
      });
    }
  }
  examples.sort((x, y) => x.row - y.row || x.column - y.column);
  return { ...base, classMatrix: { cells, examples }, containers: containerInfos(a, false) };
}

/** `--node X`: X's row and column in full, and its containers' destinations. */
export interface NodeDoc {
  readonly schemaVersion: number;
  readonly kind: "node";
  readonly fleet: FleetInfo;
  readonly node: NodeInfo;
  /** X as the source, to every other node. */
  readonly outgoing: PairDetail[];
  /** Every other node as the source, to X. */
  readonly incoming: { source: string; verdict: VerdictName; running: number; go: number }[];
  readonly containers: (ContainerInfo & { refusedBy: { node: string; text: string }[] })[];
}

export function nodeDoc(a: Analysis, index: number): NodeDoc {
  const r = classReasons(a);
  const N = a.facts.nodes.length;
  const outgoing: PairDetail[] = [];
  const incoming: NodeDoc["incoming"] = [];
  for (let j = 0; j < N; j++) {
    if (j === index) continue;
    outgoing.push(pairDetail(a, r, index, j));
    let running = 0;
    for (const ci of a.facts.byNode[j] as readonly number[])
      if (a.facts.containers[ci]?.ct.state === "running") running++;
    incoming.push({
      source: (a.facts.nodes[j] as NodeFact).name,
      verdict: VERDICT_NAMES[nodeVerdict(a, j, index)] as VerdictName,
      running,
      go: nodeGoCount(a, j, index),
    });
  }
  const containers = containerInfos(a, true, index).map((c, i) => {
    const ci = (a.facts.byNode[index] as readonly number[])[i] as number;
    const refusedBy: { node: string; text: string }[] = [];
    for (let j = 0; j < N; j++) {
      if (j === index) continue;
      const o = r.containerOutcome(ci, j);
      if (!o.go)
        refusedBy.push({
          node: (a.facts.nodes[j] as NodeFact).name,
          text: o.reasons.map((x) => x.text).join("; "),
        });
    }
    return { ...c, refusedBy };
  });
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: "node",
    fleet: fleetInfo(a.facts),
    node: nodeInfos(a)[index] as NodeInfo,
    outgoing,
    incoming,
    containers,
  };
}

// ---- islands ----

export interface IslandInfo {
  readonly id: number;
  readonly size: number;
  readonly nodes: string[];
  /** Reach group: islands of one group reach each other through third nodes. */
  readonly group: number;
  readonly split: boolean;
  readonly kernels: Record<string, number>;
  readonly cpus: Record<string, number>;
}

export interface IslandsDoc {
  readonly schemaVersion: number;
  readonly kind: "islands";
  readonly fleet: FleetInfo;
  readonly islands: IslandInfo[];
  readonly groups: number;
  /** Islands of one node (nothing can come back to it, or it cannot send all). */
  readonly lone: number;
  readonly edges: {
    from: number;
    to: number;
    pairs: number;
    of: number;
    back: number;
    oneWay: boolean;
  }[];
  readonly edgeCount: number;
  readonly edgesComplete: boolean;
}

const tally = (xs: readonly string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
};

export function islandsDoc(a: Analysis, m: IslandMap): IslandsDoc {
  const nodes = a.facts.nodes;
  // Largest first; ids renumbered in that order.
  const order = [...m.islands].sort(
    (x, y) => y.nodes.length - x.nodes.length || (x.nodes[0] as number) - (y.nodes[0] as number),
  );
  const renum = new Map(order.map((isl, i) => [isl.id, i]));
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: "islands",
    fleet: fleetInfo(a.facts),
    islands: order.map((isl, i) => ({
      id: i,
      size: isl.nodes.length,
      nodes: isl.nodes.map((n) => (nodes[n] as NodeFact).name),
      group: isl.group,
      split: isl.split,
      kernels: tally(isl.nodes.map((n) => (nodes[n] as NodeFact).model.profile.id)),
      cpus: tally(isl.nodes.map((n) => cpuName(nodes[n] as NodeFact))),
    })),
    groups: m.groups,
    lone: m.islands.filter((i) => i.nodes.length === 1).length,
    edges: m.edges
      .map((e) => ({
        from: renum.get(e.from) as number,
        to: renum.get(e.to) as number,
        pairs: e.pairs,
        of: e.of,
        back: e.back,
        oneWay: e.back === 0,
      }))
      .sort((x, y) => Number(y.oneWay) - Number(x.oneWay) || x.from - y.from || x.to - y.to),
    edgeCount: m.edgeCount,
    edgesComplete: m.edgesComplete,
  };
}

// ---- baseline, what-if, upgrade-plan ----

export interface BaselineDoc extends Baseline {
  readonly schemaVersion: number;
  readonly kind: "baseline";
  readonly fleet: FleetInfo;
  readonly optimised: Optimised | null;
}

export const baselineDoc = (facts: FleetFacts, b: Baseline, o: Optimised | null): BaselineDoc => ({
  schemaVersion: SCHEMA_VERSION,
  kind: "baseline",
  fleet: fleetInfo(facts),
  ...b,
  optimised: o,
});

export interface WhatIfDoc extends FleetDiff {
  readonly schemaVersion: number;
  readonly kind: "what-if";
  readonly fleet: FleetInfo;
  readonly after: FleetInfo;
  readonly changes: (Change & { text: string })[];
}

export const whatIfDoc = (
  before: FleetFacts,
  after: FleetFacts,
  changes: readonly Change[],
  d: FleetDiff,
): WhatIfDoc => ({
  schemaVersion: SCHEMA_VERSION,
  kind: "what-if",
  fleet: fleetInfo(before),
  after: fleetInfo(after),
  changes: changes.map((c) => ({ ...c, text: describeChange(c) })),
  ...d,
});

export interface UpgradeDoc extends UpgradePlan {
  readonly schemaVersion: number;
  readonly kind: "upgrade-plan";
  readonly fleet: FleetInfo;
}

export const upgradeDoc = (facts: FleetFacts, p: UpgradePlan): UpgradeDoc => ({
  schemaVersion: SCHEMA_VERSION,
  kind: "upgrade-plan",
  fleet: fleetInfo(facts),
  ...p,
});
