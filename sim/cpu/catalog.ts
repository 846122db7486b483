// Real x86 server/desktop CPUs from 2002 to 2023, as the simulator's nodes use
// them (`cpu: "intel-westmere-x5670"` in a node file). Each feature list names
// the features of src/cpt/cpuid.ts's table the part reports as shipped (not
// bits added or removed by later microcode, and not OS-state bits such as
// osxsave/ospke); it is not every CPUID bit of the part. Lists are written as
// "previous generation + what it added" so the lineage stays readable.

import { AMD, type CpuidWords, encodeCpuid, INTEL } from "../../src/cpt/cpuid.ts";

export interface CpuModel {
  /** Short kebab-case id: vendor-microarchitecture-part. */
  readonly id: string;
  readonly name: string;
  readonly vendor: typeof INTEL | typeof AMD;
  readonly microarchitecture: string;
  /** Display family and model (as /proc/cpuinfo prints them). */
  readonly family: number;
  readonly model: number;
  /** Year of launch. */
  readonly year: number;
  /** /proc/cpuinfo feature names (src/cpt/cpuid.ts). */
  readonly features: readonly string[];
  /** Public documentation the entry was written from. */
  readonly source: string;
  /** The CPUID words, built from the fields above. */
  readonly words: CpuidWords;
}

// ---- documentation shared by the sources --------------------------------
const SDM_MODELS =
  "family/model: Intel SDM Vol. 4, table 2-1 'CPUID signature values of DisplayFamily_DisplayModel' (https://www.intel.com/content/www/us/en/developer/articles/technical/intel-sdm.html)";
const QEMU =
  "QEMU CPU models manual, qemu-cpu-models(7) (https://www.qemu.org/docs/master/system/qemu-cpu-models.html)";
const LINUX_NAMES =
  "flag names: Linux arch/x86/include/asm/cpufeatures.h (https://github.com/torvalds/linux/blob/master/arch/x86/include/asm/cpufeatures.h)";
const AMD_CPUID_SPEC =
  "AMD CPUID Specification, publication 25481 (https://www.amd.com/system/files/TechDocs/25481.pdf)";
const AMD_APM =
  "AMD64 Architecture Programmer's Manual Vol. 3, publication 24594, appendix E (https://www.amd.com/system/files/TechDocs/24594.pdf)";

const intelSource = (part: string, qemuModel: string | null): string =>
  [
    `Intel ARK product page for the ${part}: instruction set and extensions (https://ark.intel.com)`,
    SDM_MODELS,
    qemuModel
      ? `the generation's flag set as documented by QEMU's "${qemuModel}" model, ${QEMU}`
      : "",
    LINUX_NAMES,
  ]
    .filter(Boolean)
    .join("; ");

const amdSource = (part: string, page: string, qemuModel: string, extra: string): string =>
  [
    `AMD product documentation for the ${part} (${page})`,
    extra,
    `the generation's flag set as documented by QEMU's "${qemuModel}" model, ${QEMU}`,
    LINUX_NAMES,
  ].join("; ");

// ---- feature lineages ----------------------------------------------------
/** "a b c" -> ["a", "b", "c"]: keeps the long lists compact and greppable. */
const w = (list: string): string[] => list.split(/\s+/).filter(Boolean);
const without = (base: readonly string[], drop: string): string[] =>
  base.filter((f) => !w(drop).includes(f));

const X86_BASE = w(`fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36
  clflush mmx fxsr sse sse2`);
const INTEL_EDX = [...X86_BASE, ...w("dts acpi ss ht tm pbe")];

const P4_NORTHWOOD = [...INTEL_EDX];
const CONROE = [
  ...INTEL_EDX,
  ...w("pni dtes64 monitor ds_cpl vmx est tm2 ssse3 cx16 xtpr pdcm syscall nx lm lahf_lm"),
];
const PENRYN = [...CONROE, ...w("dca sse4_1")];
const NEHALEM = [...PENRYN, ...w("sse4_2 popcnt rdtscp")];
const WESTMERE = [...NEHALEM, ...w("smx pclmulqdq pcid aes pdpe1gb")];
const SANDYBRIDGE = [...WESTMERE, ...w("x2apic tsc_deadline_timer xsave avx")];
const IVYBRIDGE = [...SANDYBRIDGE, ...w("f16c rdrand fsgsbase smep erms")];
// Haswell-EP as it runs after Intel's erratum fix disabled TSX (no hle/rtm).
const HASWELL = [...IVYBRIDGE, ...w("sdbg fma movbe abm tsc_adjust bmi1 avx2 bmi2 invpcid cqm")];
const BROADWELL = [...HASWELL, ...w("3dnowprefetch hle rtm rdt_a rdseed adx smap intel_pt")];
const SKYLAKE_SP = [
  ...BROADWELL,
  ...w("mpx avx512f avx512dq clflushopt clwb avx512cd avx512bw avx512vl pku"),
];
const CASCADELAKE = [...SKYLAKE_SP, ...w("avx512_vnni md_clear flush_l1d arch_capabilities")];
// Ice Lake drops MPX (and HLE), adds SHA and the Ice Lake AVX-512 subsets.
const ICELAKE_SP = [
  ...without(CASCADELAKE, "mpx hle"),
  ...w(`sgx avx512ifma sha_ni avx512vbmi umip avx512_vbmi2 gfni vaes vpclmulqdq avx512_bitalg
    avx512_vpopcntdq la57 rdpid fsrm`),
];
const SAPPHIRERAPIDS = [
  ...ICELAKE_SP,
  ...w(`waitpkg cldemote movdiri movdir64b serialize tsxldtrk amx_bf16 avx512_fp16 amx_tile
    amx_int8`),
];

