// vzcptsim's command line in-process (sim/main.ts's main): the same bytes and
// exit codes as dist/vzcptsim for help and errors, and the commands that only
// the binary tests reached before (catalogs, demo, exec, serve + control, run)
// with their outputs checked against what they stand for.

import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadProfiles } from "../sim/commands/load.ts";
import { CPU_CATALOG } from "../sim/cpu/index.ts";
import { runInProcess } from "../sim/device.ts";
import { BUILTIN_PROFILES, knownProfileIds } from "../sim/kernel/profiles.ts";
import { COMMANDS, defaultEnv, main, usage } from "../sim/main.ts";
import { NodeModel } from "../sim/node.ts";
import { loadNodeRef } from "../sim/schema.ts";
import { serveNode, socketPathProblem } from "../sim/server.ts";
import { capture, type SimRun, simIn, treeEnv } from "./in-process.ts";
import {
  DEMO_FLEET,
  ensureBuilt,
  MIXED_FLEET,
  PRELOAD_SO,
  tempDir,
  text,
  underPreload,
  VZCPTCHECK,
  VZCPTSIM,
} from "./sim-support.ts";

ensureBuilt(VZCPTCHECK, VZCPTSIM, PRELOAD_SO);
const tmp = tempDir("vzcptsim-main-");
afterAll(() => tmp.remove());

const DEMO_TEXT = readFileSync(DEMO_FLEET, "utf8");
const env = treeEnv(DEMO_TEXT);
const sim = (...args: string[]): Promise<SimRun> => simIn(args, env);

