// The fleet matrix by equivalence classes. A destination's answer depends only
// on (kernel profile, the caps it reports, vzrst loaded); a container's check
// only on (its node's profile, image version, vzcpt loaded, and its flags, or
// the node's flags when stopped). So verdicts are computed once per
// (container class x destination class) with bit operations, and the node x
// node verdict once per (source row class x destination class), where a row
// class is a node's version/module facts plus the multiset of its running
// containers' classes. Nothing of size containers x nodes or nodes x nodes is
// ever allocated: per-node views are expanded on demand.

import { restoreAccepts } from "../kernel/checks.ts";
import type { KernelProfile } from "../kernel/profiles.ts";
import type { FleetFacts, NodeFact } from "./facts.ts";
import {
  GO,
  GO_NO_CAPS,
  GO_OLD_KERNEL,
  REFUSED_LOCKED,
  REFUSED_NO_CPT,
  REFUSED_NO_RST,
  REFUSED_SUSPENDED,
  REFUSED_VECAPS,
  REFUSED_VERSION,
} from "./pair.ts";

// ---- node-pair verdicts ----
export const SELF = 0;
/** Every running container of the source can go. */
export const ALL = 1;
export const SOME = 2;
export const NONE = 3;
/** The destination refuses the source's image version (so nothing can go). */
export const VERSION = 4;
/** vzcpt missing on the source or vzrst on the destination. */
export const MODULE = 5;
/** No running container on the source, and nothing node-wide refuses. */
export const EMPTY = 6;
export const VERDICT_NAMES = ["self", "all", "some", "none", "version", "module", "empty"] as const;
export type VerdictName = (typeof VERDICT_NAMES)[number];
/** Does this verdict make an edge of the "can take all its running containers" graph? */
export const passes = (v: number): boolean => v === ALL || v === EMPTY;

const SLM = 1 << 24;
const NAMESPACES = 1 << 17;
const NO_IPV6 = 1 << 28;

/** Per-profile masks, so a VECAPS verdict is a handful of AND/OR operations. */
interface FastProfile {
  readonly style042: boolean;
  readonly check: number;
  readonly cptCheck: number;
  readonly unsupported: number;
  readonly slmResult: number;
  readonly cptAnswers: boolean;
}

const fastCache = new WeakMap<KernelProfile, FastProfile>();
function fast(p: KernelProfile): FastProfile {
  let f = fastCache.get(p);
  if (!f) {
    const or = (list: KernelProfile["vecapsChecks"]) =>
      list.reduce((m, e) => (m | (1 << e.bit)) >>> 0, 0);
    f = {
      style042: p.vecapsStyle === "042",
      check: or(p.vecapsChecks),
      cptCheck: or(p.cptCapsChecks),
      unsupported: p.unsupportedMask >>> 0,
      slmResult: p.vecapsStyle === "042" ? 4 : (p.dstSlmResult ?? 0),
      cptAnswers: p.cptTestCaps === "check",
    };
    fastCache.set(p, f);
  }
  return f;
}

/** CPT_TEST_VECAPS's result by bit operations (equals checks.ts vecapsCheck().result). */
export function vecapsFast(p: KernelProfile, ct: number, dst: number): number {
  const f = fast(p);
  const cpu = (ct & ~dst & f.check) !== 0;
  const unsup = (ct & f.unsupported) !== 0;
  if (!f.style042) {
    if (unsup) return 2;
    if (f.slmResult !== 0 && dst & SLM) return f.slmResult;
    return cpu ? 1 : 0;
  }
  if (ct & NAMESPACES && !(dst & NAMESPACES)) return 5;
  if (dst & NO_IPV6 && !(ct & NO_IPV6)) return 3;
  if (unsup) return 2;
  if (dst & SLM) return 4;
  return cpu ? 1 : 0;
}

/** A destination class: what every check needs to know about the receiving node. */
export interface DstClass {
  readonly id: number;
  readonly profile: KernelProfile;
  readonly caps: number | null;
  readonly rst: boolean;
  /** Node indices in this class. */
  readonly nodes: number[];
}

/** A container class: what the source side of one check depends on. */
export interface CtClass {
  readonly id: number;
  readonly state: "running" | "stopped" | "locked";
  readonly profile: KernelProfile;
  readonly version: number | null;
  readonly cpt: boolean;
  /** Container flags (running) or the source node's flags (stopped). */
  readonly word: number;
  /** A container index of this class (to compute reasons with the model). */
  readonly example: number;
  count: number;
}

