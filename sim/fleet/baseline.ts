// Baseline: the CPU features every node has, as the CPT checks see them (the
// CPU bits of the node flags), and the CPUID mask that brings every node down
// to them (libvirt's cpu-baseline / VMware EVC for OpenVZ). Only features a
// CPUID mask can hide are masked (the instruction-set and FPU-state bits);
// what is left different is reported with its cause: a kernel that reads raw
// CPUID (042stab061-107.x ignore the mask), the CPU vendor's system-call bits
// (sysenter/sep32 on Intel, syscall32 on AMD), the kernel line's bits.
// The optimiser looks for the mask that keeps the most features while at
// least K% of running containers can still reach another node.

import { BIT_BY_NAME, BIT_BY_NUMBER } from "../../src/cpt/bits.ts";
import { CPU_FOLLOWING_BITS } from "../../src/cpt/nodeflags.ts";
import { combineMasks, maskFromFeatures } from "../cpu/mask.ts";
import { BUILTIN_PROFILES, type ProfileSet } from "../kernel/profiles.ts";
import type { CpuidMask, FleetSpec } from "../types.ts";
import { type Analysis, analyse, reach } from "./engine.ts";
import { buildFacts, type FleetFacts } from "./facts.ts";
import { findIslands } from "./islands.ts";

/** CPT bit <- the CPUID feature a mask hides to clear it. */
export const MASKABLE = CPU_FOLLOWING_BITS;
const FEATURE_OF_BIT = new Map(
  MASKABLE.map(([b, f]) => [(BIT_BY_NAME.get(b) as { bit: number }).bit, f]),
);

/** Every bit any generation's CPU check list tests. */
export const CPU_CHECK_BITS: number = BUILTIN_PROFILES.reduce(
  (m, p) => p.vecapsChecks.reduce((x, e) => (x | (1 << e.bit)) >>> 0, m),
  0,
);

const names = (word: number): string[] => {
  const out: string[] = [];
  for (let b = 0; b < 32; b++)
    if ((word >>> b) & 1) out.push(BIT_BY_NUMBER.get(b)?.name ?? `bit${b}`);
  return out;
};

/** The fleet with `hide` masked on every node (on top of each node's own mask). */
export function maskFleet(fleet: FleetSpec, hide: readonly string[]): FleetSpec {
  if (hide.length === 0) return fleet;
  const m = maskFromFeatures(hide);
  return {
    ...fleet,
    nodes: fleet.nodes.map((n) => ({ ...n, cpuidMask: combineMasks(n.cpuidMask, m) })),
  };
}

const cpuBits = (facts: FleetFacts, i: number): number =>
  ((facts.nodes[i] as { model: { flags: number } }).model.flags & CPU_CHECK_BITS) >>> 0;

/** AND of every node's CPU bits. */
const commonBits = (facts: FleetFacts): number =>
  facts.nodes.reduce((m, n) => (m & cpuBits(facts, n.index)) >>> 0, 0xffffffff);

export interface NodeBaseline {
  readonly name: string;
  readonly kernel: string;
  /** The node's kernel applies CPUID masks to its CPT flags. */
  readonly honoursMask: boolean;
  /** CPT CPU features the node has now and loses under the mask. */
  readonly loses: string[];
  /** CPU bits it still has beyond the common set under the mask, and why. */
  readonly residual: string[];
  readonly residualWhy: string | null;
}

export interface Summary {
  readonly running: number;
  readonly reachable: number;
  readonly islands: number;
  /** Ordered node pairs where every running container can go. */
  readonly fullPairs: number;
}

export interface Baseline {
  /** CPU features (CPT names) every node reports today. */
  readonly commonNow: string[];
  /** The same under the mask. */
  readonly common: string[];
  /** cpuinfo names the mask hides. */
  readonly hide: string[];
  readonly mask: CpuidMask;
  readonly nodes: NodeBaseline[];
  readonly before: Summary;
  readonly after: Summary;
}

export function summarise(a: Analysis): Summary {
  const r = reach(a);
  let fullPairs = 0;
  const D = a.dst.length;
  for (const row of a.rows) {
    for (let d = 0; d < D; d++) {
      const v = a.verdict[row.id * D + d] as number;
      if (v !== 1 && v !== 6) continue;
      const dn = (a.dst[d] as { nodes: number[] }).nodes.length;
      // Self pairs: nodes of this row that are also in class d.
      let self = 0;
      for (const n of row.nodes) if (a.nodeDst[n] === d) self++;
      fullPairs += row.nodes.length * dn - self;
    }
  }
  return { ...r, islands: findIslands(a, { maxEdges: 0 }).islands.length, fullPairs };
}

function residualWhy(facts: FleetFacts, i: number, extra: number): string | null {
  if (extra === 0) return null;
  const m = (facts.nodes[i] as FleetFacts["nodes"][number]).model;
  const why: string[] = [];
  const maskable = [...FEATURE_OF_BIT.keys()].reduce((x, b) => (x | (1 << b)) >>> 0, 0);
  if ((extra & maskable) !== 0 && m.profile.flagSource === "raw-cpuid") {
    why.push(
      `${m.profile.id} reads raw CPUID, so the mask does not reach its CPT flags (042stab108+ honour it)`,
    );
  }
  if ((extra & ~maskable) !== 0) {
    why.push(
      "system-call/ABI bits follow the CPU vendor and kernel line; no CPUID mask hides them",
    );
  }
  return why.join("; ");
}

