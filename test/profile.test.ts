// `vzcptcheck profile`: records of simulated machines (OpenVZ or not, root or
// not, with a CPUID mask or not) and of this machine through dist/vzcptcheck,
// all validated against man/vzcptcheck-profile.schema.json (ajv); and a
// record loaded back as a vzcptsim node gives the flags the record predicted.

import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { release as osRelease, tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import fc from "fast-check";
import { CPU_CATALOG, cpuById } from "../sim/cpu/catalog.ts";
import { collectingOutput, simBackend } from "../sim/device.ts";
import { nodeKernel } from "../sim/kernel/model.ts";
import { knownProfileIds } from "../sim/kernel/profiles.ts";
import { buildNode } from "../sim/node.ts";
import { nodeFromProfileRecord } from "../sim/profile-record.ts";
import { loadFleetFile, loadNodeFile, type SchemaContext, SchemaError } from "../sim/schema.ts";
import type { CpuidMask, CpuidWords, NodeSpec } from "../sim/types.ts";
import type { CpuidFn } from "../src/cpt/cpuid.ts";
import { GENERATIONS, generationFromRelease } from "../src/cpt/generations.ts";
import { collectProfile, type ProfileHost, type ProfileRecord } from "../src/profile.ts";
import { PROFILE_HELP, runProfile } from "../src/profile-cli.ts";

const schema = JSON.parse(
  readFileSync(`${import.meta.dir}/../man/vzcptcheck-profile.schema.json`, "utf8"),
);
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

function expectValid(record: unknown): void {
  const ok = validate(record);
  if (!ok)
    throw new Error(
      `record does not match the schema: ${JSON.stringify(validate.errors, null, 1)}`,
    );
}

const CTX: SchemaContext = { kernelIds: knownProfileIds(), cpuIds: CPU_CATALOG.map((c) => c.id) };

const le32 = (s: string): number =>
  (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>>
  0;

/** A CPUID instruction that answers as a CPU with these words would. */
function cpuidOf(w: CpuidWords, brand = `Test CPU family ${w.family}`): CpuidFn {
  const v = w.vendor.padEnd(12, "\0");
  const base = Math.min(w.family, 15);
  const eax1 =
    ((w.family >= 15 ? w.family - 15 : 0) << 20) |
    (((w.model >> 4) & 0xf) << 16) |
    (base << 8) |
    ((w.model & 0xf) << 4) |
    3;
  const b = brand.padEnd(48, "\0");
  const zero = { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  return (leaf) => {
    if (leaf === 0)
      return {
        eax: 7,
        ebx: le32(v.slice(0, 4)),
        edx: le32(v.slice(4, 8)),
        ecx: le32(v.slice(8, 12)),
      };
    if (leaf === 1) return { eax: eax1 >>> 0, ebx: 0, ecx: w.leaf1Ecx, edx: w.leaf1Edx };
    if (leaf === 7) return { eax: 0, ebx: w.leaf7Ebx, ecx: w.leaf7Ecx, edx: w.leaf7Edx };
    if (leaf === 0x80000000) return { ...zero, eax: 0x80000004 };
    if (leaf === 0x80000001) return { ...zero, ecx: w.ext1Ecx, edx: w.ext1Edx };
    if (leaf >= 0x80000002 && leaf <= 0x80000004) {
      const s = b.slice((leaf - 0x80000002) * 16);
      return {
        eax: le32(s.slice(0, 4)),
        ebx: le32(s.slice(4, 8)),
        ecx: le32(s.slice(8, 12)),
        edx: le32(s.slice(12, 16)),
      };
    }
    return zero;
  };
}

interface Machine {
  release: string;
  machine?: string;
  cpu: string | CpuidWords;
  /** The simulated kernel behind /proc/cpt and /proc/rst (its generation, mask...). */
  node?: Partial<NodeSpec>;
  euid?: number;
  ipv6?: boolean;
}

/** A ProfileHost for a simulated machine. */
function host(m: Machine): ProfileHost {
  const words = typeof m.cpu === "string" ? (cpuById(m.cpu)?.words as CpuidWords) : m.cpu;
  const gen = generationFromRelease(m.release);
  const spec: NodeSpec = {
    name: "sim",
    kernel: gen?.id ?? "042stab109",
    cpu: words,
    arch64: (m.machine ?? "x86_64") === "x86_64",
    ipv6: m.ipv6 ?? true,
    slmWithoutDmprst: false,
    modules: { cpt: gen !== null, rst: gen !== null },
    containers: [],
    ...m.node,
  };
  const node = buildNode(spec);
  return {
    uname: () => ({
      sysname: "Linux",
      release: m.release,
      version: "#1 SMP",
      machine: m.machine ?? "x86_64",
    }),
    hostname: () => "node1.example",
    cpuid: () => cpuidOf(words),
    backend: () => simBackend(nodeKernel(node), { euid: m.euid ?? 0 }),
    exists: (p) => (m.ipv6 ?? true) && p === "/proc/net/if_inet6",
  };
}

const flagsOf = (spec: NodeSpec): number => buildNode(spec).flags;

describe("profile: simulated machines", () => {
  test("an OpenVZ 042stab113 node as root: version, caps, and a prediction that matches", () => {
    const r = collectProfile(
      host({ release: "2.6.32-042stab113.11", cpu: "intel-ivybridge-e5-2650v2" }),
    );
    expectValid(r);
    expect(r.openvz).toEqual({
      generation: "042stab109",
      title: "042stab109.3 and later (to 141.3)",
    });
    expect(r.cpt.version).toEqual({ value: 0x803, hex: "0x803", error: null });
    expect(r.cpt.caps).toEqual({
      value: 771913119,
      hex: "0x2e02759f",
      error: null,
      kernelMessages: "",
    });
    expect(r.cpu?.vendor).toBe("GenuineIntel");
    expect([r.cpu?.family, r.cpu?.model, r.cpu?.stepping]).toEqual([6, 62, 3]);
    expect(r.cpu?.brand).toBe("Test CPU family 6");
    expect(r.cpu?.features).toContain("avx");
    expect(r.flags.predicted?.value).toBe(771913119);
    expect(r.flags.match).toBe(true);
    expect(r.flags.onlyPredicted).toEqual([]);
    expect(r.flags.interpretation).toBe("the kernel reports exactly the flags CPUID predicts");
    expect(r.slmWithoutDmprst).toBe(false);
    expect(r.unknown).toEqual([]);
  });

  test("a CPUID mask on 042stab109 shows as predicted-only bits", () => {
    const mask: CpuidMask = { leaf1Ecx: ~((1 << 28) | (1 << 26)) >>> 0 }; // hide avx, xsave
    const r = collectProfile(
      host({
        release: "2.6.32-042stab120.6",
        cpu: "intel-ivybridge-e5-2650v2",
        node: { cpuidMask: mask },
      }),
    );
    expectValid(r);
    expect(r.flags.match).toBe(false);
    expect(r.flags.onlyPredicted).toEqual([
      { bit: 25, name: "xsave" },
      { bit: 26, name: "avx" },
    ]);
    expect(r.flags.onlyReported).toEqual([]);
    expect(r.flags.interpretation).toContain("probably hidden by its CPUID mask");
    // 042stab093 reads raw CPUID: the same mask changes nothing there.
    const raw = collectProfile(
      host({
        release: "2.6.32-042stab094.7",
        cpu: "intel-ivybridge-e5-2650v2",
        node: { cpuidMask: mask },
      }),
    );
    expect(raw.openvz?.generation).toBe("042stab093");
    expect(raw.flags.match).toBe(true);
  });

  test("SLM without slm_dmprst is read from the kernel's flags", () => {
    const r = collectProfile(
      host({
        release: "2.6.32-042stab113.11",
        cpu: "amd-epyc-7601",
        node: { slmWithoutDmprst: true },
      }),
    );
    expect(r.slmWithoutDmprst).toBe(true);
    expect(r.flags.match).toBe(true);
    expect(r.flags.reported?.bits.map((b) => b.name)).toContain("slm_dmprst");
  });

  test("not root: the devices say Permission denied, the rest is still there", () => {
    const r = collectProfile(
      host({ release: "2.6.32-042stab113.11", cpu: "amd-epyc-7601", euid: 1000 }),
    );
    expectValid(r);
    expect(r.cpt.version).toEqual({
      value: null,
      hex: null,
      error: "Can't open /proc/cpt: Permission denied",
    });
    expect(r.cpt.caps.error).toBe("Can't open /proc/rst: Permission denied");
    expect(r.flags.reported).toBeNull();
    expect(r.flags.match).toBeNull();
    expect(r.flags.predicted?.bits.map((b) => b.name)).toContain("syscall32");
    expect(r.unknown).toContain("CPT version: Can't open /proc/cpt: Permission denied");
  });

  test("an old kernel without CPT_TEST_VERSION: the ioctl's error is the reason", () => {
    const r = collectProfile(host({ release: "2.6.18-028stab056.1", cpu: "intel-conroe-e6600" }));
    expectValid(r);
    expect(r.cpt.version.error).toBe("Error in ioctl(CPT_TEST_VERSION): Invalid argument");
    expect(r.cpt.caps.value).not.toBeNull();
    expect(r.flags.match).toBe(true);
  });

  test("not OpenVZ, no IPv6: nulls with reasons, flags predicted for the newest generation", () => {
    const r = collectProfile(
      host({ release: "6.1.0-18-amd64", cpu: "amd-epyc-7763", ipv6: false }),
    );
    expectValid(r);
    expect(r.openvz).toBeNull();
    expect(r.cpt.version.error).toBe("Can't open /proc/cpt: No such file or directory");
    expect(r.cpt.caps.error).toBe("Can't open /proc/rst: No such file or directory");
    expect(r.ipv6).toEqual({ loaded: false, evidence: null });
    expect(r.flags.generation).toBe("042stab109");
    expect(r.flags.generationAssumed).toBe(true);
    expect(r.flags.predicted?.bits.map((b) => b.name)).toContain("no_ipv6");
    expect(r.unknown[0]).toBe(
      "OpenVZ generation: kernel 6.1.0-18-amd64 is not a release of a known OpenVZ generation (flags predicted for 042stab109, the newest)",
    );
  });

  test("no CPUID (the native module could not tell): cpu null with the reason", () => {
    const h = host({ release: "6.1.0", cpu: "amd-epyc-7763" });
    const r = collectProfile({
      ...h,
      cpuid: () => {
        throw new Error("vzcpt: CPUID exists on x86 only");
      },
    });
    expectValid(r);
    expect(r.cpu).toBeNull();
    expect(r.cpuError).toBe("vzcpt: CPUID exists on x86 only");
    expect(r.flags.predicted).toBeNull();
    expect(() => nodeFromProfileRecord(r, "arm.json", CTX)).toThrow(SchemaError);
  });

  test("text output names what it cannot know; --json, --help and bad arguments", () => {
    const h = host({ release: "6.1.0-18-amd64", cpu: "intel-westmere-x5670" });
    const run = (args: string[]) => {
      const out = collectingOutput();
      const exit = runProfile(args, h, out);
      return {
        stdout: out.stdoutText(),
        stderr: new TextDecoder().decode(out.stderrBytes()),
        exit,
      };
    };
    const t = run([]);
    expect(t.exit).toBe(0);
    expect(t.stdout).toStartWith(
      [
        "Node            node1.example",
        "Kernel          Linux 6.1.0-18-amd64 x86_64 (64-bit)",
        "OpenVZ          not OpenVZ (flags below are predicted for 042stab109, the newest generation)",
        "CPT version     unknown: Can't open /proc/cpt: No such file or directory",
        "CPT caps        unknown: Can't open /proc/rst: No such file or directory",
        "CPU             GenuineIntel family 6 model 44 stepping 3: Test CPU family 6",
        "",
      ].join("\n"),
    );
    expect(t.stdout).toContain("\nFlags predicted 0x0802759f (134378911)\n");
    expect(t.stdout).toContain(
      "Not known on this machine:\n  - OpenVZ generation: kernel 6.1.0-18-amd64 is not a release",
    );
    const j = run(["--json"]);
    expect(j.exit).toBe(0);
    expectValid(JSON.parse(j.stdout));
    expect(run(["--help"])).toEqual({ stdout: PROFILE_HELP, stderr: "", exit: 0 });
    expect(run(["--jsn"])).toEqual({
      stdout: "",
      stderr: 'vzcptcheck profile: unexpected argument "--jsn" (see vzcptcheck profile --help)\n',
      exit: 1,
    });
  });

  const machine = fc.record({
    gen: fc.constantFrom(...GENERATIONS),
    cpu: fc.constantFrom(...CPU_CATALOG.map((c) => c.id)),
    arch64: fc.boolean(),
    ipv6: fc.boolean(),
    slm: fc.boolean(),
  });
  const RELEASE: Readonly<Record<string, string>> = {
    "028stab056": "2.6.18-028stab056.1",
    "2.6.32-pre": "2.6.32-1stab1",
    "042stab061": "2.6.32-042stab061.9",
    "042stab088": "2.6.32-042stab088.4",
    "042stab092": "2.6.32-042stab092.1",
    "042stab093": "2.6.32-042stab093.5",
    "042stab101": "2.6.32-042stab102.9",
    "042stab108": "2.6.32-042stab108.8",
    "042stab109": "2.6.32-042stab141.3",
  };

  test("property: a record validates, predicts the kernel's flags, and loads as a vzcptsim node with them", () => {
    fc.assert(
      fc.property(machine, ({ gen, cpu, arch64, ipv6, slm }) => {
        const release = RELEASE[gen.id] as string;
        expect(generationFromRelease(release)?.id).toBe(gen.id);
        const r = collectProfile(
          host({
            release,
            cpu,
            ipv6,
            machine: arch64 ? "x86_64" : "i686",
            node: { slmWithoutDmprst: slm },
          }),
        );
        expectValid(r);
        expect(r.flags.match).toBe(true);
        const spec = nodeFromProfileRecord(
          JSON.parse(JSON.stringify(r)),
          "rec.json",
          CTX,
        ) as NodeSpec;
        expect(spec.kernel).toBe(gen.id);
        expect(spec.ipv6).toBe(ipv6);
        expect(spec.arch64).toBe(arch64);
        expect(flagsOf(spec)).toBe(r.flags.predicted?.value as number);
      }),
      { numRuns: 150 },
    );
  });
});

describe("profile: records as vzcptsim nodes", () => {
  const record = collectProfile(
    host({ release: "2.6.32-042stab113.11", cpu: "intel-sandybridge-e5-2670" }),
  );

  test("a node file that is a record, and a fleet with a record among its nodes", () => {
    const dir = mkdtempSync(join(tmpdir(), "vzcpt-profile-"));
    try {
      const file = join(dir, "sandy.json");
      writeFileSync(file, JSON.stringify(record, null, 2));
      const spec = loadNodeFile(file, CTX);
      expect(spec.name).toBe("node1.example");
      expect(spec.kernel).toBe("042stab109");
      expect(flagsOf(spec)).toBe(record.flags.predicted?.value as number);
      const fleetFile = join(dir, "fleet.json");
      const other = { name: "westmere", kernel: "042stab109", cpu: "intel-westmere-x5670" };
      writeFileSync(fleetFile, JSON.stringify({ name: "mixed", nodes: [record, other] }));
      const fleet = loadFleetFile(fleetFile, CTX);
      expect(fleet.nodes.map((n) => n.name)).toEqual(["node1.example", "westmere"]);
      expect(flagsOf(fleet.nodes[0] as NodeSpec)).toBe(record.flags.reported?.value as number);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the schema is not a rubber stamp: broken records fail it", () => {
    const copy = () => JSON.parse(JSON.stringify(record));
    const broken = [
      (r: Record<string, unknown>) => {
        delete r.flags;
      },
      (r: Record<string, unknown>) => {
        r.schemaVersion = 2;
      },
      (r: Record<string, unknown>) => {
        r.extra = true;
      },
      (r: { cpu: { cpuid: { leaf1Ecx: number } } }) => {
        r.cpu.cpuid.leaf1Ecx = 2 ** 32;
      },
      (r: { flags: { predicted: { hex: string } } }) => {
        r.flags.predicted.hex = "0x2e02759";
      },
      (r: { ipv6: { evidence: string } }) => {
        r.ipv6.evidence = "/etc/hosts";
      },
      (r: { cpt: { caps: { value: number } } }) => {
        r.cpt.caps.value = 0;
      },
    ];
    expect(validate(copy())).toBe(true);
    for (const breakIt of broken) {
      const r = copy();
      breakIt(r);
      expect(validate(r)).toBe(false);
    }
  });

  test("a record the simulator cannot read is a one-line error naming the field", () => {
    const bad = (patch: Record<string, unknown>) => ({
      ...JSON.parse(JSON.stringify(record)),
      ...patch,
    });
    expect(() => nodeFromProfileRecord(bad({ schemaVersion: 2 }), "r.json", CTX)).toThrow(
      "r.json: schemaVersion: expected 1, the only record version this vzcptsim reads (a vzcptcheck profile record)",
    );
    expect(() =>
      nodeFromProfileRecord(
        bad({ openvz: { generation: "042stab999", title: "x" } }),
        "r.json",
        CTX,
      ),
    ).toThrow("r.json: openvz.generation: expected a kernel generation (known: 028stab056,");
    expect(nodeFromProfileRecord({ name: "n", kernel: "042stab109" }, "n.yaml", CTX)).toBeNull();
  });
});

describe("profile through dist/vzcptcheck on this machine", () => {
  const BIN = `${import.meta.dir}/../dist/vzcptcheck`;
  const run = (args: string[]) => spawnSync(BIN, args, { encoding: "utf8" });

  test("--json: runs without OpenVZ or root, validates, and says what it cannot know", () => {
    const p = run(["profile", "--json"]);
    expect(p.stderr).toBe("");
    expect(p.status).toBe(0);
    const r = JSON.parse(p.stdout) as ProfileRecord;
    expectValid(r);
    expect(r.kernel.release).toBe(osRelease());
    const gen = generationFromRelease(osRelease());
    expect(r.openvz?.generation ?? null).toBe(gen?.id ?? null);
    if (r.cpt.version.value === null)
      expect(r.cpt.version.error).toMatch(/^(Can't open \/proc\/cpt|Error in ioctl)/);
    if (!gen)
      expect(r.unknown[0]).toStartWith(`OpenVZ generation: kernel ${osRelease()} is not a release`);
    // The CPU agrees with the kernel's own view of it.
    const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
    const field = (name: string) => new RegExp(`^${name}\\s*: (.*)$`, "m").exec(cpuinfo)?.[1];
    expect(r.cpu?.vendor).toBe(field("vendor_id") as string);
    expect(String(r.cpu?.family)).toBe(field("cpu family") as string);
    expect(String(r.cpu?.model)).toBe(field("model") as string);
    // And it loads as a vzcptsim node predicting the same flags.
    const spec = nodeFromProfileRecord(r, "this.json", CTX) as NodeSpec;
    expect(flagsOf(spec)).toBe(r.flags.predicted?.value as number);
  });

  test("text and --help", () => {
    const t = run(["profile"]);
    expect(t.status).toBe(0);
    expect(t.stdout).toContain(`Kernel          Linux ${osRelease()} `);
    const h = run(["profile", "--help"]);
    expect([h.status, h.stdout, h.stderr]).toEqual([0, PROFILE_HELP, ""]);
    const bad = run(["profile", "now"]);
    expect([bad.status, bad.stdout, bad.stderr]).toEqual([
      1,
      "",
      'vzcptcheck profile: unexpected argument "now" (see vzcptcheck profile --help)\n',
    ]);
  });
});