/** A source row class: nodes whose outgoing verdicts are identical. */
export interface RowClass {
  readonly id: number;
  readonly version: number | null;
  readonly cpt: boolean;
  /** Running container classes and how many of each. */
  readonly classes: Int32Array;
  readonly mult: Int32Array;
  readonly running: number;
  readonly nodes: number[];
}

export interface Analysis {
  readonly facts: FleetFacts;
  readonly dst: readonly DstClass[];
  readonly cts: readonly CtClass[];
  readonly rows: readonly RowClass[];
  /** node -> destination class, node -> row class, container -> container class. */
  readonly nodeDst: Int32Array;
  readonly nodeRow: Int32Array;
  readonly ctClass: Int32Array;
  /** Outcome code per (container class, destination class): codes[k * D + d]. */
  readonly codes: Uint8Array;
  /** Verdict per (row class, destination class). */
  readonly verdict: Uint8Array;
  /** Accepting destinations per container (its own node excluded). */
  readonly destinations: Int32Array;
}

/** The container-independent part of a check (version, caps, modules), by bit tests. */
function preFast(
  version: number | null,
  cpt: boolean,
  d: DstClass,
  accepts: (v: number, p: KernelProfile) => boolean,
): number {
  if (version !== null) {
    if (!d.rst) return REFUSED_NO_RST;
    if (!accepts(version, d.profile)) return REFUSED_VERSION;
  }
  if (d.caps === null) return GO_NO_CAPS;
  if (!cpt) return REFUSED_NO_CPT;
  return -1;
}

function codeFast(
  k: CtClass,
  d: DstClass,
  accepts: (v: number, p: KernelProfile) => boolean,
): number {
  const pre = preFast(k.version, k.cpt, d, accepts);
  if (pre >= 0) return pre;
  const caps = d.caps as number;
  if (k.state === "locked") return REFUSED_LOCKED;
  if (k.state === "stopped") {
    const f = fast(k.profile);
    if (!f.cptAnswers) return GO_OLD_KERNEL;
    return (k.word & ~caps & f.cptCheck) !== 0 ? REFUSED_SUSPENDED : GO;
  }
  const r = vecapsFast(k.profile, k.word, caps);
  return r > 0 ? REFUSED_VECAPS + r : GO;
}

/** restoreAccepts, memoised per (version, profile): few distinct pairs in any fleet. */
function acceptsMemo(): (v: number, p: KernelProfile) => boolean {
  const memo = new Map<KernelProfile, Map<number, boolean>>();
  return (v, p) => {
    let m = memo.get(p);
    if (!m) {
      m = new Map();
      memo.set(p, m);
    }
    let a = m.get(v);
    if (a === undefined) {
      a = restoreAccepts(p, v) !== 0;
      m.set(v, a);
    }
    return a;
  };
}

const dstKey = (n: NodeFact): string => `${n.model.profile.id}|${n.caps}|${n.model.modules.rst}`;

export interface AnalyseOptions {
  /** Called now and then with a fraction done (progress display). */
  readonly progress?: (fraction: number, what: string) => void;
}

