// `vzcptcheck explain`: strict numbers, golden output across generations and
// bit classes (in process and through the real dist/vzcptcheck), the JSON
// shape, and two properties: every bit of every generation is named or
// reported undefined, and explain's verdict agrees with the kernel model's
// CPT_TEST_VECAPS (sim/kernel/checks.ts vecapsCheck) for the same words.

import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { release as osRelease } from "node:os";
import fc from "fast-check";
import { missingCpuLabels, vecapsCheck } from "../sim/kernel/checks.ts";
import { BUILTIN_PROFILES, profileById } from "../sim/kernel/profiles.ts";
import { bitMask, CLASS_TITLES } from "../src/cpt/bits.ts";
import {
  GENERATION_BY_ID,
  GENERATIONS,
  type Generation,
  generationFromRelease,
} from "../src/cpt/generations.ts";
import { compareWords, describeBit, explainWord } from "../src/explain.ts";
import { EXPLAIN_HELP, type ExplainHost, runExplain } from "../src/explain-cli.ts";
import { hex32, parseWord } from "../src/numbers.ts";

const gen = (id: string): Generation => GENERATION_BY_ID.get(id) as Generation;

interface Run {
  stdout: string;
  stderr: string;
  exit: number;
}

/** Run explain in process; `release` is this (pretend) node's uname -r. */
function explain(args: string[], release: string | null = "6.1.0-18-amd64"): Run {
  let stdout = "";
  let stderr = "";
  const host: ExplainHost = { release: () => release };
  const exit = runExplain(args, host, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (d) => {
      stderr += typeof d === "string" ? d : new TextDecoder().decode(d);
    },
  });
  return { stdout, stderr, exit };
}

const BIN = `${import.meta.dir}/../dist/vzcptcheck`;

/** Run the real executable (built by `make`, which `make unit` runs first). */
function binary(args: string[]): Run {
  const r = spawnSync(BIN, args, { encoding: "utf8" });
  return { stdout: r.stdout, stderr: r.stderr, exit: r.status ?? -1 };
}

// Real-looking words (sim/cpu catalog, 042stab109, IPv6 loaded):
const IVY_NODE = 0x2e02759f; // Xeon E5-2650 v2: `vzcptcheck caps` on the source
const WESTMERE_NODE = 0x0802759f; // Xeon X5670: `vzcptcheck caps` on the destination
const IVY_CT = 0x2e00651f; // a 64-bit container on the Ivy Bridge node that used the FPU

describe("numbers", () => {
  const good: [string, number][] = [
    ["0", 0],
    ["771913119", 771913119],
    ["0x2e02759f", 0x2e02759f],
    ["0X2E02759F", 0x2e02759f],
    ["007", 7],
    ["4294967295", 4294967295],
    ["0xffffffff", 4294967295],
    ["0x00000000ffffffff", 4294967295],
  ];
  for (const [text, value] of good)
    test(`${JSON.stringify(text)} -> ${value}`, () => expect(parseWord(text)).toBe(value));
  const bad = [
    "",
    "12x",
    "-1",
    "+1",
    " 1",
    "1 ",
    "4294967296",
    "0x",
    "0x100000000",
    "1e3",
    "0b101",
    "0o7",
    "١٢",
  ];
  for (const text of bad)
    test(`${JSON.stringify(text)} is refused`, () => expect(parseWord(text)).toBeNull());

  test("parseWord reads every u32 in both spellings, and hex32 prints it back", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(parseWord(String(n))).toBe(n);
        expect(parseWord(hex32(n))).toBe(n);
        expect(hex32(n)).toMatch(/^0x[0-9a-f]{8}$/);
      }),
    );
  });
});

