// `vzcptcheck explain`, the analysis: name the bits of a capability word for a
// kernel generation, and replay CPT_TEST_VECAPS's checks (kernel-cpt.md) on a
// source word and a destination word to say what the destination lacks, in the
// kernel's own order. Pure functions over src/cpt facts; the argv handling and
// printing are in explain-cli.ts.

import { BIT_BY_NUMBER, type BitClass, bitsOf, CLASS_TITLES } from "./cpt/bits.ts";
import type { Generation } from "./cpt/generations.ts";
import { hex32 } from "./numbers.ts";

/** One bit as a generation reads it. */
export interface BitInfo {
  readonly bit: number;
  /** The kernel's name ("avx"), or "bitN" for a bit no kernel defines. */
  readonly name: string;
  readonly class: BitClass | "unknown";
  readonly classTitle: string;
  readonly meaning: string;
  readonly remedy: string;
  /** Does this generation give the bit a meaning? */
  readonly defined: boolean;
  /** What is odd about the bit on this generation, if anything. */
  readonly note: string | null;
}

/** Which of CPT_TEST_VECAPS's checks a finding comes from, in the kernel's order. */
export type CheckKind = "cpu" | "slm" | "unsupported" | "ipv6" | "namespaces";

/** Something the destination lacks (or has against it) that makes a check fail. */
export interface Finding extends BitInfo {
  readonly check: CheckKind;
  /** The name the kernel prints for a CPU check ("sse4_2" even when it tests sse4_1). */
  readonly label: string | null;
  /** The line the kernel writes to the error pipe, without "Error: "; null if silent. */
  readonly kernelMessage: string | null;
  /** The CPT_TEST_VECAPS result this failing check sets. */
  readonly result: number;
}

/** A bit the source has and the destination lacks that the kernel does not check. */
export interface Ignored {
  readonly bit: number;
  readonly name: string;
  readonly reason: string;
}

export interface Comparison {
  readonly findings: readonly Finding[];
  readonly ignored: readonly Ignored[];
  /** What CPT_TEST_VECAPS returns for these words on this generation (0: go). */
  readonly result: number;
  /** The generation tests sse4_1 under the label "sse4_2" (042stab061.9-092.1). */
  readonly labelBug: boolean;
}

const CPU_CLASSES: ReadonlySet<string> = new Set(["isa", "fpu", "abi"]);
const NO_IPV6 = 28;
const NAMESPACES = 17;
const SLM = 24;

const has = (word: number, bit: number): boolean => ((word >>> bit) & 1) === 1;

/** Bits this generation's CPU check compares. */
const checkedCpuBits = (g: Generation): Set<number> => new Set(g.vecapsChecks.map((c) => c.bit));

/** Does this generation's check list test sse4_1 under the label "sse4_2"? */
export const hasLabelBug = (g: Generation): boolean =>
  g.vecapsChecks.some((c) => c.label !== BIT_BY_NUMBER.get(c.bit)?.name);

/** The bit as generation `g` reads it, with a note when `g` ignores or lacks it. */
export function describeBit(bit: number, g: Generation): BitInfo {
  const known = BIT_BY_NUMBER.get(bit);
  const defined = has(g.definedBits, bit);
  if (!known) {
    return {
      bit,
      name: `bit${bit}`,
      class: "unknown",
      classTitle: "unknown",
      meaning: "no OpenVZ kernel gives this bit a meaning",
      remedy: "check where the number came from",
      defined: false,
      note: `not defined by ${g.id} (nor by any other generation)`,
    };
  }
  let note: string | null = null;
  if (!defined) {
    note = `not defined by ${g.id}`;
    // kernel-cpt.md: late 2.6.18 nodes sent "no IPv6" as bit 13.
    if (g.line === "2.6.18" && bit === 13) note += " (late 2.6.18 kernels used bit 13 for no IPv6)";
  } else if (CPU_CLASSES.has(known.class) && !checkedCpuBits(g).has(bit)) {
    note =
      hasLabelBug(g) && known.name === "sse4_2"
        ? `not compared by ${g.id}: its check tests sse4_1 under the label "sse4_2" (label bug)`
        : `not compared by ${g.id}'s CPU check`;
  }
  return {
    bit,
    name: known.name,
    class: known.class,
    classTitle: CLASS_TITLES[known.class],
    meaning: known.meaning,
    remedy: known.remedy,
    defined,
    note,
  };
}

/** Every set bit of `word`, lowest first, as generation `g` reads it. */
export const explainWord = (word: number, g: Generation): BitInfo[] =>
  bitsOf(word).map((b) => describeBit(b, g));

/** A finding for bit `bit` with the check's own note, label and message. */
function finding(
  g: Generation,
  bit: number,
  check: CheckKind,
  result: number,
  kernelMessage: string | null,
  extra: Partial<Pick<Finding, "label" | "note" | "remedy">> = {},
): Finding {
  const info = describeBit(bit, g);
  return { ...info, check, label: null, kernelMessage, result, ...extra };
}

