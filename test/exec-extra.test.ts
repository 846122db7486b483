// `vzcptcheck explain` and `vzcptcheck profile` run in-process against a node
// (sim/device.ts runInProcess, `vzcptsim exec`): dispatched as src/cli.ts does,
// with the node as their machine (sim/host.ts), and compared with the real
// dist/vzcptcheck under libvzcptsim.so.
//
// Under the interposer only /proc/cpt and /proc/rst are the node's: uname,
// the host name, CPUID and the IPv6 paths are this machine's. So the bytes are
// compared for every argv whose output does not depend on those (help, usage
// errors, explain with --kernel), and for `profile --json` the parts the
// kernel answers (cpt.version, cpt.caps with its messages) are compared.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { release as osRelease } from "node:os";
import { join } from "node:path";
import { loadProfiles } from "../sim/commands/load.ts";
import { CPU_CATALOG, cpuById } from "../sim/cpu/catalog.ts";
import { cpuidFor } from "../sim/cpu/instruction.ts";
import { runInProcess } from "../sim/device.ts";
import { REPRESENTATIVE_RELEASES, releaseFor } from "../sim/kernel/releases.ts";
import { NodeModel } from "../sim/node.ts";
import { nodeFromProfileRecord } from "../sim/profile-record.ts";
import { loadFleetFile } from "../sim/schema.ts";
import { type NodeServer, serveNode } from "../sim/server.ts";
import type { NodeSpec } from "../sim/types.ts";
import { applyMask, readHostCpuid } from "../src/cpt/cpuid.ts";
import { GENERATIONS, generationFromRelease } from "../src/cpt/generations.ts";
import type { ProfileRecord } from "../src/profile.ts";
import { simIn, treeEnv } from "./in-process.ts";
import {
  DEMO_FLEET,
  ensureBuilt,
  PRELOAD_SO,
  ROOT,
  tempDir,
  text,
  underPreload,
  VZCPTCHECK,
} from "./sim-support.ts";

const FLEET_FILE = join(ROOT, "test/fixtures/generations.yaml");
const loaded = loadProfiles([]);
const fleet = loadFleetFile(FLEET_FILE, loaded.ctx);
const env = treeEnv(readFileSync(DEMO_FLEET, "utf8"));
const specOf = (name: string): NodeSpec => fleet.nodes.find((n) => n.name === name) as NodeSpec;

/** `vzcptsim exec FLEET:NODE -- vzcptcheck ARGS`, in this process. */
const exec = (node: string, args: readonly string[]) =>
  simIn(["exec", `${FLEET_FILE}:${node}`, "--", "vzcptcheck", ...args], env);

describe("representative releases", () => {
  test("one per generation, read back as that generation (64-bit and 32-bit)", () => {
    expect(Object.keys(REPRESENTATIVE_RELEASES).sort()).toEqual(
      GENERATIONS.map((g) => g.id).sort(),
    );
    for (const g of GENERATIONS) {
      for (const arch64 of [true, false]) {
        const release = releaseFor({ base: g.id }, arch64);
        expect({ release, gen: generationFromRelease(release)?.id }).toEqual({
          release,
          gen: g.id,
        });
      }
    }
    expect(releaseFor({ base: "042stab109" }, true)).toBe("2.6.32-042stab113.11");
    expect(() => releaseFor({ base: "custom-only" }, true)).toThrow(
      "no representative release for generation custom-only",
    );
  });

  test("vzcptsim(1) lists each generation's release", () => {
    const man = readFileSync(join(ROOT, "man/vzcptsim.1"), "utf8");
    const roff = (t: string) => t.replace(/-/g, "\\-");
    for (const g of GENERATIONS) {
      expect(man).toContain(`\n${roff(g.id)}    ${roff(releaseFor({ base: g.id }, true))}`);
    }
  });

  test("the simulated CPUID instruction gives back every catalog CPU's words", () => {
    for (const c of CPU_CATALOG) {
      expect({ id: c.id, words: readHostCpuid(cpuidFor(c.words, c.name)) }).toEqual({
        id: c.id,
        words: c.words,
      });
    }
  });
});

/** The number a show command prints on the node, or null when it prints none. */
function answer(node: NodeModel, args: readonly string[]): number | null {
  const r = runInProcess(node, args);
  return r.exit === 0 && r.stdout !== "" ? Number(r.stdout) : null;
}