describe("explain: one word", () => {
  test("golden: an Ivy Bridge node's caps on 042stab109", () => {
    const r = explain([String(IVY_NODE), "--kernel", "042stab109"]);
    expect(r.exit).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        "Word 0x2e02759f (771913119) read as 042stab109 (042stab109.3 and later (to 141.3)), chosen with --kernel",
        "  bit  name                class                          meaning",
        "    0  cmov                instruction-set extension      conditional move instructions",
        "    1  fxsr                FPU / register state           FXSAVE/FXRSTOR FPU state",
        "    2  sse                 instruction-set extension      SSE instructions",
        "    3  sse2                instruction-set extension      SSE2 instructions",
        "    4  mmx                 instruction-set extension      MMX instructions",
        "    7  sysenter            system-call ABI                SYSENTER system calls (Intel 32-bit vdso)",
        "    8  emt64               system-call ABI                64-bit mode (EM64T/AMD64)",
        "   10  syscall             system-call ABI                SYSCALL system calls",
        "   12  sep32               system-call ABI                SYSENTER from 32-bit code in a 64-bit kernel",
        "       note: not compared by 042stab109's CPU check",
        "   13  sse4_1              instruction-set extension      SSE4.1 instructions",
        "   14  sse4_2              instruction-set extension      SSE4.2 instructions",
        "   17  namespaces          OS feature                     mount namespaces inside the container",
        "   25  xsave               FPU / register state           XSAVE extended state",
        "   26  avx                 instruction-set extension      AVX instructions",
        "   27  aesni               instruction-set extension      AES-NI instructions",
        "   29  rdrand              instruction-set extension      RDRAND instruction",
        "",
      ].join("\n"),
    );
  });

  test("golden: every class, and bits 028stab056 does not define", () => {
    const word =
      bitMask("cmov", "fxsr", "ia64", "sse4_1", "external_process", "namespaces", "no_ipv6") |
      (1 << 31);
    const r = explain([hex32(word >>> 0), "--kernel=028stab056"]);
    expect(r.exit).toBe(0);
    expect(r.stdout).toBe(
      [
        "Word 0x90032203 (2416124419) read as 028stab056 (2.6.18 028stab056 (OpenVZ 5)), chosen with --kernel",
        "  bit  name                class                          meaning",
        "    0  cmov                instruction-set extension      conditional move instructions",
        "    1  fxsr                FPU / register state           FXSAVE/FXRSTOR FPU state",
        "    9  ia64                system-call ABI                Itanium",
        "   13  sse4_1              instruction-set extension      SSE4.1 instructions",
        "       note: not defined by 028stab056 (late 2.6.18 kernels used bit 13 for no IPv6)",
        "   16  external_process    unsupported container feature  a process entered from the host (vzctl enter / vzctl exec) is inside the container",
        "   17  namespaces          OS feature                     mount namespaces inside the container",
        "   28  no_ipv6             OS feature                     IPv6 is not loaded (on a node) / not used (in a container)",
        "       note: not defined by 028stab056",
        "   31  bit31               unknown                        no OpenVZ kernel gives this bit a meaning",
        "       note: not defined by 028stab056 (nor by any other generation)",
        "",
      ].join("\n"),
    );
  });

  test("the sse4_2 bit is flagged as not compared on the label-bug generations only", () => {
    for (const g of GENERATIONS) {
      const note = describeBit(14, g).note;
      if (["042stab061", "042stab088", "042stab092"].includes(g.id)) {
        expect(note).toBe(
          `not compared by ${g.id}: its check tests sse4_1 under the label "sse4_2" (label bug)`,
        );
      } else if (g.line === "2.6.32" && g.vecapsStyle === "042") {
        expect(note).toBeNull();
      }
    }
  });

  test("rdrand is defined from 042stab108 on only", () => {
    expect(describeBit(29, gen("042stab101")).note).toBe("not defined by 042stab101");
    expect(describeBit(29, gen("042stab108")).note).toBeNull();
  });

  test("zero has no bits", () => {
    const r = explain(["0", "--kernel", "042stab093"]);
    expect(r.stdout).toEndWith("  (no bits set)\n");
    expect(r.exit).toBe(0);
  });

  test("every bit 0..31 of every generation is named, or reported undefined/unknown", () => {
    fc.assert(
      fc.property(fc.constantFrom(...GENERATIONS), fc.integer({ min: 0, max: 31 }), (g, bit) => {
        const b = describeBit(bit, g);
        expect(b.bit).toBe(bit);
        expect(b.name).toMatch(/^[a-z0-9_]+$/);
        expect(b.meaning.length).toBeGreaterThan(0);
        expect(b.remedy.length).toBeGreaterThan(0);
        const definedHere = ((g.definedBits >>> bit) & 1) === 1;
        expect(b.defined).toBe(definedHere);
        if (definedHere) {
          expect(b.class).not.toBe("unknown");
          expect(b.classTitle).toBe(CLASS_TITLES[b.class as keyof typeof CLASS_TITLES]);
        } else {
          expect(b.note ?? "").toStartWith(`not defined by ${g.id}`);
        }
        if (b.class === "unknown") expect(b.name).toBe(`bit${bit}`);
      }),
      { numRuns: 400 },
    );
    // And exhaustively, through the word form: 0xffffffff lists all 32 bits.
    for (const g of GENERATIONS)
      expect(explainWord(0xffffffff, g).map((b) => b.bit)).toEqual([...Array(32).keys()]);
  });
});

