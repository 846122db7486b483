// The CPUID instruction of a simulated CPU: answers leaf by leaf as a CPU with
// these words would, so that code reading "this machine" (src/profile.ts
// through readHostCpuid) sees the node's CPU. Leaf 1 EAX encodes family and
// model as the SDM does (family above 15 in the extended family field, model
// above 15 in the extended model field, which familyModel reads for families 6
// and up); the brand string, when given, is in leaves 0x80000002-4.

import type { CpuidFn, CpuidWords } from "../../src/cpt/cpuid.ts";

/** Four ASCII bytes as the little-endian register CPUID returns them in. */
const reg = (s: string): number =>
  [0, 1, 2, 3].reduce((n, i) => n | ((s.charCodeAt(i) & 0xff) << (8 * i)), 0) >>> 0;

/** A CPUID instruction for a CPU with these words; `brand` null: no brand leaves. */
export function cpuidFor(w: CpuidWords, brand: string | null, stepping = 0): CpuidFn {
  const vendor = w.vendor.padEnd(12, "\0");
  const baseFamily = Math.min(w.family, 15);
  const eax1 =
    ((w.family >= 15 ? w.family - 15 : 0) << 20) |
    (((w.model >> 4) & 0xf) << 16) |
    (baseFamily << 8) |
    ((w.model & 0xf) << 4) |
    stepping;
  const zero = { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  const brandText = (brand ?? "").padEnd(48, "\0");
  return (leaf) => {
    switch (leaf) {
      case 0:
        return { eax: 7, ebx: reg(vendor), edx: reg(vendor.slice(4)), ecx: reg(vendor.slice(8)) };
      case 1:
        return { eax: eax1 >>> 0, ebx: 0, ecx: w.leaf1Ecx, edx: w.leaf1Edx };
      case 7:
        return { eax: 0, ebx: w.leaf7Ebx, ecx: w.leaf7Ecx, edx: w.leaf7Edx };
      case 0x80000000:
        return { ...zero, eax: brand === null ? 0x80000001 : 0x80000004 };
      case 0x80000001:
        return { ...zero, ecx: w.ext1Ecx, edx: w.ext1Edx };
    }
    if (leaf >= 0x80000002 && leaf <= 0x80000004) {
      const s = brandText.slice((leaf - 0x80000002) * 16);
      return { eax: reg(s), ebx: reg(s.slice(4)), ecx: reg(s.slice(8)), edx: reg(s.slice(12)) };
    }
    return zero;
  };
}
