// `vzcptsim node host` in-process, on simulated machines (test/sim-machine.ts):
// the exact node file, and the file loaded back gives the flags `vzcptcheck
// profile` predicts and, on an OpenVZ machine, the flags its kernel reports.
// (test/vzcptsim.test.ts runs it on this machine through dist/vzcptsim.)

import { describe, expect, test } from "bun:test";
import { loadProfiles } from "../sim/commands/load.ts";
import { defaultEnv } from "../sim/main.ts";
import { NodeModel } from "../sim/node.ts";
import { nodeFromText } from "../sim/schema.ts";
import type { CpuidWords, NodeSpec } from "../sim/types.ts";
import { bitMask } from "../src/cpt/bits.ts";
import { type CpuidWordKey, WORD_KEYS } from "../src/cpt/cpuid.ts";
import { GENERATION_BY_ID, type Generation } from "../src/cpt/generations.ts";
import { nodeFlags } from "../src/cpt/nodeflags.ts";
import { hex32 } from "../src/numbers.ts";
import { collectProfile, type ProfileHost } from "../src/profile.ts";
import { type SimRun, simIn } from "./in-process.ts";
import { type Machine, machineHost, wordsOf } from "./sim-machine.ts";

const { ctx } = loadProfiles([]);

/** `vzcptsim ARGS` in-process, on the machine `host`. */
const sim = (args: readonly string[], host: ProfileHost): Promise<SimRun> =>
  simIn(args, { ...defaultEnv(), host: () => host });

const flagsOf = (spec: NodeSpec): number => new NodeModel(spec).flags;

/** The file's "# " comments as sentences (continuation lines, indented "#   ", joined). */
function comments(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n").filter((l) => l.startsWith("#"))) {
    expect(line.length).toBeLessThanOrEqual(78);
    if (line.startsWith("#   ")) out[out.length - 1] += ` ${line.slice(4)}`;
    else out.push(line.slice(2));
  }
  return out;
}

/** Everything after the comments. */
const body = (text: string): string =>
  text
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");
const load = (text: string, file: string): NodeSpec => nodeFromText(text, file, ctx);

const WESTMERE: Machine = {
  release: "6.1.0-18-amd64",
  cpu: "intel-westmere-x5670",
  hostname: "build7.example",
  brand: "Intel(R) Xeon(R) CPU X5670 @ 2.93GHz",
};

