// OpenVZ-style per-node CPUID masking: AND-masks over the CPUID words that hide
// features from the node (and, on 042stab108.1+, from its CPT node flags).
// Pure helpers over src/cpt/cpuid.ts's feature table.

import {
  type CpuidMask,
  type CpuidWordKey,
  type CpuidWords,
  FEATURE_INFO,
  featureInfo,
  WORD_KEYS,
} from "../../src/cpt/cpuid.ts";

type MutableMask = { -readonly [K in CpuidWordKey]?: number };

/** A mask hiding exactly the named features (unknown names throw); untouched words are left out. */
export function maskFromFeatures(hide: readonly string[]): CpuidMask {
  const out: MutableMask = {};
  for (const name of hide) {
    const f = featureInfo(name);
    out[f.word] = ((out[f.word] ?? 0xffffffff) & ~(1 << f.bit)) >>> 0;
  }
  return out;
}

/**
 * The common subset of several CPUs: applied to any of them, the mask leaves
 * only what every one of them has. No CPUs: an empty mask (hides nothing).
 */
export function baselineMask(words: readonly CpuidWords[]): CpuidMask {
  const out: MutableMask = {};
  if (words.length === 0) return out;
  for (const k of WORD_KEYS) out[k] = words.reduce((acc, w) => (acc & w[k]) >>> 0, 0xffffffff);
  return out;
}

/** Both masks at once (a feature hidden by either stays hidden). */
export function combineMasks(...masks: readonly (CpuidMask | undefined)[]): CpuidMask {
  const out: MutableMask = {};
  for (const m of masks) {
    if (!m) continue;
    for (const k of WORD_KEYS) {
      const v = m[k];
      if (v !== undefined) out[k] = ((out[k] ?? 0xffffffff) & v) >>> 0;
    }
  }
  return out;
}

/** Names of the table's features the mask hides, in table order. */
export function featuresHiddenBy(mask: CpuidMask): string[] {
  return FEATURE_INFO.filter((f) => (((mask[f.word] ?? 0xffffffff) >>> f.bit) & 1) === 0).map(
    (f) => f.name,
  );
}
