// x86 CPUID: the feature bits vzcptcheck and the simulator care about, named as
// Linux's /proc/cpuinfo spells them. Bit positions follow the Intel SDM Vol. 2A
// (CPUID instruction) and AMD APM Vol. 3 (appendix E, "Obtaining processor
// information via CPUID"). Pure and dependency-free: the production
// `vzcptcheck profile` command uses it too, so it must not import sim/.

/**
 * Raw CPUID words of a CPU (the leaves OpenVZ and vzcptcheck care about);
 * sim/types.ts re-exports this type for node files.
 */
export interface CpuidWords {
  readonly vendor: string; // "GenuineIntel", "AuthenticAMD"
  readonly family: number; // display family
  readonly model: number; // display model
  readonly leaf1Ecx: number;
  readonly leaf1Edx: number;
  readonly leaf7Ebx: number;
  readonly leaf7Ecx: number;
  readonly leaf7Edx: number;
  readonly ext1Ecx: number; // 0x80000001 ecx
  readonly ext1Edx: number; // 0x80000001 edx
}

/** AND-masks over the same words; an absent word is all ones (hides nothing). */
export interface CpuidMask {
  readonly leaf1Ecx?: number;
  readonly leaf1Edx?: number;
  readonly leaf7Ebx?: number;
  readonly leaf7Ecx?: number;
  readonly leaf7Edx?: number;
  readonly ext1Ecx?: number;
  readonly ext1Edx?: number;
}

export type CpuidWordKey = keyof CpuidMask;

export const WORD_KEYS: readonly CpuidWordKey[] = [
  "leaf1Ecx",
  "leaf1Edx",
  "leaf7Ebx",
  "leaf7Ecx",
  "leaf7Edx",
  "ext1Ecx",
  "ext1Edx",
];

/** Where each word comes from: leaf, subleaf, register. */
export const WORD_SOURCE: Readonly<
  Record<CpuidWordKey, { leaf: number; subleaf: number; reg: "ebx" | "ecx" | "edx" }>
> = {
  leaf1Ecx: { leaf: 1, subleaf: 0, reg: "ecx" },
  leaf1Edx: { leaf: 1, subleaf: 0, reg: "edx" },
  leaf7Ebx: { leaf: 7, subleaf: 0, reg: "ebx" },
  leaf7Ecx: { leaf: 7, subleaf: 0, reg: "ecx" },
  leaf7Edx: { leaf: 7, subleaf: 0, reg: "edx" },
  ext1Ecx: { leaf: 0x80000001, subleaf: 0, reg: "ecx" },
  ext1Edx: { leaf: 0x80000001, subleaf: 0, reg: "edx" },
};

export const INTEL = "GenuineIntel";
export const AMD = "AuthenticAMD";

export interface FeatureInfo {
  /** /proc/cpuinfo spelling. */
  readonly name: string;
  readonly word: CpuidWordKey;
  readonly bit: number;
  readonly description: string;
}

// [name, bit, description] per word, in bit order.
type Row = readonly [string, number, string];

const LEAF1_EDX: readonly Row[] = [
  ["fpu", 0, "x87 FPU on chip"],
  ["vme", 1, "virtual-8086 mode enhancements"],
  ["de", 2, "debugging extensions"],
  ["pse", 3, "page size extension"],
  ["tsc", 4, "time stamp counter"],
  ["msr", 5, "RDMSR/WRMSR"],
  ["pae", 6, "physical address extension"],
  ["mce", 7, "machine check exception"],
  ["cx8", 8, "CMPXCHG8B"],
  ["apic", 9, "on-chip APIC"],
  ["sep", 11, "SYSENTER/SYSEXIT"],
  ["mtrr", 12, "memory type range registers"],
  ["pge", 13, "page global enable"],
  ["mca", 14, "machine check architecture"],
  ["cmov", 15, "conditional move"],
  ["pat", 16, "page attribute table"],
  ["pse36", 17, "36-bit page size extension"],
  ["pn", 18, "processor serial number"],
  ["clflush", 19, "CLFLUSH"],
  ["dts", 21, "debug store"],
  ["acpi", 22, "thermal monitor and clock control"],
  ["mmx", 23, "MMX"],
  ["fxsr", 24, "FXSAVE/FXRSTOR"],
  ["sse", 25, "SSE"],
  ["sse2", 26, "SSE2"],
  ["ss", 27, "self snoop"],
  ["ht", 28, "multi-threading (max APIC ids field valid)"],
  ["tm", 29, "thermal monitor"],
  ["ia64", 30, "IA-64 processor emulating x86"],
  ["pbe", 31, "pending break enable"],
];