/** Group, compute class verdicts, expand to counts. */
export function analyse(facts: FleetFacts, opts: AnalyseOptions = {}): Analysis {
  const N = facts.nodes.length;
  const progress = opts.progress ?? (() => {});

  // Destination classes.
  const dst: DstClass[] = [];
  const dstIds = new Map<string, number>();
  const nodeDst = new Int32Array(N);
  for (const n of facts.nodes) {
    const key = dstKey(n);
    let id = dstIds.get(key);
    if (id === undefined) {
      id = dst.length;
      dstIds.set(key, id);
      dst.push({ id, profile: n.model.profile, caps: n.caps, rst: n.model.modules.rst, nodes: [] });
    }
    (dst[id] as DstClass).nodes.push(n.index);
    nodeDst[n.index] = id;
  }
  const D = dst.length;

  // Container classes, keyed by a number: the node's source side (profile,
  // version, vzcpt) x 4 + state, then the 32-bit word. (String keys for
  // 200,000 containers cost more than the verdicts.)
  const sideIds = new Map<string, number>();
  const nodeSide = new Int32Array(N);
  for (const n of facts.nodes) {
    const key = `${n.model.profile.id}|${n.version}|${n.model.modules.cpt}`;
    let id = sideIds.get(key);
    if (id === undefined) {
      id = sideIds.size;
      sideIds.set(key, id);
    }
    nodeSide[n.index] = id;
  }
  const STATE = { running: 0, stopped: 1, locked: 2 } as const;
  const cts: CtClass[] = [];
  const ctIds = new Map<number, number>();
  const ctClass = new Int32Array(facts.containers.length);
  for (const c of facts.containers) {
    const n = facts.nodes[c.node] as NodeFact;
    const m = n.model;
    const state = c.ct.state;
    const word = state === "running" ? c.flags : state === "stopped" ? m.flags : 0;
    // Locked: only (version, vzcpt) matter, but the side is a finer key and harmless.
    const key = ((nodeSide[c.node] as number) * 4 + STATE[state]) * 4294967296 + (word >>> 0);
    let id = ctIds.get(key);
    if (id === undefined) {
      id = cts.length;
      ctIds.set(key, id);
      cts.push({
        id,
        state,
        profile: m.profile,
        version: n.version,
        cpt: m.modules.cpt,
        word,
        example: c.index,
        count: 0,
      });
    }
    (cts[id] as CtClass).count++;
    ctClass[c.index] = id;
  }
  const K = cts.length;
  progress(0.2, "classes");

  // Verdict per (container class, destination class).
  const accepts = acceptsMemo();
  const codes = new Uint8Array(K * D);
  for (let k = 0; k < K; k++) {
    const kc = cts[k] as CtClass;
    for (let d = 0; d < D; d++) codes[k * D + d] = codeFast(kc, dst[d] as DstClass, accepts);
  }
  progress(0.5, "verdicts");

  // Row classes: (version, vzcpt, multiset of running container classes).
  const rows: RowClass[] = [];
  const rowIds = new Map<string, number>();
  const nodeRow = new Int32Array(N);
  const ks: number[] = [];
  for (const n of facts.nodes) {
    ks.length = 0;
    for (const ci of facts.byNode[n.index] as readonly number[]) {
      if ((facts.containers[ci] as { ct: { state: string } }).ct.state === "running")
        ks.push(ctClass[ci] as number);
    }
    ks.sort((a, b) => a - b); // repeats stand for multiplicity
    const key = `${n.version}|${n.model.modules.cpt}|${ks.join(",")}`;
    let id = rowIds.get(key);
    if (id === undefined) {
      id = rows.length;
      rowIds.set(key, id);
      const classes: number[] = [];
      const mult: number[] = [];
      for (const k of ks) {
        if (classes[classes.length - 1] === k)
          mult[mult.length - 1] = (mult[mult.length - 1] as number) + 1;
        else {
          classes.push(k);
          mult.push(1);
        }
      }
      rows.push({
        id,
        version: n.version,
        cpt: n.model.modules.cpt,
        classes: Int32Array.from(classes),
        mult: Int32Array.from(mult),
        running: ks.length,
        nodes: [],
      });
    }
    (rows[id] as RowClass).nodes.push(n.index);
    nodeRow[n.index] = id;
  }
  const S = rows.length;

  // Per container class, the destination classes that take it, as a bitset;
  // a row is "all" where the AND of its classes' bitsets is set, "some" where
  // only the OR is. (How many can go is counted on demand: goCountOf.)
  const W = (D + 31) >>> 5;
  const goBits = new Uint32Array(K * W);
  for (let k = 0; k < K; k++) {
    for (let d = 0; d < D; d++) {
      if ((codes[k * D + d] as number) < REFUSED_VECAPS) {
        const w = k * W + (d >>> 5);
        goBits[w] = ((goBits[w] as number) | (1 << (d & 31))) >>> 0;
      }
    }
  }
  // The container-independent pre-checks, per (version, vzcpt) source side.
  const preTables = new Map<string, Int16Array>();
  const preTable = (version: number | null, cpt: boolean): Int16Array => {
    const key = `${version}|${cpt}`;
    let t = preTables.get(key);
    if (!t) {
      t = new Int16Array(D);
      for (let d = 0; d < D; d++) t[d] = preFast(version, cpt, dst[d] as DstClass, accepts);
      preTables.set(key, t);
    }
    return t;
  };
  const verdict = new Uint8Array(S * D);
  const and = new Uint32Array(W);
  const or = new Uint32Array(W);
  for (let s = 0; s < S; s++) {
    const row = rows[s] as RowClass;
    const base = s * D;
    and.fill(0xffffffff);
    or.fill(0);
    for (let i = 0; i < row.classes.length; i++) {
      const kw = (row.classes[i] as number) * W;
      for (let w = 0; w < W; w++) {
        const b = goBits[kw + w] as number;
        and[w] = ((and[w] as number) & b) >>> 0;
        or[w] = ((or[w] as number) | b) >>> 0;
      }
    }
    const preRow = preTable(row.version, row.cpt);
    for (let d = 0; d < D; d++) {
      const bit = 1 << (d & 31);
      let v: number;
      if (row.running > 0 && ((and[d >>> 5] as number) & bit) !== 0) v = ALL;
      else if (((or[d >>> 5] as number) & bit) !== 0) v = SOME;
      else {
        const pre = preRow[d] as number;
        v =
          pre === REFUSED_VERSION
            ? VERSION
            : pre === REFUSED_NO_RST || pre === REFUSED_NO_CPT
              ? MODULE
              : row.running === 0
                ? EMPTY
                : NONE;
      }
      verdict[base + d] = v;
    }
  }
  progress(0.8, "node verdicts");

  // Accepting destinations per container: per class total, minus its own node.
  const dsize = dst.map((c) => c.nodes.length);
  const total = new Int32Array(K);
  for (let k = 0; k < K; k++) {
    let t = 0;
    for (let d = 0; d < D; d++)
      if ((codes[k * D + d] as number) < REFUSED_VECAPS) t += dsize[d] as number;
    total[k] = t;
  }
  const destinations = new Int32Array(facts.containers.length);
  for (const c of facts.containers) {
    const k = ctClass[c.index] as number;
    const own = (codes[k * D + (nodeDst[c.node] as number)] as number) < REFUSED_VECAPS ? 1 : 0;
    destinations[c.index] = (total[k] as number) - own;
  }
  progress(1, "done");
  return { facts, dst, cts, rows, nodeDst, nodeRow, ctClass, codes, verdict, destinations };
}