/** The same argv through dist/vzcptsim. */
function binary(args: readonly string[]): SimRun {
  const r = spawnSync(VZCPTSIM, args, { encoding: "utf8", env: { PATH: process.env.PATH } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const oneLineError = (message: string): SimRun => ({
  code: 1,
  stdout: "",
  stderr: `vzcptsim: ${message}\n`,
});

describe("dispatch", () => {
  test("help, argument errors, node host: the bytes and exit codes of dist/vzcptsim", async () => {
    for (const argv of [
      ["help"],
      ["--help"],
      ["-h"],
      [],
      ["bogus"],
      ["node"],
      ["node", "--help"],
      ["node", "list"],
      ["help", "node"],
      ["help", "node", "show"],
      ["help", "nope"],
      ["fleet"],
      ["fleet", "-h"],
      ["cpus", "extra"],
      ["exec", DEMO_FLEET, "--", "ls"],
      // This machine, through the native module in both.
      ["node", "host"],
      ["node", "host", "--json", "--kernel", "042stab093"],
    ]) {
      expect({ argv, ...(await sim(...argv)) }).toEqual({ argv, ...binary(argv) });
    }
  });

  test("the command list names every command with its summary", async () => {
    const help = await sim("help");
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(usage());
    const width = Math.max(...COMMANDS.map((c) => c.path.join(" ").length));
    for (const c of COMMANDS) {
      expect(help.stdout).toContain(`\n  ${c.path.join(" ").padEnd(width)}  ${c.summary}\n`);
    }
    expect(help.stdout).toEndWith(`  ${"help".padEnd(width)}  this text, or a command's help\n`);
    // No command: the same list on stderr, exit 1.
    expect(await sim()).toEqual({ code: 1, stdout: "", stderr: help.stdout });
  });

  test("every command's help, three ways; --help after -- belongs to the program", async () => {
    for (const c of COMMANDS) {
      const want = { code: 0, stdout: c.help, stderr: "" };
      expect(c.help).toStartWith(`Usage: vzcptsim ${c.path.join(" ")}`);
      expect(await sim(...c.path, "--help")).toEqual(want);
      expect(await sim(...c.path, "-h")).toEqual(want);
      expect(await sim("help", ...c.path)).toEqual(want);
    }
    const ref = `${DEMO_FLEET}:westmere-b`;
    const r = await sim("exec", ref, "--", "vzcptcheck", "--help");
    const own = runInProcess(new NodeModel(loadNodeRef(ref, loadProfiles([]).ctx)), ["--help"]);
    expect(r).toEqual({ code: own.exit, stdout: own.stdout, stderr: text(own.stderr) });
    expect(`${r.stdout}${r.stderr}`).toStartWith("Usage:\tvzcptcheck <command>");
  });

  test("a failing command: one line on stderr, nothing on stdout, exit 1", async () => {
    const missing = join(tmp.dir, "missing.yaml");
    expect(await sim("node", "show", missing)).toEqual(
      oneLineError(`${missing}: cannot read: no such file`),
    );
    const bad = join(tmp.dir, "bad.yaml");
    writeFileSync(bad, "kernel: [\n");
    const r = await sim("node", "show", bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`vzcptsim: ${bad}: not valid YAML: `);
    expect(r.stderr.indexOf("\n")).toBe(r.stderr.length - 1);
  });

  test("defaultEnv under bun: the interposer and the demo fleet from the tree", () => {
    const e = defaultEnv();
    expect(realpathSync(e.preloadPath())).toBe(realpathSync(PRELOAD_SO));
    expect(e.preloadPath()).toBe(e.preloadPath()); // found once
    expect(e.demoFleetText).toBe(DEMO_TEXT);
    // bun itself has no vzcptcheck beside it.
    expect(e.siblingVzcptcheck).toBeNull();
    expect(e.host).toBeUndefined();
  });
});

describe("cpus and kernels", () => {
  test("cpus: one line per catalog model; --json is the catalog", async () => {
    const r = await sim("cpus");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.length).toBe(CPU_CATALOG.length);
    CPU_CATALOG.forEach((c, i) => {
      const line = lines[i] as string;
      expect(line).toStartWith(`${c.id} `);
      expect(line).toContain(c.vendor === "GenuineIntel" ? "  Intel  " : "  AMD    ");
      expect(line).toEndWith(`  ${c.year}  ${c.name} (${c.microarchitecture})`);
    });
    expect(JSON.parse((await sim("cpus", "--json")).stdout)).toEqual(
      JSON.parse(JSON.stringify(CPU_CATALOG)),
    );
  });

  test("kernels: the generations, then custom profiles; --json the profiles", async () => {
    const r = await sim("kernels");
    expect(r.stdout.split("\n").map((l) => l.split(/\s+/)[0])).toEqual([...knownProfileIds(), ""]);
    for (const p of BUILTIN_PROFILES) expect(r.stdout).toContain(`${p.id}  `);
    expect(JSON.parse((await sim("kernels", "--json")).stdout)).toEqual(
      JSON.parse(JSON.stringify(BUILTIN_PROFILES)),
    );
    const profile = join(tmp.dir, "mine.yaml");
    writeFileSync(profile, "extends: 042stab109\nid: my-109\ntitle: my patched 109\n");
    const custom = await sim("kernels", "--profile", profile);
    expect(custom.stdout).toEndWith("my-109      my patched 109\n");
    const loaded = loadProfiles([profile]);
    expect(JSON.parse((await sim("kernels", "--json", "--profile", profile)).stdout)).toEqual(
      JSON.parse(JSON.stringify([...BUILTIN_PROFILES, ...loaded.profiles])),
    );
  });
});

describe("demo", () => {
  test("in-process: the binary's report, one refusal and one acceptance, exit 0", async () => {
    const r = await sim("demo");
    expect(r).toEqual(binary(["demo"]));
    expect(r.stdout).toStartWith("vzcptsim demo: would vzmigrate live-migrate this container?\n");
    expect(r.stdout).toContain(
      "  ivybridge-a  Intel Xeon E5-2650 v2 (Ivy Bridge-EP), has AVX; runs CT 101\n",
    );
    expect(r.stdout).toContain("  westmere-b   Intel Xeon X5670 (Westmere-EP), no AVX\n");
    expect(r.stdout).toContain("=== 2. CT 101: ivybridge-a -> haswell-c (expected: accepted) ===");
  });

  test("--via-preload runs the real vzcptcheck; --show-fleet prints the fleet", async () => {
    const inProcess = await sim("demo");
    const via = await sim("demo", "--via-preload");
    expect(via.code).toBe(0);
    expect(via.stdout).toContain("[fleet demo, preload]");
    expect(via.stdout.replaceAll("preload]", "in-process]")).toBe(inProcess.stdout);
    expect(await sim("demo", "--show-fleet")).toEqual({ code: 0, stdout: DEMO_TEXT, stderr: "" });
    const alone = treeEnv(DEMO_TEXT, { siblingVzcptcheck: null });
    expect(await simIn(["demo", "--via-preload"], alone)).toEqual(
      oneLineError("demo: --via-preload needs --vzcptcheck PATH (no vzcptcheck beside vzcptsim)"),
    );
    const given = await simIn(["demo", "--via-preload", "--vzcptcheck", VZCPTCHECK], alone);
    expect(given.stdout).toBe(via.stdout);
  });

  test("an outcome other than the expected one: said so, exit 1", async () => {
    // The "Haswell" node given a Westmere CPU: the AVX container is refused there too.
    const changed = DEMO_TEXT.replace(
      /(name: haswell-c[\s\S]*?cpu: )intel-haswell-e5-2680v3/,
      "$1intel-westmere-x5670",
    );
    expect(changed).not.toBe(DEMO_TEXT);
    const r = await simIn(["demo"], treeEnv(changed));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "NO-GO: vzmigrate would refuse to move CT 101 from ivybridge-a to haswell-c:",
    );
    expect(r.stdout).toEndWith("\nUNEXPECTED: an outcome differs from what the demo expects.\n");
  });
});

describe("exec", () => {
  const model = (ref: string) => new NodeModel(loadNodeRef(ref, loadProfiles([]).ctx));

  test("the bytes and exit code of the flows run directly on the node", async () => {
    for (const [ref, args] of [
      [`${DEMO_FLEET}:ivybridge-a`, ["caps", "101", "134378911"]],
      [`${DEMO_FLEET}:westmere-b`, ["caps"]],
      [`${MIXED_FLEET}:mid-093`, ["caps", "300", "0"]],
      [`${MIXED_FLEET}:legacy-2618`, ["version"]],
    ] as const) {
      const want = runInProcess(model(ref), args);
      const got = await sim("exec", ref, "--", "vzcptcheck", ...args);
      expect(got).toEqual({ code: want.exit, stdout: want.stdout, stderr: text(want.stderr) });
    }
    expect(
      (await sim("exec", `${DEMO_FLEET}:ivybridge-a`, "--", "vzcptcheck", "caps")).stdout,
    ).toBe("771913119\n");
  });

  test("--euid, and the program must be vzcptcheck after --", async () => {
    const ref = `${DEMO_FLEET}:westmere-b`;
    expect(
      await sim("exec", ref, "--euid", "1000", "--", "/usr/sbin/vzcptcheck", "version"),
    ).toEqual({
      code: 1,
      stdout: "",
      stderr: "Can't open /proc/cpt: Permission denied\nKernel module vzcpt not loaded\n",
    });
    expect(await sim("exec", ref, "--euid", "-1", "--", "vzcptcheck")).toEqual(
      oneLineError('exec: --euid must be an integer from 0 to 4294967294, got "-1"'),
    );
    expect(await sim("exec", ref, "--")).toEqual(
      oneLineError(
        'exec: only vzcptcheck runs in-process (got ""); use vzcptsim run for other programs',
      ),
    );
  });
});

describe("serve and control", () => {
  test("serve until SIGTERM; control pings, locks a container, reads the kernel log", async () => {
    const socket = join(tmp.dir, "in-process.sock");
    const out = capture();
    const serving = main(["serve", `${DEMO_FLEET}:ivybridge-a`, "--socket", socket], env, out);
    const until = Date.now() + 10_000;
    while (out.stderrText() === "" && Date.now() < until) await Bun.sleep(5);
    expect(out.stderrText()).toBe(`vzcptsim: serving node ivybridge-a (042stab109) on ${socket}\n`);
    try {
      expect(await sim("control", "--socket", socket, "ping")).toEqual({
        code: 0,
        stdout: "ivybridge-a\n",
        stderr: "",
      });
      expect(await sim("control", "--socket", socket, "set-state", "101", "locked")).toEqual({
        code: 0,
        stdout: "",
        stderr: "",
      });
      const locked = await underPreload(socket, ["caps", "101", "0"]);
      expect(text(locked.stderr)).toBe(
        "Error: CT is locked\nError in ioctl(CPT_TEST_VECAPS): Device or resource busy\n",
      );
      expect(await sim("control", "--socket", socket, "kernel-log")).toEqual({
        code: 0,
        stdout: "CPT ERR: CT is locked\n",
        stderr: "",
      });
      expect(await sim("control", "--socket", socket, "set-state", "7", "locked")).toEqual(
        oneLineError("control: set-state: node ivybridge-a has no container 7"),
      );
    } finally {
      process.kill(process.pid, "SIGTERM");
    }
    expect(await serving).toBe(0);
    expect(existsSync(socket)).toBe(false);
    expect(out.stdoutText()).toBe("");
  });

  test("control's argument errors, and nobody listening", async () => {
    const none = join(tmp.dir, "none.sock");
    expect(await sim("control", "ping")).toEqual(
      oneLineError("control: --socket PATH is required"),
    );
    expect(await sim("control", "--socket", none, "ping", "x")).toEqual(
      oneLineError("control: ping takes no arguments"),
    );
    expect(await sim("control", "--socket", none, "set-state", "101")).toEqual(
      oneLineError("control: set-state needs CTID and STATE"),
    );
    expect(await sim("control", "--socket", none, "set-state", "x", "locked")).toEqual(
      oneLineError('control: CTID must be an integer from 1 to 4294967295, got "x"'),
    );
    const r = await sim("control", "--socket", none, "kernel-log");
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`vzcptsim: control: cannot reach node server at ${none}: `);
  });

  test("serve: no --socket, or a socket that cannot be made", async () => {
    expect(await sim("serve", `${DEMO_FLEET}:ivybridge-a`)).toEqual(
      oneLineError("serve: --socket PATH is required"),
    );
    const nowhere = join(tmp.dir, "no-such-dir", "a.sock");
    const r = await sim("serve", `${DEMO_FLEET}:ivybridge-a`, "--socket", nowhere);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`vzcptsim: serve: cannot listen on ${nowhere}: `);
    expect(r.stderr.indexOf("\n")).toBe(r.stderr.length - 1);
  });
});

