// OpenVZ kernel generations: the facts of ../shared/spec/kernel-cpt.md as data.
// The simulator's kernel model and `vzcptcheck explain/profile` both read this
// table; behaviour (how a request is answered) lives in sim/kernel.

import { BIT_BY_NAME } from "./bits.ts";

/** One entry of a CPU-flag check list: the label printed, and the bit tested. */
export interface CheckEntry {
  readonly label: string;
  readonly bit: number;
}

export type CptTestCapsAnswer = "check" | "ENOSYS" | "EAGAIN";
export type FlagSource = "kernel-caps" | "raw-cpuid" | "masked-cpuid";

export interface Generation {
  readonly id: string;
  readonly title: string;
  readonly line: "2.6.18" | "2.6.32";
  /** Image version this kernel writes; null where it has no CPT_TEST_VERSION. */
  readonly currentVersion: number | null;
  readonly knowsTestVersion: boolean;
  /** What cpt's CPT_TEST_CAPS (suspended-container check) does. */
  readonly cptTestCaps: CptTestCapsAnswer;
  /** CPU bits checked by cpt CPT_TEST_CAPS, in order. */
  readonly cptCapsChecks: readonly CheckEntry[];
  /** CPU bits checked by CPT_TEST_VECAPS, in order (with the labels printed). */
  readonly vecapsChecks: readonly CheckEntry[];
  /** "042": results 0-5, last failure wins. "legacy": 1 for CPU, 2 for unsupported. */
  readonly vecapsStyle: "042" | "legacy";
  readonly unsupportedMask: number;
  /** Every bit this generation gives a meaning to. */
  readonly definedBits: number;
  readonly highestCpuBit: number;
  /** Node carries the no-IPv6 (28) and namespaces (17) bits. */
  readonly osBits: boolean;
  readonly flagSource: FlagSource;
  /** Container flags start from node & (cmov|no_ipv6); 061.9 starts from cmov only. */
  readonly containerCarriesNoIpv6: boolean;
  readonly hasRdrand: boolean;
  /**
   * The first 042stab build this entry stands for, as major.minor with the
   * minor in hundredths (061.9 -> 61.09); it lasts until the next entry's.
   */
  readonly stabFrom: number | null;
}

const e = (label: string, bitName = label): CheckEntry => {
  const b = BIT_BY_NAME.get(bitName);
  if (!b) throw new Error(`unknown bit ${bitName}`);
  return { label, bit: b.bit };
};

const LEGACY_EIGHT = ["cmov", "fxsr", "sse", "sse2", "mmx", "3dnow", "3dnowext", "sysenter"].map(
  (n) => e(n),
);

/** 042stab check list; `bug` tests sse4_1 under the label sse4_2 (061.9-092.1). */
function rhel6Checks(bug: boolean, rdrand: boolean): CheckEntry[] {
  const list = [
    e("cmov"),
    e("fxsr"),
    e("sse"),
    e("sse2"),
    e("sse4_1"),
    bug ? e("sse4_2", "sse4_1") : e("sse4_2"),
    e("mmx"),
    e("3dnow"),
    e("3dnowext"),
    e("sse4a"),
    e("sysenter"),
    e("emt64"),
    e("ia64"),
    e("syscall"),
    e("syscall32"),
    e("xsave"),
    e("avx"),
    e("aesni"),
  ];
  if (rdrand) list.push(e("rdrand"));
  return list;
}

const range = (lo: number, hi: number): number => {
  let m = 0;
  for (let i = lo; i <= hi; i++) m |= 1 << i;
  return m >>> 0;
};

const RHEL6_BASE = {
  line: "2.6.32",
  knowsTestVersion: true,
  vecapsStyle: "042",
  osBits: true,
  containerCarriesNoIpv6: true,
} as const;