describe("explain and profile through vzcptsim exec", () => {
  test("explain reads the word as the node's generation, named by its release", async () => {
    const r = await exec("g093", ["explain", "5"]);
    expect(r).toEqual({
      code: 0,
      stdout:
        "Word 0x00000005 (5) read as 042stab093 (042stab093.5 - 101.4), this node's kernel 2.6.32-042stab094.8\n" +
        "  bit  name                class                          meaning\n" +
        "    0  cmov                instruction-set extension      conditional move instructions\n" +
        "    2  sse                 instruction-set extension      SSE instructions\n",
      stderr: "",
    });
    const legacy = await exec("legacy", ["explain", "--json", "0x1"]);
    expect(legacy.code).toBe(0);
    expect(JSON.parse(legacy.stdout).generation).toEqual({
      id: "028stab056",
      title: "2.6.18 028stab056 (OpenVZ 5)",
      source: "node",
      release: "2.6.18-028stab056.1",
    });
    // Two words: the kernel's verdict on this node's generation, exit 2.
    const refused = await exec("g109", ["explain", "771913119", "134378911"]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain("Kernel       042stab109 (042stab109.3 and later (to 141.3))");
    expect(refused.stdout).toContain("\nVerdict: refused: CPT_TEST_VECAPS returns 1 ");
  });

  test("profile describes the node: release, host name, masked CPUID, IPv6, its kernel's flags", () => {
    for (const spec of [
      ...fleet.nodes,
      // A CPUID mask on a generation that reads raw CPUID, and a 32-bit kernel.
      { ...specOf("g092"), name: "masked", cpuidMask: { leaf1Ecx: 0xfdffffff } },
      { ...specOf("g101"), name: "k32", arch64: false },
    ]) {
      const node = new NodeModel(spec);
      const r = runInProcess(node, ["profile", "--json"]);
      expect({ node: spec.name, exit: r.exit, stderr: text(r.stderr) }).toEqual({
        node: spec.name,
        exit: 0,
        stderr: "",
      });
      const rec = JSON.parse(r.stdout) as ProfileRecord;
      const seen = applyMask(node.cpu, spec.cpuidMask);
      expect({
        node: spec.name,
        hostname: rec.hostname,
        kernel: rec.kernel,
        openvz: rec.openvz?.generation,
        arch64: rec.arch64,
        ipv6: rec.ipv6.loaded,
        vendor: rec.cpu?.vendor,
        family: rec.cpu?.family,
        model: rec.cpu?.model,
        brand: rec.cpu?.brand,
        cpuid: rec.cpu?.cpuid,
        reported: rec.flags.reported?.value ?? null,
        version: rec.cpt.version.value,
      }).toEqual({
        node: spec.name,
        hostname: spec.name,
        kernel: {
          sysname: "Linux",
          release: releaseFor(node.profile, spec.arch64),
          version: "#1 SMP (simulated by vzcptsim)",
          machine: spec.arch64 ? "x86_64" : "i686",
        },
        openvz: spec.kernel,
        arch64: spec.arch64,
        ipv6: spec.ipv6,
        vendor: seen.vendor,
        family: seen.family,
        model: seen.model,
        brand: cpuById(spec.cpu as string)?.name ?? null,
        cpuid: {
          leaf1Ecx: seen.leaf1Ecx,
          leaf1Edx: seen.leaf1Edx,
          leaf7Ebx: seen.leaf7Ebx,
          leaf7Ecx: seen.leaf7Ecx,
          leaf7Edx: seen.leaf7Edx,
          ext1Ecx: seen.ext1Ecx,
          ext1Edx: seen.ext1Edx,
        },
        // What `vzcptcheck caps` and `vzcptcheck version` print on the node.
        reported: answer(node, ["caps"]),
        version: answer(node, ["version"]),
      });
      // The record loads back as a node predicting what profile predicted.
      const back = nodeFromProfileRecord(rec, `${spec.name}.json`, loaded.ctx) as NodeSpec;
      expect(new NodeModel(back).flags).toBe(rec.flags.predicted?.value as number);
    }
  });

  test("a mask is seen by CPUID: reported = predicted where the kernel reads masked caps", () => {
    const hideAes = { leaf1Ecx: 0xfdffffff };
    const masked = (name: string) =>
      JSON.parse(
        runInProcess(new NodeModel({ ...specOf(name), cpuidMask: hideAes }), ["profile", "--json"])
          .stdout,
      ) as ProfileRecord;
    const g109 = masked("g109");
    expect(g109.flags.match).toBe(true);
    expect(g109.cpu?.features).not.toContain("aes");
    // 042stab092 reads raw CPUID: the kernel still reports aesni, CPUID hides it.
    const g092 = masked("g092");
    expect(g092.flags.match).toBe(false);
    expect(g092.flags.onlyReported?.map((b) => b.name)).toEqual(["aesni"]);
  });

  test("not root: profile says why the kernel facts are unknown, as dist/vzcptcheck would", () => {
    const r = runInProcess(new NodeModel(specOf("g109")), ["profile"], 1000);
    expect(r.exit).toBe(0);
    expect(r.stdout).toContain(
      "\nCPT version     unknown: Can't open /proc/cpt: Permission denied\n",
    );
    expect(r.stdout).toContain(
      "\nOpenVZ          042stab109 (042stab109.3 and later (to 141.3))\n",
    );
  });
});

// ---------------------------------------------------------------------------
// The same argv through the real binary under the interposer.

/** Argv whose output depends on nothing but the kernel (and the argv). */
const SAME_EVERYWHERE: readonly (readonly string[])[] = [
  ["explain"],
  ["explain", "--help"],
  ["explain", "5", "--kernel", "042stab109"],
  ["explain", "771913119", "134378911", "--kernel", "042stab109"],
  ["explain", "0x2e02759f", "0", "--kernel=042stab061", "--json"],
  ["explain", "3", "--kernel", "028stab056"],
  ["explain", "12abc"],
  ["explain", "5", "--kernel", "042stab999"],
  ["explain", "--frobnicate", "1"],
  ["explain", "1", "2", "3"],
  ["profile", "--help"],
  ["profile", "--json", "-h"],
  ["profile", "--xml"],
];

const NODES = ["g109", "g093", "legacy", "nomodules"] as const;
const tmp = tempDir();
const servers = new Map<string, NodeServer>();

beforeAll(async () => {
  ensureBuilt(VZCPTCHECK, PRELOAD_SO);
  for (const name of NODES) {
    servers.set(name, await serveNode(new NodeModel(specOf(name)), join(tmp.dir, `${name}.sock`)));
  }
});

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
  tmp.remove();
});

