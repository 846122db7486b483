// One migration check: container C of node A moving to node B, concluded as
// vzmigrate's check_cpt_props would (cli-contract.md):
//   version=$(vzcptcheck version)            on A; no number: skip the version test
//   vzcptcheck version $version              on B; non-zero exit: refused
//   CPU_CAPS=$(vzcptcheck caps)              on B; no number: skip the caps test
//   vzcptcheck caps [$id] $CPU_CAPS          on A; non-zero exit: refused
// The last call runs on the SOURCE kernel: A's generation decides the check
// list and the result codes, against the word B reported. A stopped container
// has no $id (the suspended check, cpt CPT_TEST_CAPS on A's node flags).
// This file is the reference: it calls the kernel model's own decisions pair
// by pair. engine.ts computes the same codes by classes and bit operations.

import { BIT_BY_NUMBER } from "../../src/cpt/bits.ts";
import {
  cptCapsCheck,
  MSG_IPV6,
  MSG_NAMESPACES,
  MSG_SLM,
  missingCpuLabels,
  restoreAccepts,
  vecapsCheck,
} from "../kernel/checks.ts";
import type { KernelProfile } from "../kernel/profiles.ts";
import type { ContainerFact, NodeFact } from "./facts.ts";

// ---- outcome codes (one byte per pair in the matrices) ----
/** Passed every check. */
export const GO = 0;
/** Passed: `vzcptcheck caps` gave no number on B, so vzmigrate skipped the caps test. */
export const GO_NO_CAPS = 1;
/** Passed: a stopped CT on a kernel whose suspended check answers ENOSYS/EAGAIN (warning, exit 0). */
export const GO_OLD_KERNEL = 2;
/** Refused by CPT_TEST_VECAPS with result r: code 10 + r (11..15). */
export const REFUSED_VECAPS = 10;
/** Refused by the suspended check (cpt CPT_TEST_CAPS returned 1). */
export const REFUSED_SUSPENDED = 20;
/** B's restore side refused A's image version. */
export const REFUSED_VERSION = 30;
/** vzrst is not loaded on B: `vzcptcheck version N` cannot open /proc/rst. */
export const REFUSED_NO_RST = 31;
/** vzcpt is not loaded on A: the final `vzcptcheck caps` cannot open /proc/cpt. */
export const REFUSED_NO_CPT = 32;
/** The container is locked (being checkpointed): VECAPS answers EBUSY. */
export const REFUSED_LOCKED = 33;

export const isGo = (code: number): boolean => code < REFUSED_VECAPS;

export type ReasonKind =
  | "cpu"
  | "slm"
  | "unsupported"
  | "ipv6"
  | "namespaces"
  | "version"
  | "module"
  | "locked"
  | "suspended-cpu";

export interface Reason {
  readonly kind: ReasonKind;
  /** One line for people ("missing avx, aesni"). */
  readonly text: string;
  /** cpu / suspended-cpu: the features as the kernel labels them, in its check order. */
  readonly features?: readonly string[];
  /** unsupported: the container's bits the kernel cannot handle. */
  readonly bits?: readonly string[];
  /** unsupported: what computing the container flags printed (external process ...). */
  readonly messages?: readonly string[];
  /** version: the image version B refused. */
  readonly version?: number;
  /** The check whose failure decided the result (the kernel keeps the last failure). */
  readonly decisive: boolean;
}

export interface Outcome {
  readonly code: number;
  readonly go: boolean;
  /** Which test decided: vecaps (running), suspended (stopped), or an earlier step. */
  readonly check: "vecaps" | "suspended" | "version" | "module" | "locked" | "skipped";
  /** CPT_TEST_VECAPS's return value when it ran. */
  readonly vecapsResult: number | null;
  readonly reasons: readonly Reason[];
  /** Why a passing check was not really checked, else null. */
  readonly note: string | null;
}

export const hex = (v: number): string => `0x${v.toString(16)}`;

/** The pre-checks that do not depend on the container (version, caps, modules). */
export function preCode(src: NodeFact, dst: NodeFact): number | null {
  if (src.version !== null) {
    if (!dst.model.modules.rst) return REFUSED_NO_RST;
    if (restoreAccepts(dst.model.profile, src.version) === 0) return REFUSED_VERSION;
  }
  if (dst.caps === null) return GO_NO_CAPS;
  if (!src.model.modules.cpt) return REFUSED_NO_CPT;
  return null;
}

/** The outcome code of C (on src) moving to dst, using the kernel model's checks directly. */
export function pairCode(src: NodeFact, c: ContainerFact, dst: NodeFact): number {
  const pre = preCode(src, dst);
  if (pre !== null) return pre;
  const caps = dst.caps as number;
  const p = src.model.profile;
  switch (c.ct.state) {
    case "locked":
      return REFUSED_LOCKED;
    case "stopped": {
      const r = cptCapsCheck(p, src.model.flags, caps);
      return r.ret < 0 ? GO_OLD_KERNEL : r.ret > 0 ? REFUSED_SUSPENDED : GO;
    }
    default: {
      const r = vecapsCheck(p, c.flags, caps).result;
      return r > 0 ? REFUSED_VECAPS + r : GO;
    }
  }
}