export const GENERATIONS: readonly Generation[] = [
  {
    id: "028stab056",
    title: "2.6.18 028stab056 (OpenVZ 5)",
    line: "2.6.18",
    currentVersion: null,
    knowsTestVersion: false,
    cptTestCaps: "check",
    cptCapsChecks: LEGACY_EIGHT,
    vecapsChecks: [...LEGACY_EIGHT, e("emt64"), e("ia64")],
    vecapsStyle: "legacy",
    unsupportedMask: 0xffff0000,
    definedBits: (range(0, 9) | range(16, 23)) >>> 0,
    highestCpuBit: 9,
    osBits: false,
    flagSource: "kernel-caps",
    containerCarriesNoIpv6: false,
    hasRdrand: false,
    stabFrom: null,
  },
  {
    id: "2.6.32-pre",
    title: "2.6.32 before RHEL6 (feoktistov branch)",
    line: "2.6.32",
    currentVersion: 0x800,
    knowsTestVersion: false,
    cptTestCaps: "check",
    cptCapsChecks: LEGACY_EIGHT,
    vecapsChecks: [...LEGACY_EIGHT, e("emt64"), e("ia64"), e("syscall"), e("syscall32")],
    vecapsStyle: "legacy",
    unsupportedMask: 0xffff0000,
    definedBits: (range(0, 12) | range(16, 24)) >>> 0,
    highestCpuBit: 12,
    osBits: false,
    flagSource: "kernel-caps",
    containerCarriesNoIpv6: false,
    hasRdrand: false,
    stabFrom: null,
  },
  {
    ...RHEL6_BASE,
    id: "042stab061",
    title: "042stab061.9 - 088.3",
    currentVersion: 0x801,
    cptTestCaps: "check",
    cptCapsChecks: rhel6Checks(true, false),
    vecapsChecks: rhel6Checks(true, false),
    unsupportedMask: 0xe1fd0000,
    definedBits: range(0, 28),
    highestCpuBit: 27,
    flagSource: "raw-cpuid",
    containerCarriesNoIpv6: false,
    hasRdrand: false,
    stabFrom: 61.09,
  },
  {
    ...RHEL6_BASE,
    id: "042stab088",
    title: "042stab088.4 - 092.0",
    currentVersion: 0x803,
    cptTestCaps: "check",
    cptCapsChecks: rhel6Checks(true, false),
    vecapsChecks: rhel6Checks(true, false),
    unsupportedMask: 0xe1fd0000,
    definedBits: range(0, 28),
    highestCpuBit: 27,
    flagSource: "raw-cpuid",
    hasRdrand: false,
    stabFrom: 88.04,
  },
  {
    ...RHEL6_BASE,
    id: "042stab092",
    title: "042stab092.1 - 093.4",
    currentVersion: 0x803,
    cptTestCaps: "check",
    cptCapsChecks: rhel6Checks(true, false),
    vecapsChecks: rhel6Checks(true, false),
    unsupportedMask: 0xe1fd0000,
    definedBits: range(0, 28),
    highestCpuBit: 27,
    flagSource: "raw-cpuid",
    hasRdrand: false,
    stabFrom: 92.01,
  },
  {
    ...RHEL6_BASE,
    id: "042stab093",
    title: "042stab093.5 - 101.4",
    currentVersion: 0x803,
    cptTestCaps: "check",
    cptCapsChecks: rhel6Checks(false, false),
    vecapsChecks: rhel6Checks(false, false),
    unsupportedMask: 0xe1fd0000,
    definedBits: range(0, 28),
    highestCpuBit: 27,
    flagSource: "raw-cpuid",
    hasRdrand: false,
    stabFrom: 93.05,
  },
  {
    ...RHEL6_BASE,
    id: "042stab101",
    title: "042stab101.5 - 107.x (suspended caps test answers EAGAIN)",
    currentVersion: 0x803,
    cptTestCaps: "EAGAIN",
    cptCapsChecks: rhel6Checks(false, false),
    vecapsChecks: rhel6Checks(false, false),
    unsupportedMask: 0xe1fd0000,
    definedBits: range(0, 28),
    highestCpuBit: 27,
    flagSource: "raw-cpuid",
    hasRdrand: false,
    stabFrom: 101.05,
  },
  {
    ...RHEL6_BASE,
    id: "042stab108",
    title: "042stab108.x (suspended caps test obsoleted: ENOSYS)",
    currentVersion: 0x803,
    cptTestCaps: "ENOSYS",
    cptCapsChecks: rhel6Checks(false, true),
    vecapsChecks: rhel6Checks(false, true),
    unsupportedMask: 0xc1fd0000,
    definedBits: range(0, 29),
    highestCpuBit: 29,
    flagSource: "masked-cpuid",
    hasRdrand: true,
    stabFrom: 108.0,
  },
  {
    ...RHEL6_BASE,
    id: "042stab109",
    title: "042stab109.3 and later (to 141.3)",
    currentVersion: 0x803,
    cptTestCaps: "check",
    cptCapsChecks: rhel6Checks(false, true),
    vecapsChecks: rhel6Checks(false, true),
    unsupportedMask: 0xc1fd0000,
    definedBits: range(0, 29),
    highestCpuBit: 29,
    flagSource: "masked-cpuid",
    hasRdrand: true,
    stabFrom: 109.03,
  },
];

export const GENERATION_BY_ID: ReadonlyMap<string, Generation> = new Map(
  GENERATIONS.map((g) => [g.id, g]),
);

/** The newest generation: what `explain` assumes when it cannot tell. */
export const NEWEST_GENERATION = GENERATIONS[GENERATIONS.length - 1] as Generation;

/** A 042stab build as one comparable number: 113.11 -> 113011, 107.100 -> 107100. */
const buildKey = (major: number, minor: number): number => major * 1000 + minor;

const stabKey = (stab: number): number => {
  const major = Math.floor(stab);
  return buildKey(major, Math.round((stab - major) * 100));
};

const RHEL6_BY_START = GENERATIONS.filter((g) => g.stabFrom !== null).sort(
  (a, b) => (a.stabFrom as number) - (b.stabFrom as number),
);

/**
 * Recognise a generation from a kernel release string (`uname -r`):
 * "2.6.32-042stab113.11" -> 042stab109; "2.6.18-028stab056.1" and RHEL5-based
 * "2.6.18-194.26.1.el5.028stab079.2" -> 028stab056. Returns null for kernels
 * that are not OpenVZ.
 */
export function generationFromRelease(release: string): Generation | null {
  const rhel6 = /042stab(\d+)(?:\.(\d+))?/.exec(release);
  if (rhel6) {
    const key = buildKey(Number(rhel6[1]), Number(rhel6[2] ?? 0));
    // The last generation starting at or before this build; builds older
    // than 061.9 count as the oldest RHEL6 generation we model.
    let hit = RHEL6_BY_START[0] as Generation;
    for (const g of RHEL6_BY_START) if (stabKey(g.stabFrom as number) <= key) hit = g;
    return hit;
  }
  if (/^2\.6\.18[-.].*\d+stab\d+/.test(release)) {
    return GENERATION_BY_ID.get("028stab056") as Generation;
  }
  if (/^2\.6\.32-\d+stab/.test(release) || /^2\.6\.32.*(ovz|openvz|feoktistov)/i.test(release)) {
    return GENERATION_BY_ID.get("2.6.32-pre") as Generation;
  }
  return null;
}