describe("explain: two words", () => {
  test("golden: Ivy Bridge container -> Westmere node on 042stab109 is refused for xsave, avx, rdrand", () => {
    const r = explain([String(IVY_CT), String(WESTMERE_NODE), "--kernel", "042stab109"]);
    expect(r.exit).toBe(2);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        "Source       0x2e00651f (771777823)",
        "Destination  0x0802759f (134378911)",
        "Kernel       042stab109 (042stab109.3 and later (to 141.3)), chosen with --kernel",
        "",
        "CPT_TEST_VECAPS on 042stab109 fails 3 checks, in the kernel's order:",
        "  1. xsave  [cpu; bit 25; FPU / register state]: XSAVE extended state",
        "     kernel: Error: Destination cpu does not have xsave (result 1)",
        "     remedy: pick a destination whose CPU has it, or mask it on the source node",
        "  2. avx  [cpu; bit 26; instruction-set extension]: AVX instructions",
        "     kernel: Error: Destination cpu does not have avx (result 1)",
        "     remedy: pick a destination whose CPU has it, or mask it on the source node",
        "  3. rdrand  [cpu; bit 29; instruction-set extension]: RDRAND instruction",
        "     kernel: Error: Destination cpu does not have rdrand (result 1)",
        "     remedy: pick a destination whose CPU has it, or mask it on the source node",
        "",
        "Verdict: refused: CPT_TEST_VECAPS returns 1 (the destination CPU lacks a feature the source uses); vzcptcheck caps VEID DESTCAPS exits 2.",
        "",
      ].join("\n"),
    );
  });

  test("the other way round passes", () => {
    const r = explain([hex32(WESTMERE_NODE), hex32(IVY_NODE), "--kernel", "042stab109"]);
    expect(r.exit).toBe(0);
    expect(r.stdout).toContain("The destination lacks nothing that the kernel checks.\n");
    expect(r.stdout).toEndWith(
      "Verdict: passes: CPT_TEST_VECAPS returns 0 (vzcptcheck caps VEID DESTCAPS exits 0).\n",
    );
  });

  const SSE41_42 = bitMask("cmov", "sse4_1", "sse4_2");
  test("golden: the sse4_2 label bug (042stab061): sse4_1 is tested twice, the real sse4_2 never", () => {
    const r = explain([hex32(SSE41_42), hex32(bitMask("cmov")), "--kernel", "042stab061"]);
    expect(r.exit).toBe(2);
    expect(r.stdout).toBe(
      [
        "Source       0x00006001 (24577)",
        "Destination  0x00000001 (1)",
        "Kernel       042stab061 (042stab061.9 - 088.3), chosen with --kernel",
        "",
        'Note: 042stab061 has the sse4_2 label bug: it tests sse4_1 (bit 13) under the label "sse4_2" and never compares the real sse4_2 bit (14); fixed in 042stab093.5.',
        "",
        "CPT_TEST_VECAPS on 042stab061 fails 2 checks, in the kernel's order:",
        "  1. sse4_1  [cpu; bit 13; instruction-set extension]: SSE4.1 instructions",
        "     kernel: Error: Destination cpu does not have sse4_1 (result 1)",
        "     remedy: pick a destination whose CPU has it, or mask it on the source node",
        "  2. sse4_2 (tests sse4_1)  [cpu; bit 13; instruction-set extension]: SSE4.1 instructions",
        "     kernel: Error: Destination cpu does not have sse4_2 (result 1)",
        '     note: label bug: 042stab061 tests bit 13 (sse4_1) under the label "sse4_2" (fixed in 042stab093.5)',
        "     remedy: pick a destination whose CPU has it, or mask it on the source node",
        "",
        "Lacking but not checked by the kernel:",
        '  - sse4_2 (bit 14): 042stab061 tests sse4_1 under the label "sse4_2", so a missing SSE4.2 passes; the container may crash on the destination if it uses SSE4.2',
        "",
        "Verdict: refused: CPT_TEST_VECAPS returns 1 (the destination CPU lacks a feature the source uses); vzcptcheck caps VEID DESTCAPS exits 2.",
        "",
      ].join("\n"),
    );
  });

  test("a destination without SSE4.2 passes on 042stab092 (bug) and is refused on 042stab093 (fixed)", () => {
    const dest = hex32(bitMask("cmov", "sse4_1"));
    const buggy = explain([hex32(SSE41_42), dest, "--kernel", "042stab092"]);
    expect(buggy.exit).toBe(0);
    expect(buggy.stdout).toContain("  - sse4_2 (bit 14): 042stab092 tests sse4_1 under the label");
    const fixed = explain([hex32(SSE41_42), dest, "--kernel", "042stab093"]);
    expect(fixed.exit).toBe(2);
    expect(fixed.stdout).toContain(
      "kernel: Error: Destination cpu does not have sse4_2 (result 1)",
    );
    expect(fixed.stdout).not.toContain("label bug");
  });

  test("each 042 check in the kernel's order, the last failure setting the result", () => {
    const g = gen("042stab109");
    const caps = bitMask("avx", "external_process", "namespaces");
    const dest = bitMask("slm_dmprst", "no_ipv6");
    const c = compareWords(caps, dest, g);
    expect(c.findings.map((f) => [f.check, f.name, f.result, f.kernelMessage])).toEqual([
      ["cpu", "avx", 1, "Destination cpu does not have avx"],
      [
        "slm",
        "slm_dmprst",
        4,
        "SLM is enabled on destination node, but slm_dmprst module is not loaded",
      ],
      ["unsupported", "external_process", 2, null],
      ["ipv6", "no_ipv6", 3, "IPv6 not loaded or disabled on destination node"],
      [
        "namespaces",
        "namespaces",
        5,
        "Mount namespaces migration support is not present on destination node",
      ],
    ]);
    expect(c.result).toBe(5);
    const text = explain([hex32(caps), hex32(dest), "--kernel", "042stab109"]).stdout;
    expect(text).toContain(
      "  3. external_process  [unsupported; bit 16; unsupported container feature]",
    );
    expect(text).toContain("     remedy: end the vzctl enter/exec session, then retry\n");
    expect(text).toContain(
      "CPT_TEST_VECAPS returns 5 (the destination cannot migrate mount namespaces)",
    );
  });

  test("IPv6 on 042stab061: a container word never carries no_ipv6, said so", () => {
    const c = compareWords(bitMask("cmov"), bitMask("cmov", "no_ipv6"), gen("042stab061"));
    expect(c.result).toBe(3);
    expect(c.findings[0]?.note).toContain(
      "042stab061 never carries no_ipv6 into a container's word",
    );
  });

  test("legacy 2.6.18: CPU shortfalls are silent (kernel log only), unsupported bits win with 2", () => {
    const g = gen("028stab056");
    const only = compareWords(bitMask("cmov", "emt64"), bitMask("cmov"), g);
    expect(only.result).toBe(1);
    expect(only.findings.map((f) => [f.name, f.kernelMessage])).toEqual([["emt64", null]]);
    expect(only.findings[0]?.note).toBe(
      '028stab056 writes "Destination cpu does not have emt64" to the kernel log only',
    );
    const both = compareWords(bitMask("cmov", "emt64", "namespaces"), bitMask("cmov"), g);
    expect(both.result).toBe(2);
    // 2.6.18 has no SLM, IPv6 or namespaces checks of its own.
    expect(compareWords(0, bitMask("slm_dmprst", "no_ipv6"), g).result).toBe(0);
    expect(compareWords(0, bitMask("slm_dmprst"), gen("2.6.32-pre")).result).toBe(1);
  });

  test("a bit from a newer kernel (rdrand) is unsupported on 042stab101", () => {
    const c = compareWords(bitMask("rdrand"), bitMask("rdrand"), gen("042stab101"));
    expect(c.result).toBe(2);
    expect(c.findings[0]?.remedy).toBe(
      "042stab101 never sets this bit itself: was the word produced by another kernel generation?",
    );
  });

  const word = fc.oneof(
    fc.integer({ min: 0, max: 0xffffffff }),
    // Mostly the defined bits, so that checks pass and fail in every way.
    fc
      .array(fc.integer({ min: 0, max: 31 }), { maxLength: 12 })
      .map((bits) => bits.reduce((w, b) => (w | (1 << b)) >>> 0, 0)),
    fc.constantFrom(IVY_NODE, WESTMERE_NODE, IVY_CT, 0),
  );

  test("property: explain's verdict is the kernel model's CPT_TEST_VECAPS for the same words", () => {
    fc.assert(
      fc.property(fc.constantFrom(...BUILTIN_PROFILES), word, word, (profile, caps, dest) => {
        const model = vecapsCheck(profile, caps, dest);
        const c = compareWords(caps, dest, profile);
        expect(c.result).toBe(model.result);
        // Exit 2 exactly when the kernel refuses.
        const r = explain([String(caps), String(dest), "--kernel", profile.id]);
        expect(r.exit).toBe(model.result === 0 ? 0 : 2);
        // The CPU check (result 1's contribution): same shortfalls, same labels, same order.
        const cpu = c.findings.filter((f) => f.check === "cpu").map((f) => f.label);
        expect(cpu).toEqual(missingCpuLabels(profile.vecapsChecks, caps, dest));
        // The error-pipe text: what explain quotes is what the model writes.
        const said = c.findings.map((f) => f.kernelMessage).filter((m): m is string => m !== null);
        expect(said).toEqual(model.messages);
      }),
      { numRuns: 500 },
    );
  });

  test("property: the built-in profiles are the generations explain reads", () => {
    for (const g of GENERATIONS) expect(profileById(g.id)?.vecapsChecks).toEqual(g.vecapsChecks);
  });
});

