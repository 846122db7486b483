// The CPU model: CPUID decode/encode, node flags per generation, the catalog, masks.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CPU_CATALOG, cpuById, cpuWords } from "../sim/cpu/catalog.ts";
import { baselineMask, combineMasks, featuresHiddenBy, maskFromFeatures } from "../sim/cpu/mask.ts";
import { bitMask } from "../src/cpt/bits.ts";
import {
  AMD,
  applyMask,
  type CpuidRegs,
  type CpuidWords,
  decodeCpuid,
  encodeCpuid,
  FEATURE_INFO,
  familyModel,
  featureInfo,
  INTEL,
  readHostCpuid,
  WORD_KEYS,
} from "../src/cpt/cpuid.ts";
import { GENERATION_BY_ID, GENERATIONS, type Generation } from "../src/cpt/generations.ts";
import { describeFlags, type NodeFlagsInput, nodeFlags } from "../src/cpt/nodeflags.ts";

const ALL_NAMES = FEATURE_INFO.map((f) => f.name);
const gen = (id: string): Generation => {
  const g = GENERATION_BY_ID.get(id);
  if (!g) throw new Error(`no generation ${id}`);
  return g;
};
const cat = (id: string): CpuidWords => cpuWords(id);
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
const has = (word: number, name: string): boolean => (word & bitMask(name)) !== 0;

const featureSubset = fc.subarray(ALL_NAMES);
const arbWords = fc
  .record({
    vendor: fc.constantFrom(INTEL, AMD, "HygonGenuine"),
    family: fc.integer({ min: 0, max: 0x10e }),
    model: fc.integer({ min: 0, max: 0xff }),
    features: featureSubset,
  })
  .map((r) => encodeCpuid(r.vendor, r.family, r.model, r.features));
const arbMask = fc.subarray(ALL_NAMES).map((hide) => maskFromFeatures(hide));

const node = (over: Partial<NodeFlagsInput> & { cpuid: CpuidWords }): number =>
  nodeFlags({
    generation: gen("042stab109"),
    arch64: true,
    ipv6: true,
    slmWithoutDmprst: false,
    ...over,
  });

describe("CPUID table", () => {
  test("names are unique, bits unique per word, at least 40 features", () => {
    expect(new Set(ALL_NAMES).size).toBe(ALL_NAMES.length);
    const slots = FEATURE_INFO.map((f) => `${f.word}:${f.bit}`);
    expect(new Set(slots).size).toBe(slots.length);
    expect(FEATURE_INFO.length).toBeGreaterThanOrEqual(40);
    for (const f of FEATURE_INFO) expect(f.bit >= 0 && f.bit <= 31).toBe(true);
  });

  test("standard positions of the bits the kernel reads", () => {
    const at = (n: string) => {
      const f = featureInfo(n);
      return `${f.word}:${f.bit}`;
    };
    expect(at("cmov")).toBe("leaf1Edx:15");
    expect(at("sep")).toBe("leaf1Edx:11");
    expect(at("fxsr")).toBe("leaf1Edx:24");
    expect(at("sse2")).toBe("leaf1Edx:26");
    expect(at("sse4_1")).toBe("leaf1Ecx:19");
    expect(at("sse4_2")).toBe("leaf1Ecx:20");
    expect(at("aes")).toBe("leaf1Ecx:25");
    expect(at("xsave")).toBe("leaf1Ecx:26");
    expect(at("avx")).toBe("leaf1Ecx:28");
    expect(at("rdrand")).toBe("leaf1Ecx:30");
    expect(at("avx2")).toBe("leaf7Ebx:5");
    expect(at("avx512f")).toBe("leaf7Ebx:16");
    expect(at("sse4a")).toBe("ext1Ecx:6");
    expect(at("syscall")).toBe("ext1Edx:11");
    expect(at("lm")).toBe("ext1Edx:29");
    expect(at("3dnow")).toBe("ext1Edx:31");
    expect(at("3dnowext")).toBe("ext1Edx:30");
  });

  test("aliases resolve, unknown names throw one clear line", () => {
    expect(featureInfo("sse3").name).toBe("pni");
    expect(featureInfo("AESNI").name).toBe("aes");
    expect(() => encodeCpuid(INTEL, 6, 1, ["avx3"])).toThrow('unknown CPU feature "avx3"');
    expect(() => featureInfo("avx3")).toThrow(/did you mean: avx/);
  });

  test("property: decode(encode(f)) = f, vendor/family/model kept", () => {
    fc.assert(
      fc.property(featureSubset, fc.integer({ min: 0, max: 300 }), (features, model) => {
        const w = encodeCpuid(AMD, 25, model, features);
        expect(sorted(decodeCpuid(w))).toEqual(sorted(features));
        expect([w.vendor, w.family, w.model]).toEqual([AMD, 25, model]);
        for (const k of WORD_KEYS) expect(w[k] >>> 0).toBe(w[k]);
      }),
    );
  });

  test("property: applyMask hides exactly the masked features", () => {
    fc.assert(
      fc.property(featureSubset, featureSubset, (features, hide) => {
        const w = applyMask(encodeCpuid(INTEL, 6, 85, features), maskFromFeatures(hide));
        const expected = features.filter((f) => !hide.includes(f));
        expect(sorted(decodeCpuid(w))).toEqual(sorted(expected));
      }),
    );
  });

  test("applyMask without a mask returns the words unchanged", () => {
    const w = cat("amd-epyc-7742");
    expect(applyMask(w)).toEqual(w);
    expect(applyMask(w, {})).toEqual(w);
  });
});