describe("socket paths longer than a Unix socket's", () => {
  test("serve and control refuse them before touching anything, saying the limit", async () => {
    // 108 bytes and more do not fit sun_path with its NUL; the file there must survive.
    const long = join(tmp.dir, "s".repeat(120 - tmp.dir.length - 1));
    expect(Buffer.byteLength(long)).toBe(120);
    writeFileSync(long, "not a socket");
    expect(await sim("serve", `${DEMO_FLEET}:ivybridge-a`, "--socket", long)).toEqual(
      oneLineError("serve: --socket: socket path too long (120 bytes; at most 107)"),
    );
    expect(readFileSync(long, "utf8")).toBe("not a socket");
    expect(await sim("control", "--socket", long, "ping")).toEqual(
      oneLineError("control: --socket: socket path too long (120 bytes; at most 107)"),
    );
    const at108 = join(tmp.dir, "t".repeat(108 - tmp.dir.length - 1));
    expect((await sim("serve", `${DEMO_FLEET}:ivybridge-a`, "--socket", at108)).stderr).toBe(
      "vzcptsim: serve: --socket: socket path too long (108 bytes; at most 107)\n",
    );
    // serveNode itself refuses too (run and migrate-check --via-preload use it).
    const node = new NodeModel(loadNodeRef(`${DEMO_FLEET}:ivybridge-a`, loadProfiles([]).ctx));
    await expect(serveNode(node, long)).rejects.toThrow(
      "socket path too long (120 bytes; at most 107)",
    );
    expect(socketPathProblem("")).toBe("empty socket path");
  });

  test("107 bytes is still a socket path: served and reached through the interposer", async () => {
    const at107 = join(tmp.dir, "u".repeat(107 - tmp.dir.length - 1));
    expect(socketPathProblem(at107)).toBeNull();
    const node = new NodeModel(loadNodeRef(`${DEMO_FLEET}:ivybridge-a`, loadProfiles([]).ctx));
    const server = await serveNode(node, at107);
    try {
      expect(text((await underPreload(at107, ["caps"])).stdout)).toBe("771913119\n");
    } finally {
      await server.stop();
    }
  });
});