const K8_SLEDGEHAMMER = [...X86_BASE, ...w("syscall nx mmxext fxsr_opt lm 3dnowext 3dnow")];
const K8_TOLEDO = [...K8_SLEDGEHAMMER, ...w("ht pni lahf_lm cmp_legacy")];
const K8_SANTA_ROSA = [...K8_TOLEDO, ...w("cx16 svm extapic cr8_legacy rdtscp")];
const K10 = [
  ...K8_SANTA_ROSA,
  ...w("monitor popcnt abm sse4a misalignsse 3dnowprefetch osvw ibs skinit wdt pdpe1gb"),
];
// Family 15h: SSE4.1/4.2, AES, AVX, XOP, FMA4; 3DNow! is gone (only PREFETCHW stays).
const BULLDOZER = [
  ...without(K10, "3dnow 3dnowext"),
  ...w(`pclmulqdq ssse3 sse4_1 sse4_2 aes xsave avx xop lwp fma4 tce nodeid_msr topoext
    perfctr_core perfctr_nb`),
];
const PILEDRIVER = [...BULLDOZER, ...w("fma f16c bmi1 tbm")];
// Zen drops XOP/FMA4/TBM/LWP and the northbridge-era NodeId MSR, adds Intel's 2013-2016 ISA.
const ZEN1 = [
  ...without(PILEDRIVER, "xop fma4 tbm lwp nodeid_msr"),
  ...w(`movbe rdrand fsgsbase avx2 smep bmi2 rdseed adx smap clflushopt sha_ni bpext
    perfctr_llc mwaitx`),
];
const ZEN2 = [...ZEN1, ...w("x2apic clwb umip rdpid")];
const ZEN3 = [...ZEN2, ...w("pcid erms invpcid fsrm pku vaes vpclmulqdq")];
const ZEN4 = [
  ...ZEN3,
  ...w(`avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl avx512vbmi avx512_vbmi2 gfni
    avx512_vnni avx512_bitalg avx512_vpopcntdq la57`),
];

type Entry = Omit<CpuModel, "words">;