describe("node host on a machine that is not OpenVZ", () => {
  test("the YAML: raw words, the newest generation assumed and said so", async () => {
    const host = machineHost(WESTMERE);
    const r = await sim(["node", "host"], host);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const w = wordsOf("intel-westmere-x5670");
    const predicted = collectProfile(host).flags.predicted;
    const word = (k: CpuidWordKey) => `  ${k}: "${hex32(w[k])}"`;
    expect(predicted).not.toBeNull();
    expect(comments(r.stdout)).toEqual([
      "vzcptsim node file: this machine (build7.example), written by `vzcptsim node host`.",
      "kernel: uname says 6.1.0-18-amd64 (x86_64), not OpenVZ: 042stab109, the newest " +
        "generation, is assumed; choose another with --kernel GEN.",
      "cpu: the CPUID words of GenuineIntel family 6 model 44 stepping 4 " +
        "(Intel(R) Xeon(R) CPU X5670 @ 2.93GHz).",
      "ipv6: loaded (/proc/sys/net/ipv6 exists).",
      "slmWithoutDmprst: assumed off (only the flags /proc/rst reports show it, and it reported none).",
      `node flags (\`vzcptcheck caps\` here): ${predicted?.value} = ${predicted?.hex}: ` +
        `${predicted?.bits.map((b) => b.name).join(" ")}`,
    ]);
    expect(body(r.stdout)).toBe(
      [
        "name: build7.example",
        "kernel: 042stab109",
        "cpu:",
        "  vendor: GenuineIntel",
        "  family: 6",
        "  model: 44",
        ...WORD_KEYS.map(word),
        "arch64: true",
        "ipv6: true",
        "slmWithoutDmprst: false",
        "containers: []",
        "",
      ].join("\n"),
    );
    // The first line exactly, so the wrapping itself is pinned once.
    expect(r.stdout).toStartWith(
      "# vzcptsim node file: this machine (build7.example), written by `vzcptsim node\n#   host`.\n",
    );
    // Westmere has neither avx nor xsave: the flags line is short enough for one line.
    expect(predicted?.bits.map((b) => b.name)).not.toContain("avx");
  });

  test("loaded back, the node has the profile's words and predicted flags", async () => {
    const host = machineHost(WESTMERE);
    const spec = load((await sim(["node", "host"], host)).stdout, "me.yaml");
    const record = collectProfile(host);
    expect(spec.cpu).toEqual(wordsOf("intel-westmere-x5670"));
    expect({ name: spec.name, kernel: spec.kernel, containers: spec.containers.length }).toEqual({
      name: "build7.example",
      kernel: record.flags.generation,
      containers: 0,
    });
    expect(flagsOf(spec)).toBe(record.flags.predicted?.value as number);
  });

  test("--json: the same node, hex words as strings, the assumption noted on stderr", async () => {
    const host = machineHost(WESTMERE);
    const yaml = await sim(["node", "host"], host);
    const json = await sim(["node", "host", "--json"], host);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe(
      "vzcptsim: node host: uname says 6.1.0-18-amd64 (x86_64), not OpenVZ: 042stab109, " +
        "the newest generation, is assumed; choose another with --kernel GEN\n",
    );
    const value = JSON.parse(json.stdout);
    expect(Object.keys(value)).toEqual([
      "name",
      "kernel",
      "cpu",
      "arch64",
      "ipv6",
      "slmWithoutDmprst",
      "containers",
    ]);
    expect(value.cpu.leaf1Ecx).toBe(hex32(wordsOf("intel-westmere-x5670").leaf1Ecx));
    expect(load(json.stdout, "me.json")).toEqual(load(yaml.stdout, "me.yaml"));
  });

  test("--kernel and --name choose the generation and the name", async () => {
    const host = machineHost(WESTMERE);
    const r = await sim(["node", "host", "--kernel", "042stab093", "--name", "w1"], host);
    expect(r.code).toBe(0);
    expect(comments(r.stdout)[1]).toBe(
      "kernel: 042stab093, given with --kernel (uname says 6.1.0-18-amd64 (x86_64): not OpenVZ).",
    );
    const spec = load(r.stdout, "w1.yaml");
    expect([spec.name, spec.kernel]).toEqual(["w1", "042stab093"]);
    expect(flagsOf(spec)).toBe(
      nodeFlags({
        cpuid: wordsOf(WESTMERE.cpu as string),
        generation: GENERATION_BY_ID.get("042stab093") as Generation,
        arch64: true,
        ipv6: true,
        slmWithoutDmprst: false,
      }),
    );
    // An Ivy Bridge's rdrand counts on 042stab109 only: the option changes the flags.
    const ivy = machineHost({ ...WESTMERE, cpu: "intel-ivybridge-e5-2650v2" });
    const on093 = load(
      (await sim(["node", "host", "--kernel", "042stab093"], ivy)).stdout,
      "a.yaml",
    );
    const on109 = load((await sim(["node", "host"], ivy)).stdout, "b.yaml");
    expect((flagsOf(on109) ^ flagsOf(on093)) >>> 0).toBe(bitMask("rdrand"));
    expect((await sim(["node", "host", "--json", "--kernel=042stab093"], host)).stderr).toBe("");
  });

  test("a 32-bit kernel without IPv6", async () => {
    const host = machineHost({ ...WESTMERE, machine: "i686", ipv6: false });
    const r = await sim(["node", "host"], host);
    expect(r.stdout).toContain(
      "# ipv6: not loaded (no /proc/net/if_inet6 or /proc/sys/net/ipv6).\n",
    );
    expect(r.stdout).toContain("\narch64: false\nipv6: false\n");
    const spec = load(r.stdout, "me.yaml");
    expect(flagsOf(spec)).toBe(collectProfile(host).flags.predicted?.value as number);
  });

  test("names that YAML would read as something else are quoted; comments stay comments", async () => {
    for (const name of ["true", "null", "0x10", "1e3", "a: b", "- x", "#x", "ünïcode"]) {
      const r = await sim(["node", "host", "--name", name], machineHost(WESTMERE));
      expect(r.stdout).toContain(`\nname: ${JSON.stringify(name)}\n`);
      expect(load(r.stdout, "n.yaml").name).toBe(name);
    }
    const odd = machineHost({ ...WESTMERE, hostname: "evil\nkernel: 028stab056" });
    const r = await sim(["node", "host"], odd);
    expect(r.stdout).toContain("# vzcptsim node file: this machine (evil?kernel: 028stab056)");
    const spec = load(r.stdout, "odd.yaml");
    expect([spec.name, spec.kernel]).toEqual(["evil\nkernel: 028stab056", "042stab109"]);
  });
});