export function computeBaseline(fleet: FleetSpec, profiles?: ProfileSet): Baseline {
  const facts0 = buildFacts(fleet, profiles);
  // Hide the maskable features that are not common, until nothing changes
  // (hiding one feature never adds a bit, so this ends).
  let hide = new Set<string>();
  let facts = facts0;
  for (;;) {
    const common = commonBits(facts);
    const next = new Set(hide);
    for (const n of facts.nodes) {
      const extra = (cpuBits(facts, n.index) & ~common) >>> 0;
      for (let b = 0; b < 32; b++) {
        const f = FEATURE_OF_BIT.get(b);
        if ((extra >>> b) & 1 && f) next.add(f);
      }
    }
    if (next.size === hide.size) break;
    hide = next;
    facts = buildFacts(maskFleet(fleet, [...hide]), profiles);
  }
  const hidden = MASKABLE.map(([, f]) => f).filter((f) => hide.has(f));
  const common = commonBits(facts);
  const nodes = facts0.nodes.map((n): NodeBaseline => {
    const was = cpuBits(facts0, n.index);
    const now = cpuBits(facts, n.index);
    const extra = (now & ~common) >>> 0;
    return {
      name: n.name,
      kernel: n.model.profile.id,
      honoursMask: n.model.profile.flagSource !== "raw-cpuid",
      loses: names((was & ~now) >>> 0),
      residual: names(extra),
      residualWhy: residualWhy(facts, n.index, extra),
    };
  });
  return {
    commonNow: names(commonBits(facts0)),
    common: names(common),
    hide: hidden,
    mask: maskFromFeatures(hidden),
    nodes,
    before: summarise(analyse(facts0)),
    after: summarise(analyse(facts)),
  };
}

// ---- the optimiser ----

export interface OptimiseStep {
  /** The feature kept (no longer hidden) at this step. */
  readonly keep: string;
  readonly reachPercent: number;
}

export interface Optimised {
  readonly minReachPercent: number;
  /** Whether a mask meeting the target was found. */
  readonly met: boolean;
  /** cpuinfo names the chosen mask hides (a subset of the baseline's). */
  readonly hide: string[];
  readonly keep: string[];
  readonly mask: CpuidMask;
  readonly reachPercent: number;
  readonly running: number;
  readonly reachable: number;
  /** Reach with no fleet mask at all and with the full baseline mask. */
  readonly reachWithoutMask: number;
  readonly reachWithBaseline: number;
  readonly steps: OptimiseStep[];
  readonly evaluations: number;
}

const pct = (r: { running: number; reachable: number }): number =>
  r.running === 0 ? 100 : (100 * r.reachable) / r.running;

/**
 * Greedy, from the baseline mask (the features every node has). Reach is not
 * monotone in what is hidden (masking a destination can strand containers of
 * kernels that ignore masks), so: first, while below the target, un-hide the
 * feature that raises reach most; then, while the target holds, un-hide the
 * feature whose return costs the least reach (ties: the one more nodes have).
 * A heuristic; it never reports a mask below the target as meeting it.
 */
export function optimiseMask(
  fleet: FleetSpec,
  minReachPercent: number,
  baseline: Baseline,
  profiles?: ProfileSet,
): Optimised {
  type Reach = { running: number; reachable: number };
  let evaluations = 0;
  const evaluate = (hide: readonly string[]): Reach => {
    evaluations++;
    return reach(analyse(buildFacts(maskFleet(fleet, hide), profiles)));
  };
  const none = evaluate([]);
  const full = evaluate(baseline.hide);
  const result = (hide: string[], r: Reach, met: boolean, steps: OptimiseStep[]): Optimised => ({
    minReachPercent,
    met,
    hide,
    keep: baseline.hide.filter((f) => !hide.includes(f)),
    mask: maskFromFeatures(hide),
    reachPercent: pct(r),
    running: r.running,
    reachable: r.reachable,
    reachWithoutMask: pct(none),
    reachWithBaseline: pct(full),
    steps,
    evaluations,
  });
  if (pct(none) >= minReachPercent) return result([], none, true, []);

  const owners = new Map<string, number>();
  const facts = buildFacts(fleet, profiles);
  for (const [bit, f] of MASKABLE) {
    const b = (BIT_BY_NAME.get(bit) as { bit: number }).bit;
    owners.set(f, facts.nodes.filter((n) => (n.model.flags >>> b) & 1).length);
  }
  /** The best feature to un-hide among those keeping `ok`, by reach then owners. */
  const bestReturn = (hide: readonly string[], ok: (r: Reach) => boolean) => {
    let best: { f: string; r: Reach } | null = null;
    for (const f of hide) {
      const r = evaluate(hide.filter((x) => x !== f));
      if (!ok(r)) continue;
      const better =
        !best ||
        r.reachable > best.r.reachable ||
        (r.reachable === best.r.reachable && (owners.get(f) ?? 0) > (owners.get(best.f) ?? 0));
      if (better) best = { f, r };
    }
    return best;
  };

  let hide = [...baseline.hide];
  let current = full;
  const steps: OptimiseStep[] = [];
  const take = (b: { f: string; r: Reach }) => {
    hide = hide.filter((x) => x !== b.f);
    current = b.r;
    steps.push({ keep: b.f, reachPercent: pct(current) });
  };
  // Climb to the target.
  while (pct(current) < minReachPercent) {
    const from = current.reachable;
    const b = bestReturn(hide, (r) => r.reachable > from);
    if (!b) break;
    take(b);
  }
  if (pct(current) < minReachPercent) {
    return none.reachable > current.reachable
      ? result([], none, false, steps)
      : result(hide, current, false, steps);
  }
  // Keep as much as the target allows.
  for (;;) {
    const b = bestReturn(hide, (r) => pct(r) >= minReachPercent);
    if (!b) break;
    take(b);
  }
  return result(hide, current, true, steps);
}