describe("run", () => {
  test("the real vzcptcheck under the interposer; exit codes and signals passed on", async () => {
    const file = join(tmp.dir, "caps.out");
    const script = '"$0" caps 101 134378911 > "$1" 2>&1; echo "exit $?" >> "$1"';
    const r = await sim(
      "run",
      `${DEMO_FLEET}:ivybridge-a`,
      "--",
      "sh",
      "-c",
      script,
      VZCPTCHECK,
      file,
    );
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readFileSync(file, "utf8")).toBe(
      "Error: Destination cpu does not have xsave\n" +
        "Error: Destination cpu does not have avx\n" +
        "Error: Destination cpu does not have rdrand\n" +
        "Insufficient CPU capabilities: can't migrate\n" +
        "exit 2\n",
    );
    expect((await sim("run", `${DEMO_FLEET}:westmere-b`, "--", "sh", "-c", "exit 7")).code).toBe(7);
    expect(
      (await sim("run", `${DEMO_FLEET}:westmere-b`, "--", "sh", "-c", "kill -KILL $$")).code,
    ).toBe(137);
  });

  test("errors: nothing after --, a program that does not exist", async () => {
    expect(await sim("run", `${DEMO_FLEET}:westmere-b`, "--")).toEqual(
      oneLineError("run: missing the command to run after --"),
    );
    const r = await sim("run", `${DEMO_FLEET}:westmere-b`, "--", "/nonexistent/cmd");
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("vzcptsim: run: cannot run /nonexistent/cmd: ");
    expect(r.stderr.indexOf("\n")).toBe(r.stderr.length - 1);
  });
});

describe("migrate-check", () => {
  test("the text report in-process is the binary's", async () => {
    for (const argv of [
      ["migrate-check", DEMO_FLEET, "101", "ivybridge-a", "westmere-b"],
      ["migrate-check", MIXED_FLEET, "200", "legacy-2618", "pre-2632"],
      ["migrate-check", MIXED_FLEET, "304", "mid-093", "haswell-108"],
      ["migrate-check", MIXED_FLEET, "303", "mid-093", "pre-2632", "--suspended"],
    ]) {
      const r = await sim(...argv);
      expect(r).toEqual(binary(argv));
      expect(r.stdout).toMatch(/\n(GO|NO-GO): vzmigrate would /);
    }
  });
});
