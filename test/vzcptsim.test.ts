// dist/vzcptsim as a user runs it: help everywhere, node show, exec, run,
// serve + control, migrate-check (GO, NO-GO, in-process and through the
// interposer), the demo, and one-line errors for bad input.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { loadProfiles } from "../sim/commands/load.ts";
import { nodeView } from "../sim/commands/node-show.ts";
import { runInProcess } from "../sim/device.ts";
import { NodeModel } from "../sim/node.ts";
import { loadNodeRef } from "../sim/schema.ts";
import type { CpuidWords } from "../sim/types.ts";
import {
  DEMO_FLEET,
  ensureBuilt,
  MIXED_FLEET,
  PRELOAD_SO,
  runAsync,
  tempDir,
  text,
  underPreload,
  VZCPTCHECK,
  VZCPTSIM,
} from "./sim-support.ts";

const tmp = tempDir();
/** vzcptsim's own TMPDIR: whatever it leaves behind shows up here. */
const simTmp = join(tmp.dir, "tmp");
const EUID = process.geteuid?.() ?? -1;
/** The private directory under TMPDIR where vzcptsim keeps its libvzcptsim.so copies. */
const soDir = join(simTmp, `vzcptsim-${EUID}`);
/** What vzcptsim left in its TMPDIR: Bun's cached addon copy (from vzcptcheck
 *  runs) and the kept libvzcptsim.so copy aside, by design. */
const leftovers = (): string[] =>
  readdirSync(simTmp).filter((f) => !f.startsWith(".bun-") && f !== `vzcptsim-${EUID}`);

beforeAll(() => {
  ensureBuilt(VZCPTCHECK, VZCPTSIM, PRELOAD_SO);
  spawnSync("mkdir", ["-m", "700", simTmp]);
});

afterAll(() => {
  tmp.remove();
});

interface Out {
  stdout: string;
  stderr: string;
  exit: number;
  raw: { stdout: Uint8Array; stderr: Uint8Array };
}

function sim(args: readonly string[]): Out {
  const r = spawnSync(VZCPTSIM, args, {
    cwd: tmp.dir,
    env: { PATH: process.env.PATH, TMPDIR: simTmp },
    timeout: 60_000,
  });
  return {
    stdout: r.stdout.toString(),
    stderr: r.stderr.toString(),
    exit: r.status ?? -1,
    raw: { stdout: new Uint8Array(r.stdout), stderr: new Uint8Array(r.stderr) },
  };
}

const { ctx } = loadProfiles([]);
const model = (ref: string): NodeModel => new NodeModel(loadNodeRef(ref, ctx));

/** A one-line user error: nothing on stdout, exit 1, no stack trace. */
function expectOneLineError(r: Out, message: string): void {
  expect(r.stderr).toBe(`vzcptsim: ${message}\n`);
  expect(r.stdout).toBe("");
  expect(r.exit).toBe(1);
}

const COMMANDS = [
  "demo",
  "migrate-check",
  "node show",
  "node host",
  "exec",
  "run",
  "serve",
  "control",
  "cpus",
  "kernels",
] as const;

describe("help", () => {
  test("`help` and `--help` print the command list on stdout", () => {
    const help = sim(["help"]);
    expect(help.exit).toBe(0);
    expect(help.stderr).toBe("");
    expect(help.stdout).toStartWith("Usage: vzcptsim COMMAND [ARGS...]");
    for (const c of COMMANDS) expect(help.stdout).toContain(`\n  ${c} `);
    expect(sim(["--help"]).stdout).toBe(help.stdout);
    expect(sim(["-h"]).stdout).toBe(help.stdout);
  });

  test("no command, or an unknown one: the list on stderr, exit 1", () => {
    const none = sim([]);
    expect({ stdout: none.stdout, exit: none.exit }).toEqual({ stdout: "", exit: 1 });
    expect(none.stderr).toBe(sim(["help"]).stdout);
    const bogus = sim(["bogus"]);
    expect(bogus.exit).toBe(1);
    expect(bogus.stdout).toBe("");
    expect(bogus.stderr).toBe(`vzcptsim: unknown command "bogus"\n${sim(["help"]).stdout}`);
  });

  for (const c of COMMANDS) {
    test(`${c}: --help, -h and help ${c} agree`, () => {
      const words = c.split(" ");
      const r = sim([...words, "--help"]);
      expect(r.exit).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toStartWith(`Usage: vzcptsim ${c}`);
      expect(sim([...words, "-h"]).stdout).toBe(r.stdout);
      expect(sim(["help", ...words]).stdout).toBe(r.stdout);
      // --help wins over anything else on the line (but not after `--`).
      expect(sim([...words, "some", "thing", "--help"]).stdout).toBe(r.stdout);
    });
  }

  test("a group: `node` lists its subcommands", () => {
    const r = sim(["node"]);
    expect(r.exit).toBe(1);
    expect(r.stderr).toContain("  node show  ");
    expect(sim(["node", "--help"]).exit).toBe(0);
    expectOneLineError(
      sim(["node", "list"]),
      'node: unknown subcommand "list" (known: node show, node host)',
    );
    expectOneLineError(sim(["help", "nope"]), 'help: no command "nope" (see vzcptsim help)');
  });
});