const LEAF1_ECX: readonly Row[] = [
  ["pni", 0, "SSE3 (Prescott New Instructions)"],
  ["pclmulqdq", 1, "PCLMULQDQ carry-less multiply"],
  ["dtes64", 2, "64-bit debug store"],
  ["monitor", 3, "MONITOR/MWAIT"],
  ["ds_cpl", 4, "CPL-qualified debug store"],
  ["vmx", 5, "Intel VT-x"],
  ["smx", 6, "safer mode extensions (TXT)"],
  ["est", 7, "enhanced SpeedStep"],
  ["tm2", 8, "thermal monitor 2"],
  ["ssse3", 9, "supplemental SSE3"],
  ["cid", 10, "L1 context ID"],
  ["sdbg", 11, "silicon debug"],
  ["fma", 12, "FMA3"],
  ["cx16", 13, "CMPXCHG16B"],
  ["xtpr", 14, "xTPR update control"],
  ["pdcm", 15, "perfmon and debug capability"],
  ["pcid", 17, "process-context identifiers"],
  ["dca", 18, "direct cache access"],
  ["sse4_1", 19, "SSE4.1"],
  ["sse4_2", 20, "SSE4.2"],
  ["x2apic", 21, "x2APIC"],
  ["movbe", 22, "MOVBE"],
  ["popcnt", 23, "POPCNT"],
  ["tsc_deadline_timer", 24, "TSC deadline timer"],
  ["aes", 25, "AES-NI"],
  ["xsave", 26, "XSAVE/XRSTOR"],
  ["osxsave", 27, "XSAVE enabled by the OS (OS state, not a CPU property)"],
  ["avx", 28, "AVX"],
  ["f16c", 29, "16-bit float conversion"],
  ["rdrand", 30, "RDRAND"],
  ["hypervisor", 31, "running under a hypervisor"],
];

const LEAF7_EBX: readonly Row[] = [
  ["fsgsbase", 0, "RD/WR FS/GS BASE"],
  ["tsc_adjust", 1, "IA32_TSC_ADJUST MSR"],
  ["sgx", 2, "software guard extensions"],
  ["bmi1", 3, "bit manipulation 1"],
  ["hle", 4, "TSX hardware lock elision"],
  ["avx2", 5, "AVX2"],
  ["smep", 7, "supervisor mode execution protection"],
  ["bmi2", 8, "bit manipulation 2"],
  ["erms", 9, "enhanced REP MOVSB/STOSB"],
  ["invpcid", 10, "INVPCID"],
  ["rtm", 11, "TSX restricted transactional memory"],
  ["cqm", 12, "cache QoS monitoring"],
  ["mpx", 14, "memory protection extensions"],
  ["rdt_a", 15, "resource director technology allocation"],
  ["avx512f", 16, "AVX-512 foundation"],
  ["avx512dq", 17, "AVX-512 doubleword/quadword"],
  ["rdseed", 18, "RDSEED"],
  ["adx", 19, "ADCX/ADOX"],
  ["smap", 20, "supervisor mode access prevention"],
  ["avx512ifma", 21, "AVX-512 integer FMA"],
  ["clflushopt", 23, "CLFLUSHOPT"],
  ["clwb", 24, "CLWB"],
  ["intel_pt", 25, "processor trace"],
  ["avx512pf", 26, "AVX-512 prefetch"],
  ["avx512er", 27, "AVX-512 exponential/reciprocal"],
  ["avx512cd", 28, "AVX-512 conflict detection"],
  ["sha_ni", 29, "SHA extensions"],
  ["avx512bw", 30, "AVX-512 byte/word"],
  ["avx512vl", 31, "AVX-512 vector length"],
];

const LEAF7_ECX: readonly Row[] = [
  ["avx512vbmi", 1, "AVX-512 vector byte manipulation"],
  ["umip", 2, "user-mode instruction prevention"],
  ["pku", 3, "protection keys for user pages"],
  ["ospke", 4, "protection keys enabled by the OS (OS state)"],
  ["waitpkg", 5, "UMONITOR/UMWAIT/TPAUSE"],
  ["avx512_vbmi2", 6, "AVX-512 VBMI2"],
  ["gfni", 8, "Galois field instructions"],
  ["vaes", 9, "vector AES"],
  ["vpclmulqdq", 10, "vector carry-less multiply"],
  ["avx512_vnni", 11, "AVX-512 vector neural network instructions"],
  ["avx512_bitalg", 12, "AVX-512 BITALG"],
  ["avx512_vpopcntdq", 14, "AVX-512 VPOPCNTDQ"],
  ["la57", 16, "5-level paging"],
  ["rdpid", 22, "RDPID"],
  ["cldemote", 25, "CLDEMOTE"],
  ["movdiri", 27, "MOVDIRI"],
  ["movdir64b", 28, "MOVDIR64B"],
];