// ---- per-node views, expanded on demand ----

export const D = (a: Analysis): number => a.dst.length;

/** Verdict of node a -> node b. */
export function nodeVerdict(a: Analysis, src: number, dstNode: number): number {
  if (src === dstNode) return SELF;
  return a.verdict[
    (a.nodeRow[src] as number) * a.dst.length + (a.nodeDst[dstNode] as number)
  ] as number;
}

/** Running containers of row class s that can go to destination class d. */
export function goCountOf(a: Analysis, s: number, d: number): number {
  const row = a.rows[s] as RowClass;
  let g = 0;
  for (let i = 0; i < row.classes.length; i++) {
    if ((a.codes[(row.classes[i] as number) * a.dst.length + d] as number) < REFUSED_VECAPS)
      g += row.mult[i] as number;
  }
  return g;
}

/** Running containers of `src` that can go to `dstNode`. */
export function nodeGoCount(a: Analysis, src: number, dstNode: number): number {
  return goCountOf(a, a.nodeRow[src] as number, a.nodeDst[dstNode] as number);
}

/** Outcome code of container ci moving to node b. */
export function ctCode(a: Analysis, ci: number, dstNode: number): number {
  return a.codes[
    (a.ctClass[ci] as number) * a.dst.length + (a.nodeDst[dstNode] as number)
  ] as number;
}

/** The nodes accepting container ci (its own node excluded). */
export function acceptingNodes(a: Analysis, ci: number): number[] {
  const k = a.ctClass[ci] as number;
  const own = (a.facts.containers[ci] as { node: number }).node;
  const out: number[] = [];
  for (let d = 0; d < a.dst.length; d++) {
    if ((a.codes[k * a.dst.length + d] as number) >= REFUSED_VECAPS) continue;
    for (const n of (a.dst[d] as DstClass).nodes) if (n !== own) out.push(n);
  }
  return out.sort((x, y) => x - y);
}

/** Running containers in the fleet, and how many of them have at least one destination. */
export function reach(a: Analysis): { running: number; reachable: number } {
  let running = 0;
  let reachable = 0;
  for (const c of a.facts.containers) {
    if (c.ct.state !== "running") continue;
    running++;
    if ((a.destinations[c.index] as number) > 0) reachable++;
  }
  return { running, reachable };
}
