// The node flags: the 32-bit word rst's CPT_TEST_CAPS returns on a node, built
// from the node's CPU, kernel generation and OS state (spec kernel-cpt.md,
// "Node flags"). Shared by the simulator and `vzcptcheck profile`.
//
// Decisions where the spec is silent (each covered by test/cpu.test.ts):
// - Flag source "kernel-caps" (2.6.18, 2.6.32-pre) reads the kernel's own
//   capability words. Those are what the CPU reports after the node's feature
//   masking (masking works through the CPU's CPUID-override MSRs, set before
//   the kernel probes its CPU), so they are treated like "masked-cpuid".
//   "raw-cpuid" (042stab061.9-107.x) ignores the mask entirely.
// - 32-bit kernel: sse2 comes from the CPU, no emt64, no syscall32 (there is
//   no 32-bit-on-64 SYSCALL path to describe); sysenter+sep32 come from SEP
//   for any vendor (a 32-bit kernel uses SYSENTER on AMD too); syscall is set
//   only for non-Intel CPUs, because Intel reports SYSCALL in CPUID only to
//   64-bit code.
// - The 2.6.18 line's sysenter ignores the vendor (spec); 2.6.32-pre follows
//   the 042stab vendor rules (it has the syscall32/sep32 bits, so it must
//   split them by vendor the same way).
// - SLM (bit 24) is set whenever SLM runs without slm_dmprst and the
//   generation defines bit 24: 2.6.32-pre and every 042stab, not 2.6.18.
// - Whatever is computed, only the generation's definedBits survive (a 2.6.18
//   node has no sse4_1, syscall or namespaces bit).

import { BIT_BY_NUMBER, bitMask } from "./bits.ts";
import { applyMask, type CpuidMask, type CpuidWords, decodeCpuid, INTEL } from "./cpuid.ts";
import type { Generation } from "./generations.ts";

export interface NodeFlagsInput {
  /** Raw CPUID words of the node's CPU. */
  readonly cpuid: CpuidWords;
  /** The node's CPUID mask (OpenVZ feature masking); absent = nothing hidden. */
  readonly mask?: CpuidMask;
  readonly generation: Generation;
  /** 64-bit (x86_64) kernel. */
  readonly arch64: boolean;
  /** IPv6 loaded on the node. */
  readonly ipv6: boolean;
  /** SLM enabled but the slm_dmprst module not loaded. */
  readonly slmWithoutDmprst: boolean;
}

/** The words a generation's kernel reads its CPU flags from. */
export function flagSourceWords(
  cpuid: CpuidWords,
  mask: CpuidMask | undefined,
  generation: Generation,
): CpuidWords {
  return generation.flagSource === "raw-cpuid" ? cpuid : applyMask(cpuid, mask);
}

/**
 * CPT bit <- cpuinfo feature, for the bits that simply follow the CPU (and so
 * a CPUID mask can clear). rdrand counts only on generations that know it.
 */
export const CPU_FOLLOWING_BITS: readonly (readonly [cptBit: string, feature: string])[] = [
  ["cmov", "cmov"],
  ["fxsr", "fxsr"],
  ["sse", "sse"],
  ["mmx", "mmx"],
  ["3dnow", "3dnow"],
  ["3dnowext", "3dnowext"],
  ["sse4_1", "sse4_1"],
  ["sse4_2", "sse4_2"],
  ["sse4a", "sse4a"],
  ["xsave", "xsave"],
  ["avx", "avx"],
  ["aesni", "aes"],
  ["rdrand", "rdrand"],
];

/** The node flags word (unsigned 32-bit) rst's CPT_TEST_CAPS returns. */
export function nodeFlags(input: NodeFlagsInput): number {
  const g = input.generation;
  const words = flagSourceWords(input.cpuid, input.mask, g);
  const cpu = decodeCpuid(words);
  const intel = words.vendor === INTEL;
  const names: string[] = [];

  for (const [bit, feature] of CPU_FOLLOWING_BITS) {
    if (cpu.has(feature) && (bit !== "rdrand" || g.hasRdrand)) names.push(bit);
  }

  if (input.arch64) names.push("sse2", "emt64");
  else if (cpu.has("sse2")) names.push("sse2");

  // Intel shows SYSCALL in CPUID only to 64-bit code (see header).
  const syscall = cpu.has("syscall") && (input.arch64 || !intel);
  if (syscall) names.push("syscall");
  if (syscall && input.arch64 && !intel) names.push("syscall32");

  const sepCounts = intel || g.line === "2.6.18" || !input.arch64;
  if (cpu.has("sep") && sepCounts) names.push("sysenter", "sep32");

  if (g.osBits) {
    names.push("namespaces");
    if (!input.ipv6) names.push("no_ipv6");
  }
  if (input.slmWithoutDmprst) names.push("slm_dmprst");

  return (bitMask(...names) & g.definedBits) >>> 0;
}

export interface FlagName {
  readonly bit: number;
  /** bits.ts name, or "bitN" for a bit nobody defines. */
  readonly name: string;
  /** Whether this generation gives the bit a meaning. */
  readonly defined: boolean;
}

/** The bits set in `word`, lowest first, named, and marked if `generation` does not define them. */
export function describeFlags(word: number, generation: Generation): FlagName[] {
  const out: FlagName[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (((word >>> bit) & 1) === 0) continue;
    out.push({
      bit,
      name: BIT_BY_NUMBER.get(bit)?.name ?? `bit${bit}`,
      defined: ((generation.definedBits >>> bit) & 1) === 1,
    });
  }
  return out;
}