describe("explain: generation, errors, JSON, help", () => {
  test("this node's generation from uname, or the newest one, said so", () => {
    const node = explain(["1"], "2.6.32-042stab113.11");
    expect(node.stdout.split("\n")[0]).toBe(
      "Word 0x00000001 (1) read as 042stab109 (042stab109.3 and later (to 141.3)), this node's kernel 2.6.32-042stab113.11",
    );
    const old = explain(["1"], "2.6.32-042stab090.5");
    expect(old.stdout).toStartWith(
      "Word 0x00000001 (1) read as 042stab088 (042stab088.4 - 092.0), this node's kernel",
    );
    const plain = explain(["1"], "6.1.0-18-amd64");
    expect(plain.stdout.split("\n")[0]).toBe(
      "Word 0x00000001 (1) read as 042stab109 (042stab109.3 and later (to 141.3)), assumed: this node's kernel 6.1.0-18-amd64 is not OpenVZ (choose with --kernel GEN)",
    );
    const none = explain(["1"], null);
    expect(none.stdout).toContain("assumed: this node's kernel release is unknown");
    expect(explain(["1", "--json"], "2.6.18-028stab056.1").stdout).toContain('"source": "node"');
  });

  const errors: [string[], string][] = [
    [
      ["12x"],
      'vzcptcheck explain: invalid CAPS "12x": expected a decimal or 0x-hex number from 0 to 4294967295\n',
    ],
    [
      ["-1"],
      'vzcptcheck explain: invalid CAPS "-1": expected a decimal or 0x-hex number from 0 to 4294967295\n',
    ],
    [
      ["1", "4294967296"],
      'vzcptcheck explain: invalid DESTCAPS "4294967296": expected a decimal or 0x-hex number from 0 to 4294967295\n',
    ],
    [
      ["0x"],
      'vzcptcheck explain: invalid CAPS "0x": expected a decimal or 0x-hex number from 0 to 4294967295\n',
    ],
    [
      [""],
      'vzcptcheck explain: invalid CAPS "": expected a decimal or 0x-hex number from 0 to 4294967295\n',
    ],
    [[], "vzcptcheck explain: missing CAPS (see vzcptcheck explain --help)\n"],
    [["1", "2", "3"], "vzcptcheck explain: too many words: expected CAPS [DESTCAPS], got 3\n"],
    [
      ["1", "--verbose"],
      'vzcptcheck explain: unknown option "--verbose" (see vzcptcheck explain --help)\n',
    ],
    [
      ["1", "--kernel", "042stab113"],
      'vzcptcheck explain: unknown kernel generation "042stab113": valid ids are 028stab056, 2.6.32-pre, 042stab061, 042stab088, 042stab092, 042stab093, 042stab101, 042stab108, 042stab109\n',
    ],
    [
      ["1", "--kernel"],
      "vzcptcheck explain: --kernel needs a generation: 028stab056, 2.6.32-pre, 042stab061, 042stab088, 042stab092, 042stab093, 042stab101, 042stab108, 042stab109\n",
    ],
  ];
  for (const [args, message] of errors) {
    test(`error: ${JSON.stringify(args)}`, () => {
      const r = explain(args);
      expect(r).toEqual({ stdout: "", stderr: message, exit: 1 });
    });
  }

  test("--help and -h print explain's help on stdout, whatever else is there", () => {
    for (const args of [["--help"], ["-h"], ["12x", "--help"], ["--kernel", "nope", "-h"]]) {
      expect(explain(args)).toEqual({ stdout: EXPLAIN_HELP, stderr: "", exit: 0 });
    }
    expect(EXPLAIN_HELP).toContain("Generations: 028stab056, 2.6.32-pre,");
  });

  test("--json: the documented shape, one word and two", () => {
    const one = JSON.parse(explain([hex32(IVY_NODE), "--json", "--kernel", "042stab061"]).stdout);
    expect(Object.keys(one)).toEqual([
      "schemaVersion",
      "command",
      "generation",
      "caps",
      "destCaps",
      "labelBug",
      "findings",
      "ignored",
      "result",
      "refused",
    ]);
    expect(one.schemaVersion).toBe(1);
    expect(one.generation).toEqual({
      id: "042stab061",
      title: "042stab061.9 - 088.3",
      source: "option",
      release: null,
    });
    expect(one.caps.value).toBe(IVY_NODE);
    expect(one.caps.hex).toBe("0x2e02759f");
    expect(one.caps.bits.map((b: { name: string }) => b.name)).toContain("rdrand");
    expect(one.caps.bits.find((b: { bit: number }) => b.bit === 29)).toEqual({
      bit: 29,
      name: "rdrand",
      class: "isa",
      classTitle: "instruction-set extension",
      meaning: "RDRAND instruction",
      remedy: "pick a destination whose CPU has it, or mask it on the source node",
      defined: false,
      note: "not defined by 042stab061",
    });
    expect([one.destCaps, one.findings, one.ignored, one.result, one.refused]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(one.labelBug).toBe(true);

    const r = explain([String(IVY_CT), String(WESTMERE_NODE), "--json", "--kernel", "042stab109"]);
    expect(r.exit).toBe(2);
    const two = JSON.parse(r.stdout);
    expect(two.result).toBe(1);
    expect(two.refused).toBe(true);
    expect(two.labelBug).toBe(false);
    expect(two.destCaps.hex).toBe("0x0802759f");
    expect(two.findings.map((f: { label: string }) => f.label)).toEqual(["xsave", "avx", "rdrand"]);
    expect(Object.keys(two.findings[0]).sort()).toEqual(
      [
        "bit",
        "check",
        "class",
        "classTitle",
        "defined",
        "kernelMessage",
        "label",
        "meaning",
        "note",
        "remedy",
        "result",
        "name",
      ].sort(),
    );
    expect(two.ignored).toEqual([]);
  });
});

describe("explain through dist/vzcptcheck", () => {
  test("the executable exists (make builds it before the tests)", () => {
    expect(existsSync(BIN)).toBe(true);
  });

  test("golden refused migration, JSON, errors and help match the in-process runs", () => {
    for (const args of [
      [String(IVY_CT), String(WESTMERE_NODE), "--kernel", "042stab109"],
      [hex32(bitMask("cmov", "sse4_1", "sse4_2")), "1", "--kernel", "042stab061"],
      ["0xffffffff", "--kernel", "028stab056"],
      [String(IVY_CT), String(WESTMERE_NODE), "--kernel", "042stab092", "--json"],
      ["12x"],
      ["1", "--kernel", "bogus"],
      ["--help"],
    ]) {
      expect(binary(["explain", ...args])).toEqual(explain(args));
    }
  });

  test("without --kernel it reads this machine's kernel release", () => {
    const r = binary(["explain", "1"]);
    expect(r.exit).toBe(0);
    expect(r).toEqual(explain(["1"], osRelease()));
    const g = generationFromRelease(osRelease());
    expect(r.stdout).toContain(
      g ? `this node's kernel ${osRelease()}` : `this node's kernel ${osRelease()} is not OpenVZ`,
    );
  });

  test("the original grammar is untouched: other first words still print the usage", () => {
    for (const first of ["Explain", "explain2", "EXPLAIN", "Profile", "profiles"]) {
      const r = binary([first]);
      expect(r.exit).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toStartWith("Usage:\tvzcptcheck <command> [argument ...]\n");
    }
    const help = binary(["help", "explain"]);
    expect(help.exit).toBe(0);
    expect(help.stdout).toStartWith("Usage:\tvzcptcheck <command>");
  });
});