describe("node show", () => {
  test("text: generation, CPU, flags decoded, containers", () => {
    const r = sim(["node", "show", `${DEMO_FLEET}:ivybridge-a`]);
    expect(r.exit).toBe(0);
    expect(r.stdout).toContain("  kernel       042stab109: 042stab109.3 and later (to 141.3)\n");
    expect(r.stdout).toContain("  cpu          intel-ivybridge-e5-2650v2: Intel Xeon E5-2650 v2\n");
    expect(r.stdout).toContain("  node flags   771913119 (0x2e02759f)");
    expect(r.stdout).toContain(
      "               cmov fxsr sse sse2 mmx sysenter emt64 syscall sep32 sse4_1 sse4_2 namespaces xsave avx aesni rdrand\n",
    );
    expect(r.stdout).toContain("  101 web: running, 3 tasks\n");
    const mixed = sim(["node", "show", `${MIXED_FLEET}:mid-093`]);
    expect(mixed.stdout).toContain(
      "      message: Error: external process 77/40123(bash) inside CT (e.g. vzctl enter or vzctl exec).\n",
    );
    expect(mixed.stdout).toContain('(CPT_TEST_VECAPS answers EBUSY with "CT is locked")');
  });

  test("--json is the node's view as the library computes it", () => {
    for (const ref of [
      `${DEMO_FLEET}:westmere-b`,
      `${MIXED_FLEET}:amd-109`,
      `${MIXED_FLEET}:legacy-2618`,
    ]) {
      const r = sim(["node", "show", ref, "--json"]);
      expect(r.exit).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(nodeView(model(ref)))));
    }
    const legacy = JSON.parse(sim(["node", "show", `${MIXED_FLEET}:legacy-2618`, "--json"]).stdout);
    expect(legacy.kernel.currentVersion).toBeNull();
  });
});