describe("readHostCpuid", () => {
  /** A fake CPU answering cpuid like the native module; records the leaves asked. */
  function fakeCpu(leaves: readonly (readonly [number, Partial<CpuidRegs>])[]) {
    const asked: number[] = [];
    const answers = new Map(leaves);
    const fn = (leaf: number, sub: number): CpuidRegs => {
      asked.push(leaf);
      expect(sub).toBe(0);
      return { eax: 0, ebx: 0, ecx: 0, edx: 0, ...(answers.get(leaf) ?? {}) };
    };
    return { fn, asked };
  }
  const vendorRegs = (v: string): Partial<CpuidRegs> => {
    const word = (s: string) =>
      [...s].reduce((acc, ch, i) => (acc | (ch.charCodeAt(0) << (8 * i))) >>> 0, 0);
    return { ebx: word(v.slice(0, 4)), edx: word(v.slice(4, 8)), ecx: word(v.slice(8, 12)) };
  };
  /** Leaf 1 eax for a display family/model (the inverse of the SDM rule). */
  const signature = (family: number, model: number): number => {
    const base = Math.min(family, 0xf);
    const ext = family >= 0xf ? family - 0xf : 0;
    return ((ext << 20) | ((model >> 4) << 16) | (base << 8) | ((model & 0xf) << 4) | 1) >>> 0;
  };

  test("family/model decoding incl. extended fields", () => {
    expect(familyModel(0x000306e4)).toEqual({ family: 6, model: 62 }); // Ivy Bridge-EP
    expect(familyModel(0x00830f10)).toEqual({ family: 23, model: 49 }); // Rome
    expect(familyModel(0x00a10f11)).toEqual({ family: 25, model: 17 }); // Genoa
    expect(familyModel(0x00000f51)).toEqual({ family: 15, model: 5 }); // K8
    expect(familyModel(0x00000f29)).toEqual({ family: 15, model: 2 }); // Northwood
    expect(familyModel(0x000006fb)).toEqual({ family: 6, model: 15 }); // Conroe
    // Family 5 and below ignore the extended model field.
    expect(familyModel(0x000f0543)).toEqual({ family: 5, model: 4 });
  });

  test("every catalog CPU survives a trip through a fake cpuid", () => {
    for (const cpu of CPU_CATALOG) {
      const w = cpu.words;
      const { fn } = fakeCpu([
        [0, { eax: 0xd, ...vendorRegs(w.vendor) }],
        [1, { eax: signature(w.family, w.model), ecx: w.leaf1Ecx, edx: w.leaf1Edx }],
        [7, { ebx: w.leaf7Ebx, ecx: w.leaf7Ecx, edx: w.leaf7Edx }],
        [0x80000000, { eax: 0x80000008 }],
        [0x80000001, { ecx: w.ext1Ecx, edx: w.ext1Edx }],
      ]);
      expect(readHostCpuid(fn)).toEqual(w);
    }
  });

  test("leaves above the maximum are never asked and read as zero", () => {
    const { fn, asked } = fakeCpu([
      [0, { eax: 2, ...vendorRegs(INTEL) }],
      [1, { eax: signature(15, 2), edx: 0xbfebfbff }],
      [7, { ebx: 0xffffffff }],
      [0x80000000, { eax: 0x80000000 }],
      [0x80000001, { edx: 0xffffffff }],
    ]);
    const w = readHostCpuid(fn);
    expect(asked).not.toContain(7);
    expect(asked).not.toContain(0x80000001);
    expect([w.leaf7Ebx, w.ext1Edx, w.ext1Ecx]).toEqual([0, 0, 0]);
    expect(w.leaf1Edx).toBe(0xbfebfbff);
    expect(w.vendor).toBe(INTEL);
  });

  test("a vendor argument overrides leaf 0", () => {
    const { fn } = fakeCpu([[0, { eax: 1, ...vendorRegs(AMD) }]]);
    expect(readHostCpuid(fn).vendor).toBe(AMD);
    expect(readHostCpuid(fn, "HygonGenuine").vendor).toBe("HygonGenuine");
  });
});