/** CPT_TEST_VECAPS's step 1: each listed CPU bit the source has and the destination lacks. */
function cpuFindings(caps: number, dest: number, g: Generation): Finding[] {
  const out: Finding[] = [];
  for (const entry of g.vecapsChecks) {
    if (!has(caps, entry.bit) || has(dest, entry.bit)) continue;
    const real = BIT_BY_NUMBER.get(entry.bit)?.name;
    const text = `Destination cpu does not have ${entry.label}`;
    let note: string | null = null;
    if (entry.label !== real) {
      note = `label bug: ${g.id} tests bit ${entry.bit} (${real}) under the label "${entry.label}" (fixed in 042stab093.5)`;
    } else if (g.vecapsStyle === "legacy") {
      note = `${g.id} writes "${text}" to the kernel log only`;
    }
    // Legacy kernels print CPU shortfalls as warnings: nothing reaches the error pipe.
    const message = g.vecapsStyle === "legacy" ? null : text;
    out.push(finding(g, entry.bit, "cpu", 1, message, { label: entry.label, note }));
  }
  return out;
}

/** What to do about a source bit the source kernel refuses whatever the destination. */
function unsupportedRemedy(info: BitInfo, g: Generation): string {
  if (info.class === "unsupported") return info.remedy;
  if (info.bit === NAMESPACES) {
    return "end the tasks that run in their own mount namespace, or upgrade the source node to 042stab";
  }
  if (info.bit === SLM) {
    return "load slm_dmprst on the source node (a container's word never has this bit: is CAPS a node's word?)";
  }
  return `${g.id} never sets this bit itself: was the word produced by another kernel generation?`;
}

/** Why the kernel lets a bit through that the source has and the destination lacks. */
function ignoredReason(bit: number, g: Generation): string | null {
  const info = describeBit(bit, g);
  if (has(g.unsupportedMask, bit) || bit === NO_IPV6 || bit === NAMESPACES) return null;
  if (!info.defined) return `${info.note}; the kernel ignores it`;
  if (!CPU_CLASSES.has(String(info.class)) || checkedCpuBits(g).has(bit)) return null;
  if (info.name === "sse4_2" && hasLabelBug(g)) {
    return (
      `${g.id} tests sse4_1 under the label "sse4_2", so a missing SSE4.2 passes; ` +
      "the container may crash on the destination if it uses SSE4.2"
    );
  }
  return `${g.id} does not compare this bit`;
}

/**
 * Replay CPT_TEST_VECAPS for source word `caps` and destination word `dest`
 * on the source node's generation `g`. Findings come in the kernel's check
 * order; every failing check overwrites the result ("042" style: the last
 * failure wins, so 5 > 3 > 2 > 4 > 1).
 */
export function compareWords(caps: number, dest: number, g: Generation): Comparison {
  const findings: Finding[] = cpuFindings(caps, dest, g);
  if (g.vecapsStyle === "042") {
    if (has(dest, SLM)) {
      findings.push(
        finding(
          g,
          SLM,
          "slm",
          4,
          "SLM is enabled on destination node, but slm_dmprst module is not loaded",
        ),
      );
    }
  } else if (has(g.definedBits, SLM) && has(dest, SLM)) {
    // 2.6.32 before RHEL6: a destination with SLM fails the CPU result (1).
    findings.push(finding(g, SLM, "slm", 1, null));
  }
  for (const bit of bitsOf((caps & g.unsupportedMask) >>> 0)) {
    const known = describeBit(bit, g);
    findings.push(
      finding(g, bit, "unsupported", 2, null, {
        note:
          known.note ??
          `${g.id}'s unsupported mask ${hex32(g.unsupportedMask)} covers it: no destination can take it`,
        remedy: unsupportedRemedy(known, g),
      }),
    );
  }
  if (g.vecapsStyle === "042") {
    if (has(dest, NO_IPV6) && !has(caps, NO_IPV6)) {
      findings.push(
        finding(g, NO_IPV6, "ipv6", 3, "IPv6 not loaded or disabled on destination node", {
          note: g.containerCarriesNoIpv6
            ? "the destination has no IPv6 and the source word does not say it goes without"
            : `${g.id} never carries no_ipv6 into a container's word: this check fails whenever the destination lacks IPv6`,
          remedy: "load IPv6 on the destination (or pick a destination with IPv6 loaded)",
        }),
      );
    }
    if (has(caps, NAMESPACES) && !has(dest, NAMESPACES)) {
      findings.push(
        finding(
          g,
          NAMESPACES,
          "namespaces",
          5,
          "Mount namespaces migration support is not present on destination node",
        ),
      );
    }
  }
  const ignored: Ignored[] = [];
  for (const bit of bitsOf((caps & ~dest) >>> 0)) {
    const reason = ignoredReason(bit, g);
    if (reason !== null) ignored.push({ bit, name: describeBit(bit, g).name, reason });
  }
  const last = findings[findings.length - 1];
  return { findings, ignored, result: last ? last.result : 0, labelBug: hasLabelBug(g) };
}