const socketOf = (name: string): string => (servers.get(name) as NodeServer).socketPath;

describe("vzcptsim exec and dist/vzcptcheck under the interposer agree", () => {
  for (const name of NODES) {
    test(`explain and profile on node ${name}: bytes and exit codes`, async () => {
      for (const args of SAME_EVERYWHERE) {
        const want = await exec(name, args);
        const got = await underPreload(socketOf(name), args);
        const label = `vzcptcheck ${args.join(" ")}`;
        expect({
          label,
          stdout: text(got.stdout),
          stderr: text(got.stderr),
          exit: got.exit,
        }).toEqual({ label, stdout: want.stdout, stderr: want.stderr, exit: want.code });
        // exec copies the in-process bytes unchanged.
        const direct = runInProcess(new NodeModel(specOf(name)), args);
        expect(got.stderr).toEqual(direct.stderr);
      }
    }, 60_000);

    test(`profile --json on node ${name}: what the kernel answers is the same`, async () => {
      const want = JSON.parse((await exec(name, ["profile", "--json"])).stdout) as ProfileRecord;
      const got = await underPreload(socketOf(name), ["profile", "--json"]);
      expect(got.exit).toBe(0);
      const rec = JSON.parse(text(got.stdout)) as ProfileRecord;
      expect(rec.cpt).toEqual(want.cpt);
      expect(rec.slmWithoutDmprst).toEqual(want.slmWithoutDmprst);
    }, 60_000);
  }

  test("the comparison is not vacuous: known answers on both paths", async () => {
    const help = await underPreload(socketOf("g109"), ["explain", "--help"]);
    expect(text(help.stdout)).toStartWith("Usage: vzcptcheck explain CAPS [DESTCAPS]");
    const refused = await exec("g109", [
      "explain",
      "771913119",
      "134378911",
      "--kernel",
      "042stab109",
    ]);
    expect(refused.code).toBe(2);
    const rec = JSON.parse(
      text((await underPreload(socketOf("g109"), ["profile", "--json"])).stdout),
    ) as ProfileRecord;
    expect(rec.cpt.version.value).toBe(2051);
    expect(rec.cpt.caps.value).toBe(new NodeModel(specOf("g109")).flags);
  });

  test("profile under the interposer: CPT answers, and is not listed as unknown", async () => {
    const got = await underPreload(socketOf("g109"), ["profile"]);
    const out = text(got.stdout);
    expect(got.exit).toBe(0);
    expect(out).toContain("\nCPT version     2051 (0x803)\n");
    expect(out).not.toContain("no CPT version or flags");
    expect(out).not.toContain("CPT version:");
    // This machine's own release names the generation, if it names one.
    const gen = generationFromRelease(osRelease());
    expect(out).toContain(
      gen === null
        ? "\nOpenVZ          unrecognised release, but CPT answers (flags below are predicted for 042stab109, the newest generation)\n"
        : `\nOpenVZ          ${gen.id} (${gen.title})\n`,
    );
  });
});