describe("node flags", () => {
  const EXAMPLE_FEATURES = [
    ...["fpu", "cmov", "mmx", "fxsr", "sse", "sse2", "sep", "pni", "ssse3", "sse4_1", "sse4_2"],
    ...["popcnt", "aes", "xsave", "avx", "rdrand", "syscall", "nx", "lm", "lahf_lm"],
  ];

  test("the spec's example: 64-bit Intel, SSE4.2 AVX AES-NI RDRAND, IPv6 -> 0x2e02759f", () => {
    const word = node({ cpuid: encodeCpuid(INTEL, 6, 62, EXAMPLE_FEATURES) });
    expect(word).toBe(771913119);
    expect(word).toBe(0x2e02759f);
    const names = describeFlags(word, gen("042stab109")).map((f) => f.name);
    expect(names).toEqual([
      ...["cmov", "fxsr", "sse", "sse2", "mmx", "sysenter", "emt64", "syscall", "sep32"],
      ...["sse4_1", "sse4_2", "namespaces", "xsave", "avx", "aesni", "rdrand"],
    ]);
  });

  test("the example holds for real Ivy Bridge/Haswell/Broadwell parts on 109", () => {
    for (const id of ["intel-ivybridge-e5-2650v2", "intel-haswell-e5-2680v3"]) {
      expect(node({ cpuid: cat(id) })).toBe(0x2e02759f);
    }
    expect(node({ cpuid: cat("intel-broadwell-e5-2690v4") })).toBe(0x2e02759f);
  });

  test("Intel: sysenter+sep32, no syscall32; AMD: syscall32, no sysenter/sep32 (042stab)", () => {
    for (const id of ["042stab061", "042stab093", "042stab109"]) {
      const g = gen(id);
      const intel = node({ cpuid: cat("intel-westmere-x5670"), generation: g });
      expect([has(intel, "sysenter"), has(intel, "sep32"), has(intel, "syscall32")]).toEqual([
        true,
        true,
        false,
      ]);
      expect(has(intel, "syscall")).toBe(true);
      const amd = node({ cpuid: cat("amd-epyc-7742"), generation: g });
      expect([has(amd, "sysenter"), has(amd, "sep32"), has(amd, "syscall32")]).toEqual([
        false,
        false,
        true,
      ]);
      expect(has(amd, "syscall")).toBe(true);
    }
  });

  test("2.6.32-pre follows the vendor rules; 028stab056's sysenter ignores the vendor", () => {
    const pre = gen("2.6.32-pre");
    expect(has(node({ cpuid: cat("amd-k8-opteron-248"), generation: pre }), "sysenter")).toBe(
      false,
    );
    expect(has(node({ cpuid: cat("amd-k8-opteron-248"), generation: pre }), "syscall32")).toBe(
      true,
    );
    const old = gen("028stab056");
    for (const id of ["amd-k8-opteron-248", "intel-conroe-e6600", "amd-epyc-7742"]) {
      const w = node({ cpuid: cat(id), generation: old });
      expect(has(w, "sysenter")).toBe(true);
      // 2.6.18 has no syscall/syscall32/sep32 bits at all.
      expect(w & bitMask("syscall", "syscall32", "sep32")).toBe(0);
    }
    // A CPU without SEP gets no sysenter anywhere.
    const noSep = encodeCpuid(AMD, 15, 5, ["cmov", "fxsr", "sse", "sse2", "mmx", "syscall", "lm"]);
    expect(has(node({ cpuid: noSep, generation: old }), "sysenter")).toBe(false);
  });

  test("028stab056 node of a K8: exactly its eight legacy bits plus emt64", () => {
    const w = node({ cpuid: cat("amd-k8-opteron-248"), generation: gen("028stab056") });
    expect(describeFlags(w, gen("028stab056")).map((f) => f.name)).toEqual([
      ...["cmov", "fxsr", "sse", "sse2", "mmx", "3dnow", "3dnowext", "sysenter", "emt64"],
    ]);
  });

  test("a mask hiding avx changes the flags on 042stab109 but not on 042stab093", () => {
    const cpu = cat("intel-sandybridge-e5-2670");
    const mask = maskFromFeatures(["avx"]);
    const raw109 = node({ cpuid: cpu });
    const masked109 = node({ cpuid: cpu, mask });
    expect(has(raw109, "avx")).toBe(true);
    expect(has(masked109, "avx")).toBe(false);
    expect((raw109 ^ masked109) >>> 0).toBe(bitMask("avx"));
    const g93 = gen("042stab093");
    expect(node({ cpuid: cpu, mask, generation: g93 })).toBe(node({ cpuid: cpu, generation: g93 }));
    expect(has(node({ cpuid: cpu, mask, generation: g93 }), "avx")).toBe(true);
  });

  test("kernel-caps generations see the mask (documented decision)", () => {
    const cpu = cat("amd-k10-opteron-2356");
    const mask = maskFromFeatures(["3dnow", "3dnowext"]);
    for (const id of ["028stab056", "2.6.32-pre"]) {
      const g = gen(id);
      expect(has(node({ cpuid: cpu, generation: g }), "3dnow")).toBe(true);
      const w = node({ cpuid: cpu, mask, generation: g });
      expect(w & bitMask("3dnow", "3dnowext")).toBe(0);
    }
  });

  test("property: raw-cpuid generations ignore any mask; masked ones never gain bits", () => {
    const raw = GENERATIONS.filter((g) => g.flagSource === "raw-cpuid");
    const masked = GENERATIONS.filter((g) => g.flagSource !== "raw-cpuid");
    expect(raw.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(arbWords, arbMask, fc.boolean(), (cpuid, mask, arch64) => {
        for (const g of raw) {
          expect(node({ cpuid, mask, generation: g, arch64 })).toBe(
            node({ cpuid, generation: g, arch64 }),
          );
        }
        for (const g of masked) {
          const plain = node({ cpuid, generation: g, arch64 });
          const hidden = node({ cpuid, mask, generation: g, arch64 });
          expect((hidden & ~plain) >>> 0).toBe(0);
        }
      }),
    );
  });

  test("rdrand only from 108 on", () => {
    const cpu = cat("intel-ivybridge-e5-2650v2");
    for (const g of GENERATIONS) {
      const expected = g.id === "042stab108" || g.id === "042stab109";
      expect(has(node({ cpuid: cpu, generation: g }), "rdrand")).toBe(expected);
      expect(g.hasRdrand).toBe(expected);
    }
  });

  test("no_ipv6 and namespaces only on generations with OS bits", () => {
    const cpu = cat("intel-nehalem-x5570");
    for (const g of GENERATIONS) {
      const withV6 = node({ cpuid: cpu, generation: g, ipv6: true });
      const without = node({ cpuid: cpu, generation: g, ipv6: false });
      expect(has(withV6, "namespaces")).toBe(g.osBits);
      expect(has(without, "namespaces")).toBe(g.osBits);
      expect(has(withV6, "no_ipv6")).toBe(false);
      expect(has(without, "no_ipv6")).toBe(g.osBits);
    }
    expect(GENERATIONS.some((g) => g.osBits)).toBe(true);
    expect(GENERATIONS.some((g) => !g.osBits)).toBe(true);
  });

  test("SLM bit 24 on 2.6.32-pre and 042stab, never on 028stab056", () => {
    const cpu = cat("intel-penryn-e5450");
    for (const g of GENERATIONS) {
      expect(has(node({ cpuid: cpu, generation: g, slmWithoutDmprst: false }), "slm_dmprst")).toBe(
        false,
      );
      const slm = node({ cpuid: cpu, generation: g, slmWithoutDmprst: true });
      expect(has(slm, "slm_dmprst")).toBe(g.id !== "028stab056");
    }
  });

  test("property: a 64-bit kernel always gives emt64+sse2; only defined bits appear", () => {
    fc.assert(
      fc.property(
        arbWords,
        fc.option(arbMask, { nil: undefined }),
        fc.constantFrom(...GENERATIONS),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (cpuid, mask, generation, arch64, ipv6, slm) => {
          const w = nodeFlags({ cpuid, mask, generation, arch64, ipv6, slmWithoutDmprst: slm });
          expect(w >>> 0).toBe(w);
          expect((w & ~generation.definedBits) >>> 0).toBe(0);
          expect(w & bitMask("ia64")).toBe(0);
          if (arch64) expect(has(w, "emt64") && has(w, "sse2")).toBe(true);
          else expect(has(w, "emt64")).toBe(false);
          // syscall32 and sysenter never come together on a 64-bit 042stab node.
          if (arch64 && generation.line === "2.6.32") {
            expect(has(w, "syscall32") && has(w, "sysenter")).toBe(false);
          }
        },
      ),
    );
  });

  test("32-bit kernel: sse2 from the CPU, no emt64/syscall32, sysenter for any vendor", () => {
    const p4 = cat("intel-northwood-p4");
    const w = node({ cpuid: p4, arch64: false });
    expect(describeFlags(w, gen("042stab109")).map((f) => f.name)).toEqual([
      ...["cmov", "fxsr", "sse", "sse2", "mmx", "sysenter", "sep32", "namespaces"],
    ]);
    const noSse2 = encodeCpuid(INTEL, 6, 8, ["cmov", "fxsr", "sse", "mmx", "sep"]);
    expect(has(node({ cpuid: noSse2, arch64: false }), "sse2")).toBe(false);
    expect(has(node({ cpuid: noSse2, arch64: true }), "sse2")).toBe(true);
    const amd32 = node({ cpuid: cat("amd-k10-opteron-2356"), arch64: false });
    expect([has(amd32, "sysenter"), has(amd32, "syscall"), has(amd32, "syscall32")]).toEqual([
      true,
      true,
      false,
    ]);
    // Intel hides SYSCALL from 32-bit code.
    const intel32 = node({ cpuid: cat("intel-westmere-x5670"), arch64: false });
    expect(has(intel32, "syscall")).toBe(false);
    expect(has(intel32, "emt64")).toBe(false);
  });

  test("AMD 3DNow! up to K10, gone from Bulldozer on", () => {
    const g = gen("042stab109");
    expect(has(node({ cpuid: cat("amd-k10-opteron-2435"), generation: g }), "3dnow")).toBe(true);
    for (const id of ["amd-bulldozer-opteron-6276", "amd-epyc-7763"]) {
      const w = node({ cpuid: cat(id), generation: g });
      expect(w & bitMask("3dnow", "3dnowext")).toBe(0);
      expect(has(w, "sse4a") && has(w, "avx") && has(w, "aesni")).toBe(true);
    }
  });

  test("describeFlags flags bits the generation does not define", () => {
    const d = describeFlags(0x2e02759f | (1 << 30), gen("028stab056"));
    const undefinedNames = d.filter((f) => !f.defined).map((f) => f.name);
    expect(undefinedNames).toEqual([
      ...["syscall", "sep32", "sse4_1", "sse4_2", "xsave", "avx", "aesni", "rdrand", "bit30"],
    ]);
    expect(d.find((f) => f.name === "namespaces")?.defined).toBe(true); // 17: unsupported mask range
    expect(describeFlags(0, gen("042stab109"))).toEqual([]);
    expect(describeFlags(1 << 29, gen("042stab093"))).toEqual([
      { bit: 29, name: "rdrand", defined: false },
    ]);
  });
});