describe("node host on a simulated OpenVZ node", () => {
  test("the generation from uname; flags as the kernel reports them; SLM read from them", async () => {
    const host = machineHost({
      release: "2.6.32-042stab113.11",
      cpu: "amd-epyc-7601",
      hostname: "ovz3",
      node: { slmWithoutDmprst: true },
    });
    const record = collectProfile(host);
    const r = await sim(["node", "host"], host);
    expect(r.code).toBe(0);
    const c = comments(r.stdout);
    expect(c[1]).toBe(
      "kernel: uname says 2.6.32-042stab113.11 (x86_64): OpenVZ 042stab109, " +
        "042stab109.3 and later (to 141.3).",
    );
    expect(c[4]).toBe("slmWithoutDmprst: on, read from the flags /proc/rst reports.");
    expect(c.length).toBe(6); // no note: the kernel reports what CPUID predicts
    const spec = load(r.stdout, "ovz3.yaml");
    expect(spec.slmWithoutDmprst).toBe(true);
    expect(flagsOf(spec)).toBe(record.flags.reported?.value as number);
    expect(flagsOf(spec)).toBe(record.flags.predicted?.value as number);
    // No note on stderr: the generation is the machine's own.
    expect((await sim(["node", "host", "--json"], host)).stderr).toBe("");
  });

  test("a CPUID mask the kernel applies is pointed out, not guessed", async () => {
    const avxXsave = (1 << 28) | (1 << 26);
    const host = machineHost({
      release: "2.6.32-042stab120.6",
      cpu: "intel-ivybridge-e5-2650v2",
      node: { cpuidMask: { leaf1Ecx: ~avxXsave >>> 0 } },
    });
    const record = collectProfile(host);
    const r = await sim(["node", "host"], host);
    expect(comments(r.stdout)[5]).toBe(
      `note: /proc/rst reports ${record.flags.reported?.value} = ${record.flags.reported?.hex}, ` +
        "not the flags below (only predicted: xsave avx; only reported: none); a CPUID mask " +
        "is not in this file, add one as cpuidMask if that is the cause.",
    );
    const spec = load(r.stdout, "m.yaml");
    expect(spec.cpuidMask).toBeUndefined();
    expect((spec.cpu as CpuidWords).leaf1Ecx & avxXsave).toBe(avxXsave);
    expect(flagsOf(spec)).toBe(record.flags.predicted?.value as number);
    // With the mask added, the node gives what the kernel reported.
    expect(flagsOf({ ...spec, cpuidMask: { leaf1Ecx: ~avxXsave >>> 0 } })).toBe(
      record.flags.reported?.value as number,
    );
  });
});

describe("node host errors: one line, exit 1", () => {
  const expectError = (r: SimRun, message: string) =>
    expect(r).toEqual({ code: 1, stdout: "", stderr: `vzcptsim: ${message}\n` });

  test("bad options", async () => {
    const host = machineHost(WESTMERE);
    expectError(
      await sim(["node", "host", "--kernel", "042stab999"], host),
      "node host: --kernel: expected a kernel generation (known: 028stab056, 2.6.32-pre, " +
        '042stab061, 042stab088, 042stab092, 042stab093, 042stab101, 042stab108, 042stab109), got "042stab999"',
    );
    expectError(
      await sim(["node", "host", "--name", ""], host),
      "node host: --name: expected a non-empty name",
    );
    expectError(
      await sim(["node", "host", "me.yaml"], host),
      'node host: unexpected argument "me.yaml"',
    );
    expectError(await sim(["node", "host", "--kernel"], host), "node host: --kernel needs a value");
  });

  test("no CPUID, or no native module", async () => {
    expectError(
      await sim(["node", "host"], machineHost({ ...WESTMERE, cpu: null })),
      "node host: cannot read this machine's CPUID: no CPUID on this machine",
    );
    const broken: ProfileHost = {
      ...machineHost(WESTMERE),
      uname: () => {
        throw new Error("cannot load the native module (noexec)");
      },
    };
    expectError(
      await sim(["node", "host"], broken),
      "node host: cannot load the native module (noexec)",
    );
  });
});
