// `vzcptsim node show` text (sim/commands/node-show.ts formatNodeView), in-process:
// one node's page byte for byte, and every line that depends on the node
// (legacy kernels, ENOSYS/EAGAIN caps tests, raw CPUID with a mask, 32-bit,
// no IPv6, SLM, a missing module, bits a generation does not define).

import { describe, expect, test } from "bun:test";
import { loadProfiles } from "../sim/commands/load.ts";
import { flagNames, formatNodeView, nodeView } from "../sim/commands/node-show.ts";
import { cpuById } from "../sim/cpu/catalog.ts";
import { profileById } from "../sim/kernel/profiles.ts";
import { NodeModel } from "../sim/node.ts";
import { loadNodeRef } from "../sim/schema.ts";
import type { NodeSpec } from "../sim/types.ts";
import { bitMask } from "../src/cpt/bits.ts";
import { simIn, treeEnv } from "./in-process.ts";
import { MIXED_FLEET } from "./sim-support.ts";

const { ctx } = loadProfiles([]);
const model = (ref: string) => new NodeModel(loadNodeRef(ref, ctx));
const page = (m: NodeModel) => formatNodeView(nodeView(m));

describe("node show text", () => {
  test("a node with a locked, a stopped and an external-process container, byte for byte", async () => {
    const want =
      "node mid-093\n" +
      "  kernel       042stab093: 042stab093.5 - 101.4\n" +
      "               image version 2051 (0x00000803)\n" +
      "               suspended-container caps test compares CPUs\n" +
      "  cpu          intel-sandybridge-e5-2670: Intel Xeon E5-2670\n" +
      "               GenuineIntel family 6 model 45\n" +
      "  system       64-bit kernel, IPv6 loaded\n" +
      "  modules      cpt loaded, rst loaded\n" +
      "  node flags   235042207 (0x0e02759f)   (what `vzcptcheck caps` prints here)\n" +
      "               cmov fxsr sse sse2 mmx sysenter emt64 syscall sep32 sse4_1 sse4_2 namespaces xsave avx aesni\n" +
      "containers (5)\n" +
      "  300 shell-session: running, 2 tasks\n" +
      "      flags 66817 (0x00010501): cmov emt64 syscall external_process\n" +
      "      message: Error: external process 77/40123(bash) inside CT (e.g. vzctl enter or vzctl exec).\n" +
      "  301 being-checkpointed: locked, 1 task\n" +
      "      flags 1281 (0x00000501): cmov emt64 syscall\n" +
      '      (CPT_TEST_VECAPS answers EBUSY with "CT is locked")\n' +
      "  302 legacy-32bit: running, 2 tasks\n" +
      "      flags 234906783 (0x0e00649f): cmov fxsr sse sse2 mmx sysenter syscall sse4_1 sse4_2 xsave avx aesni\n" +
      "  303 plain: running, 2 tasks\n" +
      "      flags 1281 (0x00000501): cmov emt64 syscall\n" +
      "  304 stopped: stopped, 0 tasks\n" +
      "      flags 1025 (0x00000401): cmov syscall\n" +
      '      (CPT_TEST_VECAPS answers ESRCH with "CT is not running")\n';
    const m = model(`${MIXED_FLEET}:mid-093`);
    expect(page(m)).toBe(want);
    // The command prints exactly this page.
    expect(await simIn(["node", "show", `${MIXED_FLEET}:mid-093`], treeEnv(""))).toEqual({
      code: 0,
      stdout: want,
      stderr: "",
    });
    // Each line is the view's data: the flags word's names are its bits' names.
    expect(nodeView(m).flags).toBe(
      bitMask(...nodeView(m).flagNames.filter((n) => !n.includes("("))),
    );
  });

  test("the kernel's answers per generation", () => {
    const lines = (ref: string) => page(model(`${MIXED_FLEET}:${ref}`)).split("\n");
    expect(lines("legacy-2618")).toContain(
      "               image version none (no CPT_TEST_VERSION)",
    );
    expect(lines("haswell-108")).toContain(
      "               suspended-container caps test answers ENOSYS (obsoleted)",
    );
    expect(lines("noipv6-109")).toContain("  system       64-bit kernel, IPv6 NOT loaded");
    const eagain = new NodeModel({
      ...loadNodeRef(`${MIXED_FLEET}:noipv6-109`, ctx),
      kernel: "042stab101",
      containers: [],
    });
    const p = page(eagain).split("\n");
    expect(p).toContain("               suspended-container caps test answers EAGAIN");
    expect(p.slice(-2)).toEqual(["containers (0)", ""]);
  });

  test("raw CPUID with a mask, 32-bit, SLM, a module missing, an empty flags word", () => {
    const words = cpuById("intel-ivybridge-e5-2650v2")?.words;
    if (!words) throw new Error("catalog lacks Ivy Bridge");
    const spec: NodeSpec = {
      name: "odd",
      kernel: "042stab109",
      cpu: words,
      cpuidMask: { leaf1Ecx: ~((1 << 28) | (1 << 26)) >>> 0 },
      arch64: false,
      ipv6: false,
      slmWithoutDmprst: true,
      modules: { cpt: false, rst: true },
      containers: [
        {
          id: 7,
          state: "running",
          tasks: [],
          mounts: [],
          netdevs: [],
        },
      ],
    };
    const p = page(new NodeModel(spec)).split("\n");
    expect(p[0]).toBe("node odd");
    expect(p).toContain("  cpu          raw CPUID words");
    expect(p).toContain("               GenuineIntel family 6 model 62");
    expect(p).toContain("  cpuid mask   hides xsave avx");
    expect(p).toContain("  system       32-bit kernel, IPv6 NOT loaded, SLM without slm_dmprst");
    expect(p).toContain("  modules      cpt NOT loaded, rst loaded");
    expect(p).toContain("  7: running, 0 tasks");
    // No IPv6 on the node: the container's word says so.
    expect(p).toContain("      flags 268435457 (0x10000001): cmov no_ipv6");
    // A CPU without features on a 32-bit 2.6.18: no flags at all.
    const bare = new NodeModel({
      ...spec,
      kernel: "028stab056",
      cpu: { ...words, leaf1Ecx: 0, leaf1Edx: 0, leaf7Ebx: 0, ext1Ecx: 0, ext1Edx: 0 },
      cpuidMask: undefined,
      ipv6: true,
      slmWithoutDmprst: false,
      containers: [],
    });
    expect(bare.flags).toBe(0);
    expect(page(bare).split("\n")).toContain("               (none)");
  });

  test("bits a generation does not define are marked", () => {
    const legacy = profileById("028stab056");
    if (!legacy) throw new Error("no 028stab056 profile");
    expect(flagNames(bitMask("cmov", "sse4_1"), legacy)).toEqual([
      "cmov",
      "sse4_1(unknown to this kernel)",
    ]);
  });
});
