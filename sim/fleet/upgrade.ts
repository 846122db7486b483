// upgrade-plan: an order of kernel upgrades, one node at a time, in which no
// running container is ever stranded. A step upgrades node X: its running
// containers are first live-migrated away (so each needs a destination in the
// fleet as it is), X reboots into the target kernel, and they come back. The
// invariant checked after every step: every running container that had a
// destination at the start still has at least one (containers that had none
// at the start are reported apart; their node's step needs downtime for them).
// Every complete plan ends in the same state (all nodes on the target), so a
// container stranded there is stranded by the target itself, whatever the
// order: those are reported with their reasons (no complete plan exists) and
// the order is searched for everything else. The state after a set of
// upgrades does not depend on their order, so the search is a depth-first
// search over sets with a memo of dead ends, trying nodes with the fewest
// running containers first, within a budget.

import { GENERATIONS } from "../../src/cpt/generations.ts";
import { type KernelProfile, type ProfileSet, profileById } from "../kernel/profiles.ts";
import type { FleetSpec } from "../types.ts";
import { type Analysis, analyse } from "./engine.ts";
import { buildFacts } from "./facts.ts";
import { pairOutcome } from "./pair.ts";

export interface UpgradeStep {
  readonly node: string;
  readonly from: string;
  readonly to: string;
  /** Running containers moved off the node for the upgrade. */
  readonly evacuate: number;
  /** Containers on the node that had no destination before the plan began. */
  readonly downtime: number[];
  /** The fewest destinations any running container has after this step. */
  readonly minDestinations: number;
}

export interface Stranding {
  readonly node: string;
  readonly id: number;
  /** Why every other node refuses it ("missing rdrand (4 nodes); ..."). */
  readonly why: string;
}

/** Two nodes each of whose upgrade strands a container of the other, whichever goes first. */
export interface Deadlock {
  readonly nodes: readonly [string, string];
  readonly first: Stranding;
  readonly second: Stranding;
}

export interface Blocked {
  /** Nodes upgraded when no further step was possible. */
  readonly upgraded: string[];
  /** For each node left, what upgrading it next would strand. */
  readonly candidates: { readonly node: string; readonly strands: Stranding }[];
}

export interface UpgradePlan {
  readonly target: string;
  /** An order keeping every running container movable exists (and is in steps). */
  readonly feasible: boolean;
  /** The order found; when only the target strands containers, it covers everything else. */
  readonly steps: UpgradeStep[];
  /** Running containers with a destination now and none once every node runs the target. */
  readonly strandedByTarget: Stranding[];
  /** Nodes already at the target (or newer), left alone. */
  readonly skipped: { readonly node: string; readonly kernel: string }[];
  /** Running containers with no destination before any upgrade. */
  readonly strandedAtStart: { readonly node: string; readonly id: number }[];
  /** Where the search got stuck (the deepest dead end), when infeasible. */
  readonly blocked: Blocked | null;
  /**
   * Two nodes that must be upgraded together (checked with only one of them
   * upgraded and with every other node upgraded); the search stops there.
   */
  readonly deadlock: Deadlock | null;
  readonly explored: number;
  readonly budgetExhausted: boolean;
}

/** Position of a profile in the generation order (custom profiles: their base's). */
export function generationRank(p: KernelProfile): number {
  const i = GENERATIONS.findIndex((g) => g.id === p.base);
  return i < 0 ? GENERATIONS.length : i;
}

type Key = string; // "node/ctid"

interface State {
  readonly analysis: Analysis;
  readonly dest: Map<Key, number>;
}

export interface PlanOptions {
  readonly profiles?: ProfileSet;
  /** Most fleet states to evaluate before giving up (default 5000). */
  readonly budget?: number;
  readonly progress?: (fraction: number, what: string) => void;
}

function evaluate(fleet: FleetSpec, profiles: ProfileSet | undefined): State {
  const analysis = analyse(buildFacts(fleet, profiles));
  const dest = new Map<Key, number>();
  for (const c of analysis.facts.containers) {
    if (c.ct.state !== "running") continue;
    const node = (analysis.facts.nodes[c.node] as { name: string }).name;
    dest.set(`${node}/${c.ct.id}`, analysis.destinations[c.index] as number);
  }
  return { analysis, dest };
}