const LEAF7_EDX: readonly Row[] = [
  ["avx512_4vnniw", 2, "AVX-512 4VNNIW"],
  ["avx512_4fmaps", 3, "AVX-512 4FMAPS"],
  ["fsrm", 4, "fast short REP MOV"],
  ["avx512_vp2intersect", 8, "AVX-512 VP2INTERSECT"],
  ["md_clear", 10, "VERW clears CPU buffers"],
  ["serialize", 14, "SERIALIZE"],
  ["tsxldtrk", 16, "TSX suspend load address tracking"],
  ["amx_bf16", 22, "AMX bfloat16"],
  ["avx512_fp16", 23, "AVX-512 FP16"],
  ["amx_tile", 24, "AMX tile architecture"],
  ["amx_int8", 25, "AMX int8"],
  ["flush_l1d", 28, "IA32_FLUSH_CMD MSR"],
  ["arch_capabilities", 29, "IA32_ARCH_CAPABILITIES MSR"],
];

const EXT1_ECX: readonly Row[] = [
  ["lahf_lm", 0, "LAHF/SAHF in 64-bit mode"],
  ["cmp_legacy", 1, "core multi-processing legacy mode"],
  ["svm", 2, "AMD-V secure virtual machine"],
  ["extapic", 3, "extended APIC space"],
  ["cr8_legacy", 4, "CR8 in 32-bit mode"],
  ["abm", 5, "LZCNT (advanced bit manipulation)"],
  ["sse4a", 6, "AMD SSE4a"],
  ["misalignsse", 7, "misaligned SSE mode"],
  ["3dnowprefetch", 8, "PREFETCH/PREFETCHW"],
  ["osvw", 9, "OS visible workaround"],
  ["ibs", 10, "instruction based sampling"],
  ["xop", 11, "AMD XOP"],
  ["skinit", 12, "SKINIT/STGI"],
  ["wdt", 13, "watchdog timer"],
  ["lwp", 15, "lightweight profiling"],
  ["fma4", 16, "AMD FMA4"],
  ["tce", 17, "translation cache extension"],
  ["nodeid_msr", 19, "NodeId MSR"],
  ["tbm", 21, "trailing bit manipulation"],
  ["topoext", 22, "topology extensions"],
  ["perfctr_core", 23, "core performance counter extensions"],
  ["perfctr_nb", 24, "northbridge performance counters"],
  ["bpext", 26, "data breakpoint extension"],
  ["ptsc", 27, "performance time-stamp counter"],
  ["perfctr_llc", 28, "last-level cache performance counters"],
  ["mwaitx", 29, "MONITORX/MWAITX"],
];

const EXT1_EDX: readonly Row[] = [
  ["syscall", 11, "SYSCALL/SYSRET"],
  ["mp", 19, "MP capable"],
  ["nx", 20, "no-execute page protection"],
  ["mmxext", 22, "AMD MMX extensions"],
  ["fxsr_opt", 25, "FXSAVE/FXRSTOR optimizations"],
  ["pdpe1gb", 26, "1 GiB pages"],
  ["rdtscp", 27, "RDTSCP"],
  ["lm", 29, "long mode (x86-64)"],
  ["3dnowext", 30, "AMD extended 3DNow!"],
  ["3dnow", 31, "AMD 3DNow!"],
];

const rows = (word: CpuidWordKey, list: readonly Row[]): FeatureInfo[] =>
  list.map(([name, bit, description]) => ({ name, word, bit, description }));

/** Every feature we know, grouped by word, in bit order. */
export const FEATURE_INFO: readonly FeatureInfo[] = [
  ...rows("leaf1Edx", LEAF1_EDX),
  ...rows("leaf1Ecx", LEAF1_ECX),
  ...rows("leaf7Ebx", LEAF7_EBX),
  ...rows("leaf7Ecx", LEAF7_ECX),
  ...rows("leaf7Edx", LEAF7_EDX),
  ...rows("ext1Ecx", EXT1_ECX),
  ...rows("ext1Edx", EXT1_EDX),
];

export const FEATURE_BY_NAME: ReadonlyMap<string, FeatureInfo> = new Map(
  FEATURE_INFO.map((f) => [f.name, f]),
);

/** Other spellings people write (documentation names) for the cpuinfo name. */
export const FEATURE_ALIASES: Readonly<Record<string, string>> = {
  sse3: "pni",
  aesni: "aes",
  "aes-ni": "aes",
  sha: "sha_ni",
  lzcnt: "abm",
  "sse4.1": "sse4_1",
  "sse4.2": "sse4_2",
  pclmul: "pclmulqdq",
  em64t: "lm",
  x86_64: "lm",
  prefetchw: "3dnowprefetch",
};