/** Check-list entries of `src` missing in `dst`, labelled as the kernel prints them. */
function cpuReason(
  kind: "cpu" | "suspended-cpu",
  checks: KernelProfile["vecapsChecks"],
  srcWord: number,
  dst: number,
  decisive: boolean,
): Reason | null {
  const hits = checks.filter((e) => (srcWord >>> e.bit) & 1 && !((dst >>> e.bit) & 1));
  if (hits.length === 0) return null;
  const labels = missingCpuLabels(checks, srcWord, dst);
  const shown = hits.map((e) => {
    const real = BIT_BY_NUMBER.get(e.bit)?.name ?? `bit${e.bit}`;
    return real === e.label ? e.label : `${e.label} (the kernel's label for ${real})`;
  });
  return { kind, text: `missing ${shown.join(", ")}`, features: labels, decisive };
}

const bitNames = (word: number): string[] => {
  const out: string[] = [];
  for (let b = 0; b < 32; b++)
    if ((word >>> b) & 1) out.push(BIT_BY_NUMBER.get(b)?.name ?? `bit${b}`);
  return out;
};

/** Every failing VECAPS check of a running container, in the kernel's order. */
function vecapsReasons(p: KernelProfile, c: ContainerFact, dst: number, result: number): Reason[] {
  const v = vecapsCheck(p, c.flags, dst);
  const texts = new Set([...v.messages, ...v.warnings]);
  const legacy = p.vecapsStyle === "legacy";
  const out: Reason[] = [];
  const cpu = cpuReason("cpu", p.vecapsChecks, c.flags, dst, result === 1 && !texts.has(MSG_SLM));
  if (cpu) out.push(cpu);
  if (texts.has(MSG_SLM)) {
    const decisive = result === 4 || (legacy && result === 1);
    out.push({ kind: "slm", text: "SLM without slm_dmprst on the destination", decisive });
  }
  const unsupported = (c.flags & p.unsupportedMask) >>> 0;
  if (unsupported !== 0) {
    const bits = bitNames(unsupported);
    out.push({
      kind: "unsupported",
      text: `unsupported: ${bits.join(", ")}`,
      bits,
      messages: c.messages,
      decisive: result === 2,
    });
  }
  if (texts.has(MSG_IPV6))
    out.push({ kind: "ipv6", text: "IPv6 not loaded on the destination", decisive: result === 3 });
  if (texts.has(MSG_NAMESPACES)) {
    out.push({
      kind: "namespaces",
      text: "destination cannot take mount namespaces",
      decisive: result === 5,
    });
  }
  return out;
}

/** The reason of a node-wide refusal (version, modules), or null when there is none. */
export function nodeReason(src: NodeFact, dst: NodeFact): Reason | null {
  switch (preCode(src, dst)) {
    case REFUSED_VERSION:
      return {
        kind: "version",
        text: `image version ${hex(src.version as number)} refused by ${dst.model.profile.id}`,
        version: src.version as number,
        decisive: true,
      };
    case REFUSED_NO_RST:
      return { kind: "module", text: "vzrst not loaded on the destination", decisive: true };
    case REFUSED_NO_CPT:
      return { kind: "module", text: "vzcpt not loaded on the source", decisive: true };
    default:
      return null;
  }
}

/** The full outcome of one pair: code, deciding check and every reason. */
export function pairOutcome(src: NodeFact, c: ContainerFact, dst: NodeFact): Outcome {
  const code = pairCode(src, c, dst);
  const base = { code, go: isGo(code), vecapsResult: null, reasons: [] as Reason[], note: null };
  switch (code) {
    case REFUSED_VERSION:
      return { ...base, check: "version", reasons: [nodeReason(src, dst) as Reason] };
    case REFUSED_NO_RST:
    case REFUSED_NO_CPT:
      return { ...base, check: "module", reasons: [nodeReason(src, dst) as Reason] };
    case GO_NO_CAPS:
      return {
        ...base,
        check: "skipped",
        note: "destination gave no caps: vzmigrate skipped the caps test",
      };
    case REFUSED_LOCKED:
      return {
        ...base,
        check: "locked",
        reasons: [{ kind: "locked", text: "CT is locked (being checkpointed)", decisive: true }],
      };
    default:
      break;
  }
  const caps = dst.caps as number;
  const p = src.model.profile;
  if (c.ct.state === "stopped") {
    if (code === GO_OLD_KERNEL) {
      return {
        ...base,
        check: "suspended",
        note: `suspended check unavailable on ${p.id} (old-kernel warning, exit 0)`,
      };
    }
    const r = cpuReason("suspended-cpu", p.cptCapsChecks, src.model.flags, caps, true);
    return { ...base, check: "suspended", reasons: r ? [r] : [] };
  }
  const result = code === GO ? 0 : code - REFUSED_VECAPS;
  const reasons = code === GO ? [] : vecapsReasons(p, c, caps, result);
  return { ...base, check: "vecaps", vecapsResult: result, reasons };
}

/** A short summary of an outcome's reasons ("missing avx; IPv6 not loaded ..."). */
export const outcomeText = (o: Outcome): string =>
  o.go ? (o.note ? `go (${o.note})` : "go") : o.reasons.map((r) => r.text).join("; ") || "refused";