describe("CPU catalog", () => {
  test("size and vendor spread", () => {
    expect(CPU_CATALOG.length).toBeGreaterThanOrEqual(18);
    expect(CPU_CATALOG.filter((c) => c.vendor === INTEL).length).toBeGreaterThanOrEqual(8);
    expect(CPU_CATALOG.filter((c) => c.vendor === AMD).length).toBeGreaterThanOrEqual(8);
  });

  test("unique kebab-case ids, non-empty cited sources, sane fields", () => {
    const ids = CPU_CATALOG.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of CPU_CATALOG) {
      expect(c.id).toMatch(/^(intel|amd)-[a-z0-9]+(-[a-z0-9]+)+$/);
      expect(c.id.startsWith(c.vendor === INTEL ? "intel-" : "amd-")).toBe(true);
      expect(c.source.trim().length).toBeGreaterThan(40);
      expect(c.source).toMatch(/https:\/\//);
      expect(c.name.length).toBeGreaterThan(0);
      expect(c.year >= 2000 && c.year <= 2025).toBe(true);
      expect([c.words.family, c.words.model, c.words.vendor]).toEqual([
        c.family,
        c.model,
        c.vendor,
      ]);
    }
  });

  test("every entry decodes to exactly its listed features (no duplicates, no aliases)", () => {
    for (const c of CPU_CATALOG) {
      expect(new Set(c.features).size).toBe(c.features.length);
      expect(sorted(decodeCpuid(c.words))).toEqual(sorted(c.features));
    }
  });

  test("realism: the ISA milestones of each generation", () => {
    const f = (id: string) => decodeCpuid(cat(id));
    const k8 = f("amd-k8-opteron-248");
    expect([k8.has("3dnow"), k8.has("3dnowext"), k8.has("pni"), k8.has("lm")]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    const wsm = f("intel-westmere-x5670");
    expect([wsm.has("aes"), wsm.has("avx"), wsm.has("xsave")]).toEqual([true, false, false]);
    const snb = f("intel-sandybridge-e5-2670");
    expect([snb.has("avx"), snb.has("xsave"), snb.has("rdrand")]).toEqual([true, true, false]);
    const ivb = f("intel-ivybridge-e5-2650v2");
    expect([ivb.has("rdrand"), ivb.has("f16c"), ivb.has("avx2")]).toEqual([true, true, false]);
    const hsw = f("intel-haswell-e5-2680v3");
    for (const x of ["avx2", "bmi1", "bmi2", "fma", "movbe"]) expect(hsw.has(x)).toBe(true);
    const bd = f("amd-bulldozer-opteron-6276");
    expect([bd.has("3dnow"), bd.has("3dnowprefetch"), bd.has("xop")]).toEqual([false, true, true]);
    expect(f("intel-penryn-e5450").has("sse4_2")).toBe(false);
    expect(f("intel-nehalem-x5570").has("sse4_2")).toBe(true);
    expect(f("amd-epyc-9654").has("avx512f")).toBe(true);
    expect(f("amd-epyc-7763").has("avx512f")).toBe(false);
    expect(f("intel-sapphirerapids-8480").has("amx_tile")).toBe(true);
    expect(f("intel-northwood-p4").has("lm")).toBe(false);
    // Every 64-bit part has SYSCALL and SEP; every AMD one has sse4a from K10 on.
    for (const c of CPU_CATALOG) {
      const s = decodeCpuid(c.words);
      if (s.has("lm")) expect(s.has("syscall") && s.has("sep") && s.has("nx")).toBe(true);
      if (c.vendor === AMD && c.family >= 16) expect(s.has("sse4a")).toBe(true);
      if (c.vendor === INTEL) expect(s.has("sse4a") || s.has("3dnow")).toBe(false);
    }
  });

  test("cpuById / cpuWords", () => {
    expect(cpuById("amd-epyc-7742")?.name).toContain("7742");
    expect(cpuById("nope")).toBeUndefined();
    const raw = encodeCpuid(INTEL, 6, 1, ["cmov"]);
    expect(cpuWords(raw)).toBe(raw);
    expect(cpuWords("amd-epyc-7742")).toEqual(cpuById("amd-epyc-7742")?.words as CpuidWords);
    expect(() => cpuWords("intel-pentium-pro")).toThrow(/unknown CPU "intel-pentium-pro"/);
    expect(() => cpuWords("zzz")).toThrow(/known ids include: intel-/);
    expect(() => cpuWords("amd-epyc-9999")).toThrow(/amd-epyc-7601/);
  });
});

describe("CPUID masks", () => {
  test("maskFromFeatures touches only the words it needs", () => {
    expect(maskFromFeatures([])).toEqual({});
    expect(maskFromFeatures(["avx", "aes"])).toEqual({
      leaf1Ecx: ~((1 << 28) | (1 << 25)) >>> 0,
    });
    expect(() => maskFromFeatures(["warp_drive"])).toThrow(/unknown CPU feature "warp_drive"/);
  });

  test("property: featuresHiddenBy(maskFromFeatures(h)) = h", () => {
    fc.assert(
      fc.property(featureSubset, (hide) => {
        expect(sorted(featuresHiddenBy(maskFromFeatures(hide)))).toEqual(sorted(hide));
      }),
    );
  });

  test("property: the baseline mask leaves exactly the common features on every CPU", () => {
    fc.assert(
      fc.property(fc.array(arbWords, { minLength: 1, maxLength: 5 }), (cpus) => {
        const mask = baselineMask(cpus);
        const common = ALL_NAMES.filter((n) => cpus.every((c) => decodeCpuid(c).has(n)));
        for (const c of cpus)
          expect(sorted(decodeCpuid(applyMask(c, mask)))).toEqual(sorted(common));
      }),
    );
    expect(baselineMask([])).toEqual({});
  });

  test("baseline of a real mixed fleet", () => {
    const fleet = ["intel-westmere-x5670", "intel-haswell-e5-2680v3", "amd-epyc-7742"].map(cat);
    const mask = baselineMask(fleet);
    const nodeWords = fleet.map((w) => node({ cpuid: w, mask }));
    // Masked (109) node flags agree on every CPU bit except the vendor ABI bits.
    const vendorBits = bitMask("sysenter", "sep32", "syscall32");
    expect(new Set(nodeWords.map((w) => (w & ~vendorBits) >>> 0)).size).toBe(1);
    const hidden = featuresHiddenBy(mask);
    expect(hidden).toContain("avx");
    expect(hidden).toContain("avx2");
    expect(hidden).not.toContain("aes");
    expect(hidden).not.toContain("sse4_2");
  });

  test("combineMasks hides what either hides", () => {
    const m = combineMasks(
      maskFromFeatures(["avx"]),
      undefined,
      maskFromFeatures(["avx2", "sse4a"]),
    );
    expect(sorted(featuresHiddenBy(m))).toEqual(["avx", "avx2", "sse4a"]);
    expect(combineMasks()).toEqual({});
  });
});
