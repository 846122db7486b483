// The CPUs the executable really runs on: dist/vzcptcheck uses Bun's baseline
// x86-64 runtime so that pre-AVX2 nodes (Westmere, Sandy Bridge) can run it.
// qemu-user emulates older CPU models; the man page's REQUIREMENTS section
// states what this test measures.

import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { USAGE } from "../src/usage.ts";
import { ensureBuilt, PRELOAD_SO, VZCPTCHECK } from "./sim-support.ts";

const QEMU = "qemu-x86_64";

beforeAll(() => {
  ensureBuilt(VZCPTCHECK, PRELOAD_SO);
  const found = spawnSync("sh", ["-c", `command -v ${QEMU}`]).status === 0;
  if (!found) throw new Error(`${QEMU} is missing: run test/setup-qemu.sh (make test does)`);
});

const onCpu = (cpu: string, ...args: string[]) =>
  spawnSync(
    QEMU,
    [
      "-cpu",
      cpu,
      "-E",
      `LD_PRELOAD=${PRELOAD_SO}`,
      "-E",
      "VZCPTSIM_SOCKET=/nonexistent",
      VZCPTCHECK,
      ...args,
    ],
    { encoding: "utf8", timeout: 60_000 },
  );

describe("CPU floor of dist/vzcptcheck (x86-64-v2: SSE4.2 + POPCNT, no AVX2)", () => {
  for (const cpu of ["Nehalem", "Westmere", "SandyBridge", "Opteron_G4"]) {
    test(`runs on ${cpu}: usage, and the native module loads and calls open`, () => {
      const help = onCpu(cpu, "help");
      expect([help.status, help.stdout]).toEqual([0, USAGE]);
      const version = onCpu(cpu, "version");
      // The interposer reached the addon's open(): no server, so ENOENT.
      expect([version.status, version.stdout]).toEqual([1, ""]);
      expect(version.stderr).toEndWith(
        "Can't open /proc/cpt: No such file or directory\nKernel module vzcpt not loaded\n",
      );
    });
  }

  for (const cpu of ["Conroe", "Penryn", "Opteron_G3"]) {
    test(`does not start on ${cpu} (illegal instruction), as documented`, () => {
      const r = onCpu(cpu, "help");
      expect(r.status === null ? r.signal : r.status).toSatisfy((s) => s === "SIGILL" || s === 132);
      expect(r.stdout).toBe("");
    });
  }
});