/** Reasons every other node gives for refusing container `ci`, grouped and counted. */
export function refusalSummary(a: Analysis, ci: number): string {
  const c = a.facts.containers[ci];
  if (!c) return "";
  const src = a.facts.nodes[c.node] as Analysis["facts"]["nodes"][number];
  const counts = new Map<string, number>();
  for (const dst of a.facts.nodes) {
    if (dst.index === src.index) continue;
    const o = pairOutcome(src, c, dst);
    if (o.go) continue;
    const text = o.reasons.map((r) => r.text).join(" + ") || "refused";
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  if (counts.size === 0) return "no other node in the fleet";
  return [...counts.entries()]
    .sort((x, y) => y[1] - x[1])
    .map(([t, n]) => `${t} (${n} node${n > 1 ? "s" : ""})`)
    .join("; ");
}

export function planUpgrades(
  fleet: FleetSpec,
  target: string,
  opts: PlanOptions = {},
): UpgradePlan {
  const profiles = opts.profiles;
  const targetProfile = profileById(target, profiles);
  if (!targetProfile) throw new Error(`unknown kernel "${target}"`);
  const rank = generationRank(targetProfile);
  const budget = opts.budget ?? 5000;
  const progress = opts.progress ?? (() => {});

  const skipped: { node: string; kernel: string }[] = [];
  const todo: string[] = [];
  for (const n of fleet.nodes) {
    const p = profileById(n.kernel, profiles);
    if (!p) throw new Error(`node ${n.name}: unknown kernel "${n.kernel}"`);
    if (n.kernel === target || generationRank(p) >= rank)
      skipped.push({ node: n.name, kernel: n.kernel });
    else todo.push(n.name);
  }
  const running = new Map(
    fleet.nodes.map((n) => [n.name, n.containers.filter((c) => c.state === "running").length]),
  );
  todo.sort((x, y) => (running.get(x) ?? 0) - (running.get(y) ?? 0) || x.localeCompare(y));

  const start = evaluate(fleet, profiles);
  const watched = new Set<Key>();
  const strandedAtStart: { node: string; id: number }[] = [];
  for (const [k, d] of start.dest) {
    if (d > 0) watched.add(k);
    else {
      const [node, id] = k.split("/") as [string, string];
      strandedAtStart.push({ node, id: Number(id) });
    }
  }

  const withUpgrades = (set: ReadonlySet<string>): FleetSpec => ({
    ...fleet,
    nodes: fleet.nodes.map((n) => (set.has(n.name) ? { ...n, kernel: target } : n)),
  });
  // The end state: what it strands, no order can save.
  const strandedByTarget: Stranding[] = [];
  if (todo.length > 0) {
    const end = evaluate(withUpgrades(new Set(todo)), profiles);
    for (const c of end.analysis.facts.containers) {
      if (c.ct.state !== "running") continue;
      const node = (end.analysis.facts.nodes[c.node] as { name: string }).name;
      const k = `${node}/${c.ct.id}`;
      if (watched.has(k) && (end.dest.get(k) ?? 0) === 0) {
        strandedByTarget.push({ node, id: c.ct.id, why: refusalSummary(end.analysis, c.index) });
        watched.delete(k);
      }
    }
  }
  /** Watched containers without a destination (reasons computed on demand). */
  const stranded = (s: State): { node: string; id: number; why: () => string }[] => {
    const out: { node: string; id: number; why: () => string }[] = [];
    for (const c of s.analysis.facts.containers) {
      if (c.ct.state !== "running") continue;
      const node = (s.analysis.facts.nodes[c.node] as { name: string }).name;
      const k = `${node}/${c.ct.id}`;
      if (watched.has(k) && (s.dest.get(k) ?? 0) === 0) {
        out.push({ node, id: c.ct.id, why: () => refusalSummary(s.analysis, c.index) });
      }
    }
    return out;
  };
  /** The first (preferably on node `on`) watched container without a destination, or null. */
  const violation = (s: State, on?: string): Stranding | null => {
    const lost = stranded(s);
    const v = lost.find((x) => x.node === on) ?? lost[0];
    return v ? { node: v.node, id: v.id, why: v.why() } : null;
  };
  const minDest = (s: State): number => {
    let m = Number.POSITIVE_INFINITY;
    for (const [k, d] of s.dest) if (watched.has(k) && d < m) m = d;
    return Number.isFinite(m) ? m : 0;
  };

  let explored = 0;
  let exhausted = false;
  let deadlock: Deadlock | null = null;
  const startSet = new Set<string>();
  const all = new Set(todo);
  /**
   * Does upgrading x while y is not yet upgraded strand a container of y, at
   * both extremes (only x upgraded; everything but y upgraded)?
   */
  const cannotPrecede = (x: string, y: string): Stranding | null => {
    explored += 2;
    const alone = violation(evaluate(withUpgrades(new Set(startSet).add(x)), profiles), y);
    if (!alone || alone.node !== y) return null;
    const rest = new Set(all);
    rest.delete(y);
    return stranded(evaluate(withUpgrades(rest), profiles)).some((c) => c.node === y)
      ? alone
      : null;
  };
  /** Among stuck candidates, a pair stranding each other's containers, verified. */
  const findDeadlock = (
    stuck: readonly { node: string; on: ReadonlySet<string> }[],
  ): Deadlock | null => {
    for (const a of stuck) {
      for (const b of stuck) {
        if (a.node >= b.node || !a.on.has(b.node) || !b.on.has(a.node)) continue;
        const ab = cannotPrecede(a.node, b.node);
        const ba = ab && cannotPrecede(b.node, a.node);
        if (ab && ba) return { nodes: [a.node, b.node], first: ab, second: ba };
      }
    }
    return null;
  };
  const dead = new Set<string>();
  const path: UpgradeStep[] = [];
  let deepest: Blocked | null = null;
  const kernelOf = new Map(fleet.nodes.map((n) => [n.name, n.kernel]));

  const search = (done: Set<string>): boolean => {
    if (done.size === todo.length) return true;
    const key = [...done].sort().join("\n");
    if (dead.has(key)) return false;
    const stuck: { node: string; strands: Stranding }[] = [];
    const strandsOn: { node: string; on: ReadonlySet<string> }[] = [];
    for (const x of todo) {
      if (done.has(x)) continue;
      if (explored >= budget) {
        exhausted = true;
        return false;
      }
      explored++;
      progress(done.size / todo.length, `step ${done.size + 1} of ${todo.length}`);
      const next = new Set(done).add(x);
      const s = evaluate(withUpgrades(next), profiles);
      const lost = stranded(s);
      if (lost.length > 0) {
        const v = lost[0] as (typeof lost)[number];
        stuck.push({ node: x, strands: { node: v.node, id: v.id, why: v.why() } });
        strandsOn.push({ node: x, on: new Set(lost.map((c) => c.node)) });
        continue;
      }
      const strandedHere = strandedAtStart.filter((c) => c.node === x).map((c) => c.id);
      path.push({
        node: x,
        from: kernelOf.get(x) as string,
        to: target,
        evacuate: running.get(x) ?? 0,
        downtime: strandedHere,
        minDestinations: minDest(s),
      });
      if (search(next)) return true;
      path.pop();
      if (exhausted || deadlock) return false;
    }
    if (stuck.length > 0 && (!deepest || done.size >= deepest.upgraded.length)) {
      deepest = { upgraded: [...done].sort(), candidates: stuck };
    }
    if (stuck.length > 0 && deadlock === null) {
      deadlock = findDeadlock(strandsOn);
      if (deadlock) {
        exhausted = false;
        return false;
      }
    }
    dead.add(key);
    return false;
  };

  const ordered = search(new Set());
  return {
    target,
    feasible: ordered && strandedByTarget.length === 0,
    steps: ordered ? [...path] : [],
    strandedByTarget,
    skipped,
    strandedAtStart,
    blocked: ordered ? null : deepest,
    deadlock,
    explored,
    budgetExhausted: exhausted,
  };
}