const ENTRIES: readonly Entry[] = [
  {
    id: "intel-northwood-p4",
    name: "Intel Pentium 4 2.8 GHz (Northwood, 32-bit only)",
    vendor: INTEL,
    microarchitecture: "NetBurst (Northwood)",
    family: 15,
    model: 2,
    year: 2002,
    features: P4_NORTHWOOD,
    source: `Intel Pentium 4 processor datasheet and ${intelSource("Pentium 4 2.80 GHz (Northwood)", null)}`,
  },
  {
    id: "intel-conroe-e6600",
    name: "Intel Core 2 Duo E6600",
    vendor: INTEL,
    microarchitecture: "Core (Conroe)",
    family: 6,
    model: 15,
    year: 2006,
    features: CONROE,
    source: intelSource("Core 2 Duo E6600", "Conroe"),
  },
  {
    id: "intel-penryn-e5450",
    name: "Intel Xeon E5450 (Harpertown)",
    vendor: INTEL,
    microarchitecture: "Penryn",
    family: 6,
    model: 23,
    year: 2007,
    features: PENRYN,
    source: intelSource("Xeon E5450", "Penryn"),
  },
  {
    id: "intel-nehalem-x5570",
    name: "Intel Xeon X5570 (Gainestown)",
    vendor: INTEL,
    microarchitecture: "Nehalem-EP",
    family: 6,
    model: 26,
    year: 2009,
    features: NEHALEM,
    source: intelSource("Xeon X5570", "Nehalem"),
  },
  {
    id: "intel-westmere-x5670",
    name: "Intel Xeon X5670",
    vendor: INTEL,
    microarchitecture: "Westmere-EP",
    family: 6,
    model: 44,
    year: 2010,
    features: WESTMERE,
    source: intelSource("Xeon X5670", "Westmere"),
  },
  {
    id: "intel-sandybridge-e5-2670",
    name: "Intel Xeon E5-2670",
    vendor: INTEL,
    microarchitecture: "Sandy Bridge-EP",
    family: 6,
    model: 45,
    year: 2012,
    features: SANDYBRIDGE,
    source: intelSource("Xeon E5-2670", "SandyBridge"),
  },
  {
    id: "intel-ivybridge-e5-2650v2",
    name: "Intel Xeon E5-2650 v2",
    vendor: INTEL,
    microarchitecture: "Ivy Bridge-EP",
    family: 6,
    model: 62,
    year: 2013,
    features: IVYBRIDGE,
    source: intelSource("Xeon E5-2650 v2", "IvyBridge"),
  },
  {
    id: "intel-haswell-e5-2680v3",
    name: "Intel Xeon E5-2680 v3",
    vendor: INTEL,
    microarchitecture: "Haswell-EP",
    family: 6,
    model: 63,
    year: 2014,
    features: HASWELL,
    source: intelSource("Xeon E5-2680 v3", "Haswell-noTSX"),
  },
  {
    id: "intel-broadwell-e5-2690v4",
    name: "Intel Xeon E5-2690 v4",
    vendor: INTEL,
    microarchitecture: "Broadwell-EP",
    family: 6,
    model: 79,
    year: 2016,
    features: BROADWELL,
    source: intelSource("Xeon E5-2690 v4", "Broadwell"),
  },
  {
    id: "intel-skylake-sp-gold-6148",
    name: "Intel Xeon Gold 6148",
    vendor: INTEL,
    microarchitecture: "Skylake-SP",
    family: 6,
    model: 85,
    year: 2017,
    features: SKYLAKE_SP,
    source: intelSource("Xeon Gold 6148", "Skylake-Server"),
  },
  {
    id: "intel-cascadelake-gold-6248",
    name: "Intel Xeon Gold 6248",
    vendor: INTEL,
    microarchitecture: "Cascade Lake-SP",
    family: 6,
    model: 85,
    year: 2019,
    features: CASCADELAKE,
    source: intelSource("Xeon Gold 6248", "Cascadelake-Server"),
  },
  {
    id: "intel-icelake-sp-8380",
    name: "Intel Xeon Platinum 8380",
    vendor: INTEL,
    microarchitecture: "Ice Lake-SP",
    family: 6,
    model: 106,
    year: 2021,
    features: ICELAKE_SP,
    source: intelSource("Xeon Platinum 8380", "Icelake-Server"),
  },
  {
    id: "intel-sapphirerapids-8480",
    name: "Intel Xeon Platinum 8480+",
    vendor: INTEL,
    microarchitecture: "Sapphire Rapids",
    family: 6,
    model: 143,
    year: 2023,
    features: SAPPHIRERAPIDS,
    source: intelSource("Xeon Platinum 8480+", "SapphireRapids"),
  },
  {
    id: "amd-k8-opteron-248",
    name: "AMD Opteron 248",
    vendor: AMD,
    microarchitecture: "K8 (SledgeHammer)",
    family: 15,
    model: 5,
    year: 2003,
    features: K8_SLEDGEHAMMER,
    source: amdSource("Opteron 248", "https://www.amd.com", "Opteron_G1", AMD_CPUID_SPEC),
  },
  {
    id: "amd-k8-athlon64-x2-4800",
    name: "AMD Athlon 64 X2 4800+ (Toledo)",
    vendor: AMD,
    microarchitecture: "K8 rev E (Toledo)",
    family: 15,
    model: 35,
    year: 2005,
    features: K8_TOLEDO,
    source: amdSource("Athlon 64 X2 4800+", "https://www.amd.com", "Opteron_G1", AMD_CPUID_SPEC),
  },
  {
    id: "amd-k8-opteron-2218",
    name: "AMD Opteron 2218 (Santa Rosa)",
    vendor: AMD,
    microarchitecture: "K8 rev F (Santa Rosa)",
    family: 15,
    model: 65,
    year: 2006,
    features: K8_SANTA_ROSA,
    source: amdSource("Opteron 2218", "https://www.amd.com", "Opteron_G2", AMD_CPUID_SPEC),
  },
  {
    id: "amd-k10-opteron-2356",
    name: "AMD Opteron 2356 (Barcelona)",
    vendor: AMD,
    microarchitecture: "K10 (Barcelona)",
    family: 16,
    model: 2,
    year: 2007,
    features: K10,
    source: amdSource(
      "Opteron 2356",
      "https://www.amd.com",
      "Opteron_G3",
      `${AMD_CPUID_SPEC}; BIOS and Kernel Developer's Guide for AMD Family 10h, publication 31116`,
    ),
  },
  {
    id: "amd-k10-opteron-2384",
    name: "AMD Opteron 2384 (Shanghai)",
    vendor: AMD,
    microarchitecture: "K10 (Shanghai)",
    family: 16,
    model: 4,
    year: 2008,
    features: K10,
    source: amdSource("Opteron 2384", "https://www.amd.com", "Opteron_G3", AMD_CPUID_SPEC),
  },
  {
    id: "amd-k10-opteron-2435",
    name: "AMD Opteron 2435 (Istanbul)",
    vendor: AMD,
    microarchitecture: "K10 (Istanbul)",
    family: 16,
    model: 8,
    year: 2009,
    features: K10,
    source: amdSource("Opteron 2435", "https://www.amd.com", "Opteron_G3", AMD_CPUID_SPEC),
  },
  {
    id: "amd-bulldozer-opteron-6276",
    name: "AMD Opteron 6276 (Interlagos)",
    vendor: AMD,
    microarchitecture: "Bulldozer",
    family: 21,
    model: 1,
    year: 2011,
    features: BULLDOZER,
    source: amdSource(
      "Opteron 6276",
      "https://www.amd.com",
      "Opteron_G4",
      `${AMD_APM}; BIOS and Kernel Developer's Guide for AMD Family 15h Models 00h-0Fh, publication 42301`,
    ),
  },
  {
    id: "amd-piledriver-opteron-6380",
    name: "AMD Opteron 6380 (Abu Dhabi)",
    vendor: AMD,
    microarchitecture: "Piledriver",
    family: 21,
    model: 2,
    year: 2012,
    features: PILEDRIVER,
    source: amdSource("Opteron 6380", "https://www.amd.com", "Opteron_G5", AMD_APM),
  },
  {
    id: "amd-epyc-7601",
    name: "AMD EPYC 7601 (Naples)",
    vendor: AMD,
    microarchitecture: "Zen",
    family: 23,
    model: 1,
    year: 2017,
    features: ZEN1,
    source: amdSource(
      "EPYC 7601",
      "https://www.amd.com/en/products/cpu/amd-epyc-7601",
      "EPYC",
      `${AMD_APM}; Processor Programming Reference for AMD Family 17h Model 01h, publication 54945`,
    ),
  },
  {
    id: "amd-epyc-7742",
    name: "AMD EPYC 7742 (Rome)",
    vendor: AMD,
    microarchitecture: "Zen 2",
    family: 23,
    model: 49,
    year: 2019,
    features: ZEN2,
    source: amdSource(
      "EPYC 7742",
      "https://www.amd.com/en/products/cpu/amd-epyc-7742",
      "EPYC-Rome",
      AMD_APM,
    ),
  },
  {
    id: "amd-epyc-7763",
    name: "AMD EPYC 7763 (Milan)",
    vendor: AMD,
    microarchitecture: "Zen 3",
    family: 25,
    model: 1,
    year: 2021,
    features: ZEN3,
    source: amdSource(
      "EPYC 7763",
      "https://www.amd.com/en/products/cpu/amd-epyc-7763",
      "EPYC-Milan",
      AMD_APM,
    ),
  },
  {
    id: "amd-epyc-9654",
    name: "AMD EPYC 9654 (Genoa)",
    vendor: AMD,
    microarchitecture: "Zen 4",
    family: 25,
    model: 17,
    year: 2022,
    features: ZEN4,
    source: amdSource(
      "EPYC 9654",
      "https://www.amd.com/en/products/cpu/amd-epyc-9654",
      "EPYC-Genoa",
      AMD_APM,
    ),
  },
];

export const CPU_CATALOG: readonly CpuModel[] = ENTRIES.map((e) => ({
  ...e,
  words: encodeCpuid(e.vendor, e.family, e.model, e.features),
}));

const BY_ID: ReadonlyMap<string, CpuModel> = new Map(CPU_CATALOG.map((c) => [c.id, c]));

export function cpuById(id: string): CpuModel | undefined {
  return BY_ID.get(id);
}

/** The CPUID words of a node's `cpu`: a catalog id, or words given as they are. */
export function cpuWords(cpu: string | CpuidWords): CpuidWords {
  if (typeof cpu !== "string") return cpu;
  const hit = BY_ID.get(cpu);
  if (hit) return hit.words;
  // Suggest the ids sharing the most words with what was written.
  const parts = cpu
    .toLowerCase()
    .split(/[-_\s]+/)
    .filter(Boolean);
  const score = (c: CpuModel) => parts.filter((p) => c.id.includes(p)).length;
  const ranked = [...CPU_CATALOG].sort((a, b) => score(b) - score(a));
  const shown = ranked.slice(0, 5).map((c) => c.id);
  throw new Error(
    `unknown CPU "${cpu}" (known ids include: ${shown.join(", ")}; ${CPU_CATALOG.length} in all)`,
  );
}