describe("node host: this machine", () => {
  /** What `vzcptcheck profile --json` says about this machine. */
  const profile = () => {
    const r = spawnSync(VZCPTCHECK, ["profile", "--json"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout);
  };

  test("loads back with node show, with profile's CPUID, IPv6 and predicted flags", () => {
    const r = sim(["node", "host"]);
    expect({ exit: r.exit, stderr: r.stderr }).toEqual({ exit: 0, stderr: "" });
    const file = join(tmp.dir, "me.yaml");
    writeFileSync(file, r.stdout);
    const shown = sim(["node", "show", file, "--json"]);
    expect(shown.exit).toBe(0);
    const view = JSON.parse(shown.stdout);
    const record = profile();
    expect(record.flags.predicted).not.toBeNull();
    expect(view.flags).toBe(record.flags.predicted.value);
    expect(view.name).toBe(record.hostname);
    expect(view.kernel.id).toBe(record.flags.generation);
    expect(view.ipv6).toBe(record.ipv6.loaded);
    expect(view.arch64).toBe(record.arch64);
    expect(view.containers).toEqual([]);
    expect(view.cpu).toMatchObject({
      id: null,
      vendor: record.cpu.vendor,
      family: record.cpu.family,
      model: record.cpu.model,
    });
    // The raw words, as profile read them.
    const spec = loadNodeRef(file, ctx);
    const { vendor, family, model, ...words } = spec.cpu as CpuidWords;
    expect({ vendor, family, model }).toEqual({
      vendor: record.cpu.vendor,
      family: record.cpu.family,
      model: record.cpu.model,
    });
    expect(words).toEqual(record.cpu.cpuid);
    // Not OpenVZ (CI machines are not): the YAML says the generation is assumed.
    if (record.openvz === null) {
      expect(r.stdout).toContain(`, not OpenVZ: ${record.flags.generation}, the\n#   newest`);
    }
  });

  test("--json: the same node; --kernel and --name; the node runs vzcptcheck", () => {
    const json = sim(["node", "host", "--json", "--name", "here"]);
    expect(json.exit).toBe(0);
    const record = profile();
    expect(json.stderr).toBe(
      record.openvz === null
        ? `vzcptsim: node host: uname says ${record.kernel.release} (${record.kernel.machine}), ` +
            `not OpenVZ: ${record.flags.generation}, the newest generation, is assumed; ` +
            "choose another with --kernel GEN\n"
        : "",
    );
    const file = join(tmp.dir, "here.json");
    writeFileSync(file, json.stdout);
    const yaml = join(tmp.dir, "here.yaml");
    writeFileSync(yaml, sim(["node", "host", "--name", "here"]).stdout);
    expect(loadNodeRef(file, ctx)).toEqual(loadNodeRef(yaml, ctx));
    // vzcptcheck caps on the simulated twin of this machine prints the predicted flags.
    const caps = sim(["exec", file, "--", "vzcptcheck", "caps"]);
    expect({ stdout: caps.stdout, exit: caps.exit }).toEqual({
      stdout: `${record.flags.predicted.value}\n`,
      exit: 0,
    });
    const old = sim(["node", "host", "--kernel", "028stab056", "--json"]);
    expect(old.stderr).toBe("");
    const spec = JSON.parse(old.stdout);
    expect([spec.name, spec.kernel]).toEqual([record.hostname, "028stab056"]);
    expect(sim(["exec", `${file}`, "--", "vzcptcheck", "version"]).stdout).toBe("2051\n");
  });

  test("errors", () => {
    expectOneLineError(
      sim(["node", "host", "--kernel", "4.19"]),
      "node host: --kernel: expected a kernel generation (known: 028stab056, 2.6.32-pre, " +
        '042stab061, 042stab088, 042stab092, 042stab093, 042stab101, 042stab108, 042stab109), got "4.19"',
    );
    expectOneLineError(
      sim(["node", "host", "--yaml"]),
      "node host: unknown option --yaml (see vzcptsim node host --help)",
    );
  });
});

describe("exec", () => {
  const cases: [string, string[]][] = [
    [`${DEMO_FLEET}:ivybridge-a`, ["version"]],
    [`${DEMO_FLEET}:ivybridge-a`, ["caps", "101", "134378911"]],
    [`${DEMO_FLEET}:westmere-b`, ["caps"]],
    [`${DEMO_FLEET}:westmere-b`, ["caps", "101", "0"]],
    [`${MIXED_FLEET}:legacy-2618`, ["version"]],
    [`${MIXED_FLEET}:mid-093`, ["caps", "300", "0"]],
    [`${MIXED_FLEET}:haswell-108`, ["caps", "1"]],
    [`${MIXED_FLEET}:early-061`, ["version", "2051"]],
    [`${MIXED_FLEET}:early-061`, []],
    [`${MIXED_FLEET}:early-061`, ["--help"]],
  ];
  for (const [ref, args] of cases) {
    test(`${ref.split("/").pop()} vzcptcheck ${args.join(" ")}: the same bytes as in-process`, () => {
      const want = runInProcess(model(ref), args);
      const got = sim(["exec", ref, "--", "vzcptcheck", ...args]);
      expect(got.raw.stderr).toEqual(want.stderr);
      expect({ stdout: got.stdout, exit: got.exit }).toEqual({
        stdout: want.stdout,
        exit: want.exit,
      });
    });
  }

  test("--euid: a non-root process cannot open the devices", () => {
    const r = sim([
      "exec",
      `${DEMO_FLEET}:westmere-b`,
      "--euid",
      "1000",
      "--",
      "vzcptcheck",
      "caps",
    ]);
    expect(r.stderr).toBe(
      "Can't open /proc/rst: Permission denied\nKernel module vzrst not loaded\n",
    );
    expect(r.exit).toBe(1);
  });

  test("only vzcptcheck, and only after --", () => {
    expectOneLineError(
      sim(["exec", DEMO_FLEET, "--", "ls"]),
      'exec: only vzcptcheck runs in-process (got "ls"); use vzcptsim run for other programs',
    );
    expectOneLineError(
      sim(["exec", `${DEMO_FLEET}:westmere-b`, "vzcptcheck"]),
      'exec: unexpected argument "vzcptcheck"',
    );
    expectOneLineError(
      sim(["exec", `${DEMO_FLEET}:westmere-b`]),
      "exec: missing -- and the command to run (see vzcptsim exec --help)",
    );
  });
});

describe("run", () => {
  test("the real vzcptcheck against a node, exit codes passed on", async () => {
    const caps = sim(["run", `${DEMO_FLEET}:ivybridge-a`, "--", VZCPTCHECK, "caps"]);
    expect({ stdout: caps.stdout, stderr: caps.stderr, exit: caps.exit }).toEqual({
      stdout: "771913119\n",
      stderr: "",
      exit: 0,
    });
    const refused = sim([
      "run",
      `${DEMO_FLEET}:ivybridge-a`,
      "--",
      VZCPTCHECK,
      "caps",
      "101",
      "134378911",
    ]);
    expect(refused.exit).toBe(2);
    expect(refused.stderr).toEndWith("Insufficient CPU capabilities: can't migrate\n");
    expect(sim(["run", `${DEMO_FLEET}:westmere-b`, "--", "sh", "-c", "exit 7"]).exit).toBe(7);
    expect(sim(["run", `${DEMO_FLEET}:westmere-b`, "--", "sh", "-c", "kill -TERM $$"]).exit).toBe(
      143,
    );
    // The environment CMD sees.
    const env = sim([
      "run",
      `${DEMO_FLEET}:westmere-b`,
      "--",
      "sh",
      "-c",
      'echo "$LD_PRELOAD|$VZCPTSIM_SOCKET"',
    ]);
    const [so, socket] = env.stdout.trim().split("|");
    // A content-addressed copy in a private directory under TMPDIR ...
    expect(so).toMatch(new RegExp(`^${soDir}/libvzcptsim-[0-9a-f]{16}\\.so$`));
    expect(readFileSync(so as string)).toEqual(readFileSync(PRELOAD_SO));
    expect(statSync(soDir).mode & 0o777).toBe(0o700);
    expect(socket).toStartWith(simTmp);
    // ... kept after the run (a background child may still exec), reused by the next,
    // and nothing else is left in vzcptsim's TMPDIR.
    expect(existsSync(so as string)).toBe(true);
    expect(readdirSync(soDir)).toEqual([basename(so as string)]);
    const again = sim(["run", `${DEMO_FLEET}:westmere-b`, "--", "sh", "-c", 'echo "$LD_PRELOAD"']);
    expect(again.stdout).toBe(`${so}\n`);
    expect(leftovers()).toEqual([]);
  });

  test("a background child of CMD still runs under the interposer after vzcptsim exits", async () => {
    const out = join(tmp.dir, "late.txt");
    const r = sim([
      "run",
      `${DEMO_FLEET}:westmere-b`,
      "--",
      "sh",
      "-c",
      `(sleep 0.3; cat /proc/cpt > ${out} 2>&1; echo "exit $?" >> ${out}) &`,
    ]);
    expect(r.exit).toBe(0);
    for (let i = 0; i < 100 && !readFileSync(out, { flag: "a+" }).includes("exit"); i++) {
      await Bun.sleep(50);
    }
    // The library was still there for cat's exec (no ld.so warning); the
    // server is gone, so its open fails as documented.
    expect(readFileSync(out, "utf8")).toMatch(
      /^libvzcptsim: cannot reach node server at .*: (No such file or directory|Connection refused)\ncat: \/proc\/cpt: No such file or directory\nexit 1\n$/,
    );
  });

  test("VZCPTSIM_PROBE from the caller's environment does not reach CMD", () => {
    const r = spawnSync(
      VZCPTSIM,
      ["run", `${DEMO_FLEET}:westmere-b`, "--", "sh", "-c", 'echo "[$VZCPTSIM_PROBE]"'],
      {
        cwd: tmp.dir,
        env: { PATH: process.env.PATH, TMPDIR: simTmp, VZCPTSIM_PROBE: "1" },
      },
    );
    expect(r.stdout.toString()).toBe("[]\n");
    expect(r.status).toBe(0);
  });

  test("a command that does not exist", () => {
    const r = sim(["run", `${DEMO_FLEET}:westmere-b`, "--", "/nonexistent/cmd"]);
    expect(r.exit).toBe(1);
    expect(r.stderr).toStartWith("vzcptsim: run: cannot run /nonexistent/cmd: ");
    expect(r.stderr.split("\n").length).toBe(2);
    expect(leftovers()).toEqual([]);
  });
});

describe("serve and control", () => {
  test("serve until SIGTERM; control locks a container meanwhile", async () => {
    const socket = join(tmp.dir, "served.sock");
    const proc = Bun.spawn([VZCPTSIM, "serve", `${DEMO_FLEET}:ivybridge-a`, "--socket", socket], {
      env: { PATH: process.env.PATH ?? "", TMPDIR: simTmp },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const reader = proc.stderr.getReader();
      const first = text((await reader.read()).value ?? new Uint8Array());
      expect(first).toBe(`vzcptsim: serving node ivybridge-a (042stab109) on ${socket}\n`);
      reader.releaseLock();
      const ping = await runAsync([VZCPTSIM, "control", "--socket", socket, "ping"], {});
      expect(text(ping.stdout)).toBe("ivybridge-a\n");
      const lock = await runAsync(
        [VZCPTSIM, "control", "--socket", socket, "set-state", "101", "locked"],
        {},
      );
      expect({ out: text(lock.stdout), err: text(lock.stderr), exit: lock.exit }).toEqual({
        out: "",
        err: "",
        exit: 0,
      });
      const locked = await underPreload(socket, ["caps", "101", "0"]);
      expect(text(locked.stderr)).toBe(
        "Error: CT is locked\nError in ioctl(CPT_TEST_VECAPS): Device or resource busy\n",
      );
      const log = await runAsync([VZCPTSIM, "control", "--socket", socket, "kernel-log"], {});
      expect(text(log.stdout)).toBe("CPT ERR: CT is locked\n");
      const bad = await runAsync(
        [VZCPTSIM, "control", "--socket", socket, "set-state", "7", "locked"],
        {},
      );
      expect(text(bad.stderr)).toBe(
        "vzcptsim: control: set-state: node ivybridge-a has no container 7\n",
      );
      expect(bad.exit).toBe(1);
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });

  test("errors: no --socket, nobody listening, bad operation", () => {
    expectOneLineError(sim(["serve", DEMO_FLEET]), "serve: --socket PATH is required");
    const missing = join(tmp.dir, "none.sock");
    const r = sim(["control", "--socket", missing, "ping"]);
    expect(r.stderr).toStartWith(`vzcptsim: control: cannot reach node server at ${missing}: `);
    expect(r.exit).toBe(1);
    expectOneLineError(
      sim(["control", "--socket", missing, "set-state", "101", "frozen"]),
      "control: STATE must be one of running, stopped, locked",
    );
    expectOneLineError(
      sim(["control", "--socket", missing, "reboot"]),
      'control: unknown operation "reboot" (ping, set-state, kernel-log)',
    );
  });
});

describe("migrate-check", () => {
  test("NO-GO: an AVX container to a Westmere node, exit 2", () => {
    const r = sim(["migrate-check", DEMO_FLEET, "101", "ivybridge-a", "westmere-b"]);
    expect(r.exit).toBe(2);
    expect(r.stdout).toContain("4. on the source (ivybridge-a): vzcptcheck caps 101 134378911\n");
    expect(r.stdout).toContain("     stderr | Error: Destination cpu does not have avx\n");
    expect(r.stdout).toContain(
      "NO-GO: vzmigrate would refuse to move CT 101 from ivybridge-a to westmere-b:\n" +
        "  - the container's programs have used CPU features that westmere-b's CPU lacks: xsave, avx, rdrand.\n",
    );
  });

  test("GO: the same container to a Haswell node, exit 0", () => {
    const r = sim(["migrate-check", DEMO_FLEET, "101", "ivybridge-a", "haswell-c"]);
    expect(r.exit).toBe(0);
    expect(r.stdout).toContain(
      "GO: vzmigrate would go ahead with CT 101 from ivybridge-a to haswell-c:\n",
    );
  });

  test("--json, in-process and --via-preload give the same steps", () => {
    for (const [fleet, ct, src, dst, exit] of [
      [DEMO_FLEET, "101", "ivybridge-a", "westmere-b", 2],
      [DEMO_FLEET, "101", "ivybridge-a", "haswell-c", 0],
      [MIXED_FLEET, "200", "legacy-2618", "pre-2632", 2],
      [MIXED_FLEET, "301", "mid-093", "haswell-108", 2],
      [MIXED_FLEET, "304", "mid-093", "haswell-108", 0],
      [MIXED_FLEET, "303", "mid-093", "early-061", 2],
      [MIXED_FLEET, "210", "early-061", "amd-109", 2],
    ] as const) {
      const inProcess = sim(["migrate-check", fleet, ct, src, dst, "--json"]);
      const preload = sim(["migrate-check", fleet, ct, src, dst, "--json", "--via-preload"]);
      expect([inProcess.exit, preload.exit]).toEqual([exit, exit]);
      const a = JSON.parse(inProcess.stdout);
      const b = JSON.parse(preload.stdout);
      expect([a.mode, b.mode]).toEqual(["in-process", "preload"]);
      expect(b.steps).toEqual(a.steps);
      expect(b.verdict).toBe(exit === 0 ? "GO" : "NO-GO");
      expect(b.reasons).toEqual(a.reasons);
    }
    expect(leftovers()).toEqual([]);
  });

  test("the steps follow vzmigrate: skipped checks, suspended containers", () => {
    const legacy = JSON.parse(
      sim(["migrate-check", MIXED_FLEET, "200", "legacy-2618", "pre-2632", "--json"]).stdout,
    );
    expect(
      legacy.steps.map((s: { argv: string[]; skipped?: string }) => [
        s.argv.join(" "),
        s.skipped ?? null,
      ]),
    ).toEqual([
      ["vzcptcheck version", null],
      ["vzcptcheck version $version", "`vzcptcheck version` failed on the source (exit 1)"],
      ["vzcptcheck caps", null],
      ["vzcptcheck caps 200 3455", null],
    ]);
    // 304 is stopped: vzmigrate passes an empty $id.
    const stopped = JSON.parse(
      sim(["migrate-check", MIXED_FLEET, "304", "mid-093", "haswell-108", "--json"]).stdout,
    );
    expect(stopped.suspended).toBe(true);
    expect(stopped.steps[3].argv).toEqual([
      "vzcptcheck",
      "caps",
      String(Number(stopped.steps[2].stdout)),
    ]);
    // A 2.6.32-pre destination has no CPT_TEST_VERSION: version N passes silently.
    const forced = JSON.parse(
      sim(["migrate-check", MIXED_FLEET, "303", "mid-093", "pre-2632", "--json", "--suspended"])
        .stdout,
    );
    expect(forced.steps[1]).toEqual({
      role: "destination",
      node: "pre-2632",
      argv: ["vzcptcheck", "version", "2051"],
      stdout: "",
      stderr: "",
      exit: 0,
      kernelLog: [],
    });
    expect(forced.steps[3].argv.length).toBe(3);
  });

  test("errors: unknown container or node, bad CTID, options", () => {
    expectOneLineError(
      sim(["migrate-check", DEMO_FLEET, "999", "ivybridge-a", "westmere-b"]),
      "migrate-check: node ivybridge-a has no container 999 (containers: 101)",
    );
    expectOneLineError(
      sim(["migrate-check", DEMO_FLEET, "101", "ivybridge-a", "sparc-9"]),
      `${DEMO_FLEET}: no node named "sparc-9" (nodes: ivybridge-a, westmere-b, haswell-c)`,
    );
    expectOneLineError(
      sim(["migrate-check", DEMO_FLEET, "10x", "ivybridge-a", "westmere-b"]),
      'migrate-check: CTID must be an integer from 1 to 4294967295, got "10x"',
    );
    expectOneLineError(
      sim(["migrate-check", DEMO_FLEET, "101", "ivybridge-a"]),
      "migrate-check: missing DST (see vzcptsim migrate-check --help)",
    );
    expectOneLineError(
      sim([
        "migrate-check",
        DEMO_FLEET,
        "101",
        "ivybridge-a",
        "westmere-b",
        "--vzcptcheck",
        VZCPTCHECK,
      ]),
      "migrate-check: --vzcptcheck only goes with --via-preload",
    );
    expectOneLineError(
      sim(["migrate-check", DEMO_FLEET, "101", "ivybridge-a", "westmere-b", "--jsn"]),
      "migrate-check: unknown option --jsn (see vzcptsim migrate-check --help)",
    );
  });
});

describe("bad files: one line naming file, field and expectation", () => {
  const write = (name: string, body: string): string => {
    const file = join(tmp.dir, name);
    writeFileSync(file, body);
    return file;
  };

  test("node and fleet files", () => {
    const node = write(
      "bad-node.yaml",
      "kernel: 042stab109\ncpu: intel-westmere-x5670\ncontainers: [{id: 1, tasks: [{policy: realtime}]}]\n",
    );
    expectOneLineError(
      sim(["node", "show", node]),
      `${node}: containers[0].tasks[0].policy: expected one of other, batch, idle, fifo, rr, got "realtime"`,
    );
    const fleet = write(
      "bad-fleet.yaml",
      "name: f\nnodes:\n  - {name: a, kernel: 042stab109, cpu: intel-westmere-x5670, ipv6: maybe}\n",
    );
    expectOneLineError(
      sim(["migrate-check", fleet, "1", "a", "a"]),
      `${fleet}: nodes[0].ipv6: expected true or false, got "maybe"`,
    );
    const json = write("bad.json", '{"kernel": "042stab109",');
    const r = sim(["exec", json, "--", "vzcptcheck", "caps"]);
    expect(r.stderr).toStartWith(`vzcptsim: ${json}: not valid JSON: `);
    expect(r.stderr.split("\n").length).toBe(2);
    expectOneLineError(
      sim(["node", "show", join(tmp.dir, "missing.yaml")]),
      `${join(tmp.dir, "missing.yaml")}: cannot read: no such file`,
    );
  });

  test("a bad --profile file", () => {
    const profile = write("p.yaml", "extends: 042stab999\nid: mine\n");
    const r = sim(["kernels", "--profile", profile]);
    expect(r.exit).toBe(1);
    expect(r.stderr).toStartWith(
      `vzcptsim: ${profile}: field "extends": expected the id of a known profile`,
    );
    expect(r.stderr.split("\n").length).toBe(2);
  });

  test("a custom profile named by a node", () => {
    const profile = write(
      "eagain.yaml",
      "extends: 042stab109\nid: my-kernel\ncptTestCaps: EAGAIN\n",
    );
    const node = write("custom.yaml", "kernel: my-kernel\ncpu: intel-westmere-x5670\n");
    expect(sim(["kernels", "--profile", profile]).stdout).toContain("my-kernel ");
    const r = sim(["exec", node, "--profile", profile, "--", "vzcptcheck", "caps", "1"]);
    expect(r.stderr).toBe(
      "vzcptcheck WARNING: old kernel, please update to kernel >= 042stab107.x\n",
    );
    expect(r.exit).toBe(0);
    expectOneLineError(
      sim(["exec", node, "--", "vzcptcheck", "caps", "1"]),
      `${node}: kernel: expected a kernel generation or profile id (known: 028stab056, 2.6.32-pre, 042stab061, ` +
        '042stab088, 042stab092, 042stab093, 042stab101, 042stab108, 042stab109), got "my-kernel"',
    );
  });
});

describe("demo and catalogs", () => {
  test("demo: one refused, one accepted, exit 0", () => {
    const r = sim(["demo"]);
    expect(r.exit).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("=== 1. CT 101: ivybridge-a -> westmere-b (expected: refused) ===");
    expect(r.stdout).toContain(
      "NO-GO: vzmigrate would refuse to move CT 101 from ivybridge-a to westmere-b:",
    );
    expect(r.stdout).toContain(
      "GO: vzmigrate would go ahead with CT 101 from ivybridge-a to haswell-c:",
    );
    expect(r.stdout).toEndWith(
      "Both outcomes are the expected ones: the AVX container may go to Haswell, not to Westmere.\n",
    );
    const via = sim(["demo", "--via-preload"]);
    expect(via.exit).toBe(0);
    expect(via.stdout.replaceAll("preload]", "in-process]")).toBe(r.stdout);
  });

  test("demo --show-fleet prints the embedded sim/fleets/demo.yaml", () => {
    expect(sim(["demo", "--show-fleet"]).stdout).toBe(readFileSync(DEMO_FLEET, "utf8"));
  });

  test("cpus and kernels list the ids node files may name", () => {
    const cpus = sim(["cpus"]);
    expect(cpus.stdout).toContain("intel-westmere-x5670 ");
    expect(JSON.parse(sim(["cpus", "--json"]).stdout).length).toBe(
      cpus.stdout.trim().split("\n").length,
    );
    const kernels = sim(["kernels"]).stdout.trim().split("\n");
    expect(kernels.map((l) => l.split(/\s+/)[0])).toEqual([...ctx.kernelIds]);
  });
});