/** The feature called `name` (cpuinfo spelling or an alias); throws a one-line Error. */
export function featureInfo(name: string): FeatureInfo {
  const key = name.trim().toLowerCase();
  const f = FEATURE_BY_NAME.get(FEATURE_ALIASES[key] ?? key);
  if (!f) {
    const near = FEATURE_INFO.filter((x) => x.name.startsWith(key.slice(0, 3))).map((x) => x.name);
    const hint = near.length > 0 ? ` (did you mean: ${near.slice(0, 5).join(", ")}?)` : "";
    throw new Error(`unknown CPU feature "${name}"${hint}`);
  }
  return f;
}

const u32 = (n: number): number => n >>> 0;

/** The named features present in the words (bits we have no name for are ignored). */
export function decodeCpuid(words: CpuidWords): Set<string> {
  const out = new Set<string>();
  for (const f of FEATURE_INFO) if ((words[f.word] >>> f.bit) & 1) out.add(f.name);
  return out;
}

export function hasFeature(words: CpuidWords, name: string): boolean {
  const f = featureInfo(name);
  return ((words[f.word] >>> f.bit) & 1) === 1;
}

/** CpuidWords with exactly the given features set (names or aliases; unknown names throw). */
export function encodeCpuid(
  vendor: string,
  family: number,
  model: number,
  features: Iterable<string>,
): CpuidWords {
  const w: Record<CpuidWordKey, number> = {
    leaf1Ecx: 0,
    leaf1Edx: 0,
    leaf7Ebx: 0,
    leaf7Ecx: 0,
    leaf7Edx: 0,
    ext1Ecx: 0,
    ext1Edx: 0,
  };
  for (const name of features) {
    const f = featureInfo(name);
    w[f.word] = u32(w[f.word] | (1 << f.bit));
  }
  return { vendor, family, model, ...w };
}

/** The words as a node with this CPUID mask shows them (AND per word). */
export function applyMask(words: CpuidWords, mask?: CpuidMask): CpuidWords {
  if (!mask) return words;
  const out = { ...words };
  for (const k of WORD_KEYS) out[k] = u32(words[k] & (mask[k] ?? 0xffffffff));
  return out;
}

export interface CpuidRegs {
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

export type CpuidFn = (leaf: number, subleaf: number) => CpuidRegs;

/** Leaf 0's vendor string: ebx, edx, ecx as little-endian ASCII. */
export function vendorFromLeaf0(regs: CpuidRegs): string {
  let s = "";
  for (const r of [regs.ebx, regs.edx, regs.ecx]) {
    for (let i = 0; i < 4; i++) {
      const c = (r >>> (8 * i)) & 0xff;
      if (c !== 0) s += String.fromCharCode(c);
    }
  }
  return s;
}

/**
 * Display family/model from leaf 1 eax, as the SDM (and Linux) compute them:
 * family = base + extended family when base is 0xf; the extended model is
 * prepended for families 6 and up.
 */
export function familyModel(eax: number): { family: number; model: number } {
  const base = (eax >>> 8) & 0xf;
  const family = base === 0xf ? base + ((eax >>> 20) & 0xff) : base;
  let model = (eax >>> 4) & 0xf;
  if (family >= 6) model |= ((eax >>> 16) & 0xf) << 4;
  return { family, model };
}

/**
 * Build CpuidWords from a cpuid(leaf, subleaf) function (the native module's).
 * Leaves beyond the CPU's maximum are not asked (their answer is undefined
 * garbage on real CPUs) and read as zero. `vendor` overrides leaf 0's string.
 */
export function readHostCpuid(cpuid: CpuidFn, vendor?: string): CpuidWords {
  const l0 = cpuid(0, 0);
  const maxLeaf = u32(l0.eax);
  const zero: CpuidRegs = { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  const l1 = maxLeaf >= 1 ? cpuid(1, 0) : zero;
  const l7 = maxLeaf >= 7 ? cpuid(7, 0) : zero;
  const maxExt = u32(cpuid(0x80000000, 0).eax);
  // A CPU without extended leaves echoes something below 0x80000000 here.
  const e1 = maxExt >= 0x80000001 && maxExt <= 0x8fffffff ? cpuid(0x80000001, 0) : zero;
  const { family, model } = familyModel(u32(l1.eax));
  return {
    vendor: vendor ?? vendorFromLeaf0(l0),
    family,
    model,
    leaf1Ecx: u32(l1.ecx),
    leaf1Edx: u32(l1.edx),
    leaf7Ebx: u32(l7.ebx),
    leaf7Ecx: u32(l7.ecx),
    leaf7Edx: u32(l7.edx),
    ext1Ecx: u32(e1.ecx),
    ext1Edx: u32(e1.edx),
  };
}
