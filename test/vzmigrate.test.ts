// vzmigrate's check sequence played literally as shell (test/fixtures/
// vzmigrate-check.sh: `version=$(vzcptcheck version)`, `$?` checks, `ssh
// root@$host vzcptcheck ...` for the destination). Each simulated node gets a
// directory with a `vzcptcheck` that runs the real dist/vzcptcheck under
// libvzcptsim.so against that node's server; a fake `ssh` runs its command
// with the destination's directory first on PATH, through a shell as sshd
// would. The script runs with the source's directory first on PATH.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { $ } from "zx";
import { loadProfiles } from "../sim/commands/load.ts";
import { NodeModel } from "../sim/node.ts";
import { loadFleetFile } from "../sim/schema.ts";
import { type NodeServer, serveNode } from "../sim/server.ts";
import {
  DEMO_FLEET,
  ensureBuilt,
  MIXED_FLEET,
  PRELOAD_SO,
  ROOT,
  runAsync,
  tempDir,
  VZCPTCHECK,
  VZCPTSIM,
} from "./sim-support.ts";

const SCRIPT = join(ROOT, "test/fixtures/vzmigrate-check.sh");
const tmp = tempDir();
const hosts = join(tmp.dir, "hosts");
const tools = join(tmp.dir, "tools");
const servers: NodeServer[] = [];

const script = (path: string, body: string): void => {
  writeFileSync(path, body);
  chmodSync(path, 0o755);
};

beforeAll(async () => {
  ensureBuilt(VZCPTCHECK, VZCPTSIM, PRELOAD_SO);
  const { ctx } = loadProfiles([]);
  mkdirSync(tools);
  for (const file of [DEMO_FLEET, MIXED_FLEET]) {
    for (const spec of loadFleetFile(file, ctx).nodes) {
      const server = await serveNode(new NodeModel(spec), join(tmp.dir, `${spec.name}.sock`));
      servers.push(server);
      const dir = join(hosts, spec.name);
      mkdirSync(dir, { recursive: true });
      script(
        join(dir, "vzcptcheck"),
        `#!/bin/sh\nLD_PRELOAD='${PRELOAD_SO}' VZCPTSIM_SOCKET='${server.socketPath}' exec '${VZCPTCHECK}' "$@"\n`,
      );
    }
  }
  // ssh root@HOST CMD...: CMD runs "on HOST" (a login PATH with its vzcptcheck), through a shell.
  script(
    join(tools, "ssh"),
    `#!/bin/sh\nhost=\${1#*@}\nshift\nPATH='${hosts}'/$host:/usr/bin:/bin exec sh -c "$*"\n`,
  );
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  tmp.remove();
});

interface Migration {
  readonly stdout: string;
  readonly stderr: string;
  readonly exit: number;
}

/** Run the check on SRC for moving VEID ("" for a suspended CT) to DST. */
/** The source node's environment (HOME: zx's bash must not read the real ~/.bashrc). */
const sourceEnv = (src: string) => ({
  PATH: `${join(hosts, src)}:${tools}:/usr/bin:/bin`,
  TMPDIR: tmp.dir,
  HOME: tmp.dir,
});

async function vzmigrateCheck(src: string, dst: string, veid: string): Promise<Migration> {
  const env = sourceEnv(src);
  const r = await $({ env, nothrow: true, quiet: true })`sh ${SCRIPT} ${dst} ${veid}`;
  return { stdout: r.stdout, stderr: r.stderr, exit: r.exitCode ?? -1 };
}

/** What `vzcptsim migrate-check` decides for the same migration (0 GO, 2 NO-GO). */
async function simVerdict(
  fleet: string,
  veid: string,
  src: string,
  dst: string,
  suspended: boolean,
): Promise<number> {
  const args = ["migrate-check", fleet, veid, src, dst, ...(suspended ? ["--suspended"] : [])];
  return (await runAsync([VZCPTSIM, ...args], { PATH: process.env.PATH })).exit;
}

describe("vzmigrate's check as shell, destination through ssh", () => {
  test("accepted: CT 101 (used AVX) from Ivy Bridge to Haswell", async () => {
    const r = await vzmigrateCheck("ivybridge-a", "haswell-c", "101");
    expect(r).toEqual({ stdout: "", stderr: "vzmigrate: CPT checks passed\n", exit: 0 });
    expect(await simVerdict(DEMO_FLEET, "101", "ivybridge-a", "haswell-c", false)).toBe(0);
  });

  test("refused: the same container to Westmere (no AVX)", async () => {
    const r = await vzmigrateCheck("ivybridge-a", "westmere-b", "101");
    expect(r).toEqual({
      stdout: "",
      stderr:
        "Error: Destination cpu does not have xsave\n" +
        "Error: Destination cpu does not have avx\n" +
        "Error: Destination cpu does not have rdrand\n" +
        "Insufficient CPU capabilities: can't migrate\n" +
        "vzmigrate: destination CPU is not compatible\n",
      exit: 12,
    });
    expect(await simVerdict(DEMO_FLEET, "101", "ivybridge-a", "westmere-b", false)).toBe(2);
  });

  test("refused by the destination's version check (0x803 image, 042stab061 restorer)", async () => {
    const r = await vzmigrateCheck("mid-093", "early-061", "303");
    expect(r).toEqual({
      stdout: "",
      stderr:
        "CPT version 2051 rejected: can't migrate\nvzmigrate: destination can't restore images of CPT version 2051\n",
      exit: 11,
    });
    expect(await simVerdict(MIXED_FLEET, "303", "mid-093", "early-061", false)).toBe(2);
  });

  test("a suspended container on a 042stab108 source: the old-kernel warning, then go", async () => {
    // Empty $VEID: the unquoted expansion disappears, giving `vzcptcheck caps CAPS`.
    const r = await vzmigrateCheck("haswell-108", "mid-093", "");
    expect(r).toEqual({
      stdout: "",
      stderr:
        "vzcptcheck WARNING: old kernel, please update to kernel >= 042stab107.x\nvzmigrate: CPT checks passed\n",
      exit: 0,
    });
  });

  test("a 2.6.18 source: no image version, so only the CPU check runs (and refuses)", async () => {
    const r = await vzmigrateCheck("legacy-2618", "pre-2632", "200");
    expect(r).toEqual({
      stdout: "",
      stderr:
        "Error in ioctl(CPT_TEST_VERSION): Invalid argument\n" +
        "Insufficient CPU capabilities: can't migrate\n" +
        "vzmigrate: destination CPU is not compatible\n",
      exit: 12,
    });
    expect(await simVerdict(MIXED_FLEET, "200", "legacy-2618", "pre-2632", false)).toBe(2);
  });

  test("the destination really answers: its caps reach the source's check", async () => {
    // The fake ssh alone, as vzmigrate's CPU_CAPS=$(ssh ...) would see it.
    const env = sourceEnv("ivybridge-a");
    const caps = await $({ env, quiet: true })`ssh root@westmere-b vzcptcheck caps`;
    const own = await $({ env, quiet: true })`vzcptcheck caps`;
    expect([caps.stdout, own.stdout]).toEqual(["134378911\n", "771913119\n"]);
    const missing = await $({ env, nothrow: true, quiet: true })`ssh root@nowhere vzcptcheck caps`;
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain("vzcptcheck: not found");
  });
});
