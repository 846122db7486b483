// The drop-in contract, row by row, through the real dist/vzcptcheck under the
// LD_PRELOAD interposer. Every expected output below is written by hand from
// the contract (cli-contract.md) and the kernel facts, not computed by the
// code under test, so a wrong model or a wrong flow makes a row fail.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeContainer, makeNodeSpec, makeTask, NodeModel } from "../sim/node.ts";
import { type NodeServer, serveNode } from "../sim/server.ts";
import type { NodeSpec } from "../sim/types.ts";
import { USAGE } from "../src/usage.ts";
import {
  ensureBuilt,
  PRELOAD_SO,
  type Ran,
  runAsync,
  tempDir,
  text,
  underPreload,
  VZCPTCHECK,
} from "./sim-support.ts";

// Capability words of the catalog CPUs on 042stab109, worked out by hand from
// the node-flag rules: Ivy Bridge is the spec's worked example (0x2e02759f);
// Westmere is the same without xsave (25), avx (26) and rdrand (29).
const IVY = 771913119;
const WESTMERE = IVY - 2 ** 25 - 2 ** 26 - 2 ** 29; // 134378911
const NO_IPV6 = 2 ** 28;

const fpuTask = (pid: number, comm: string) =>
  makeTask({ pid, hostPid: 5000 + pid, comm, usedFpu: true });

const NODES: Record<string, NodeSpec> = {
  ivy: makeNodeSpec({
    name: "ivy",
    kernel: "042stab109",
    cpu: "intel-ivybridge-e5-2650v2",
    containers: [
      makeContainer({ id: 101, tasks: [makeTask({ pid: 1, comm: "init" }), fpuTask(200, "app")] }),
      makeContainer({ id: 102, state: "stopped" }),
      makeContainer({ id: 103, state: "locked", tasks: [fpuTask(1, "init")] }),
      makeContainer({
        id: 104,
        tasks: [
          makeTask({ pid: 1, comm: "init" }),
          makeTask({ pid: 77, hostPid: 4242, comm: "bash", external: true }),
        ],
        netdevs: [
          { name: "tun0", checkpointable: false },
          { name: "tap1", checkpointable: false },
        ],
      }),
      makeContainer({ id: 105, tasks: [makeTask({ pid: 1, comm: "init" })] }),
    ],
  }),
  g108: makeNodeSpec({ name: "g108", kernel: "042stab108", cpu: "intel-haswell-e5-2680v3" }),
  g101: makeNodeSpec({ name: "g101", kernel: "042stab101", cpu: "intel-westmere-x5670" }),
  g061: makeNodeSpec({ name: "g061", kernel: "042stab061", cpu: "intel-westmere-x5670" }),
  pre: makeNodeSpec({ name: "pre", kernel: "2.6.32-pre", cpu: "intel-westmere-x5670" }),
  legacy: makeNodeSpec({ name: "legacy", kernel: "028stab056", cpu: "intel-penryn-e5450" }),
  nomodules: makeNodeSpec({
    name: "nomodules",
    kernel: "042stab109",
    cpu: "intel-westmere-x5670",
    modules: { cpt: false, rst: false },
  }),
};

const tmp = tempDir("vzcptcheck-contract-");
const servers = new Map<string, NodeServer>();

beforeAll(async () => {
  ensureBuilt(VZCPTCHECK, PRELOAD_SO);
  chmodSync(tmp.dir, 0o755); // uid 65534 must reach the sockets in the EACCES row
  for (const [name, spec] of Object.entries(NODES)) {
    const server = await serveNode(new NodeModel(spec), join(tmp.dir, `${name}.sock`));
    chmodSync(server.socketPath, 0o666);
    servers.set(name, server);
  }
});

afterAll(async () => {
  for (const s of servers.values()) await s.stop();
  tmp.remove();
});

const on = (node: string, ...args: string[]): Promise<Ran> =>
  underPreload((servers.get(node) as NodeServer).socketPath, args);

/** What a run printed, as text, for one exact comparison. */
const seen = (r: Ran) => ({ stdout: text(r.stdout), stderr: text(r.stderr), exit: r.exit });

const INSUFFICIENT = "Insufficient CPU capabilities: can't migrate\n";
const OLD_KERNEL = "vzcptcheck WARNING: old kernel, please update to kernel >= 042stab107.x\n";
const noCpu = (name: string) => `Error: Destination cpu does not have ${name}\n`;

interface Row {
  readonly what: string;
  readonly node: string;
  readonly args: string[];
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exit: number;
}

const ROWS: Row[] = [
  // Dispatch.
  { what: "no argument: usage on stdout", node: "ivy", args: [], stdout: USAGE, exit: 0 },
  { what: "help with more words", node: "ivy", args: ["help", "x", "y"], stdout: USAGE, exit: 0 },
  { what: "empty first word", node: "ivy", args: [""], stderr: USAGE, exit: 1 },
  { what: "-h", node: "ivy", args: ["-h"], stderr: USAGE, exit: 1 },
  { what: "--help", node: "ivy", args: ["--help"], stderr: USAGE, exit: 1 },
  { what: "HELP (case-sensitive)", node: "ivy", args: ["HELP"], stderr: USAGE, exit: 1 },
  {
    what: "version with 2 arguments",
    node: "ivy",
    args: ["version", "1", "2"],
    stderr: USAGE,
    exit: 1,
  },
  {
    what: "caps with 3 arguments",
    node: "ivy",
    args: ["caps", "1", "2", "3"],
    stderr: USAGE,
    exit: 1,
  },

  // version (show).
  {
    what: "version: current image version",
    node: "ivy",
    args: ["version"],
    stdout: "2051\n",
    exit: 0,
  },
  { what: "version on 061.9: 0x801", node: "g061", args: ["version"], stdout: "2049\n", exit: 0 },
  {
    what: "version on a kernel without the request",
    node: "legacy",
    args: ["version"],
    stderr: "Error in ioctl(CPT_TEST_VERSION): Invalid argument\n",
    exit: 1,
  },
  {
    what: "version without vzcpt",
    node: "nomodules",
    args: ["version"],
    stderr: "Can't open /proc/cpt: No such file or directory\nKernel module vzcpt not loaded\n",
    exit: 1,
  },

  // version NUM (test).
  { what: "version 2051 accepted", node: "ivy", args: ["version", "2051"], exit: 0 },
  { what: "version 2048 accepted (minor 0)", node: "ivy", args: ["version", "2048"], exit: 0 },
  { what: "version 0x303 line accepted", node: "ivy", args: ["version", "771"], exit: 0 },
  {
    what: "version 2052 rejected (minor 4 > 3)",
    node: "ivy",
    args: ["version", "2052"],
    stderr: "CPT version 2052 rejected: can't migrate\n",
    exit: 2,
  },
  {
    what: "version 770 rejected (0x302 < 0x303)",
    node: "ivy",
    args: ["version", "770"],
    stderr: "CPT version 770 rejected: can't migrate\n",
    exit: 2,
  },
  {
    what: "version 2051 on 061.9 rejected (minor 3 > 1)",
    node: "g061",
    args: ["version", "2051"],
    stderr: "CPT version 2051 rejected: can't migrate\n",
    exit: 2,
  },
  {
    what: "version of garbage reads as 0 and is rejected",
    node: "ivy",
    args: ["version", "0x803"],
    stderr: "CPT version 0 rejected: can't migrate\n",
    exit: 2,
  },
  {
    what: "version -1 printed signed",
    node: "ivy",
    args: ["version", "-1"],
    stderr: "CPT version -1 rejected: can't migrate\n",
    exit: 2,
  },
  {
    what: "version 99999999999 is atoi's 1215752191",
    node: "ivy",
    args: ["version", "99999999999"],
    stderr: "CPT version 1215752191 rejected: can't migrate\n",
    exit: 2,
  },
  {
    what: "version N on a pre-RHEL6 kernel: EINVAL passes",
    node: "pre",
    args: ["version", "2051"],
    exit: 0,
  },
  { what: "version N on 2.6.18: EINVAL passes", node: "legacy", args: ["version", "5"], exit: 0 },
  {
    what: "version N without vzrst",
    node: "nomodules",
    args: ["version", "2051"],
    stderr: "Can't open /proc/rst: No such file or directory\nKernel module vzrst not loaded\n",
    exit: 1,
  },

  // caps (show).
  { what: "caps: Ivy Bridge node word", node: "ivy", args: ["caps"], stdout: `${IVY}\n`, exit: 0 },
  {
    what: "caps: Westmere node word on 101.x",
    node: "g101",
    args: ["caps"],
    stdout: `${WESTMERE}\n`,
    exit: 0,
  },
  {
    what: "caps without vzrst",
    node: "nomodules",
    args: ["caps"],
    stderr: "Can't open /proc/rst: No such file or directory\nKernel module vzrst not loaded\n",
    exit: 1,
  },

  // caps CAPS (suspended container).
  { what: "caps CAPS: destination has everything", node: "ivy", args: ["caps", `${IVY}`], exit: 0 },
  {
    what: "caps CAPS: destination lacks avx (no kernel lines on this path)",
    node: "ivy",
    args: ["caps", `${WESTMERE}`],
    stderr: INSUFFICIENT,
    exit: 2,
  },
  {
    what: "caps CAPS on 108.x: ENOSYS is the old-kernel pass",
    node: "g108",
    args: ["caps", "0"],
    stderr: OLD_KERNEL,
    exit: 0,
  },
  {
    what: "caps CAPS on 101.x: EAGAIN is the old-kernel pass",
    node: "g101",
    args: ["caps", "0"],
    stderr: OLD_KERNEL,
    exit: 0,
  },
  {
    what: "caps CAPS without vzcpt",
    node: "nomodules",
    args: ["caps", "5"],
    stderr: "Can't open /proc/cpt: No such file or directory\nKernel module vzcpt not loaded\n",
    exit: 1,
  },

  // caps VEID CAPS (running container).
  { what: "caps VEID CAPS: go", node: "ivy", args: ["caps", "101", `${IVY}`], exit: 0 },
  {
    what: "caps VEID CAPS: kernel lines first, in check-list order, then the tool's line",
    node: "ivy",
    args: ["caps", "101", `${WESTMERE}`],
    stderr: noCpu("xsave") + noCpu("avx") + noCpu("rdrand") + INSUFFICIENT,
    exit: 2,
  },
  {
    what: "caps VEID CAPS: a container that never used the FPU passes on Westmere",
    node: "ivy",
    args: ["caps", "105", `${WESTMERE}`],
    exit: 0,
  },
  {
    what: "caps VEID CAPS: destination without IPv6",
    node: "ivy",
    args: ["caps", "105", `${IVY + NO_IPV6}`],
    stderr: `Error: IPv6 not loaded or disabled on destination node\n${INSUFFICIENT}`,
    exit: 2,
  },
  {
    what: "caps VEID CAPS: external process and unsupported netdev (first one only)",
    node: "ivy",
    args: ["caps", "104", `${IVY}`],
    stderr:
      "Error: external process 77/4242(bash) inside CT (e.g. vzctl enter or vzctl exec).\n" +
      "Error: unsupported netdevice tun0\n" +
      INSUFFICIENT,
    exit: 2,
  },
  {
    what: "caps VEID CAPS: no such container, the ioctl's own errno",
    node: "ivy",
    args: ["caps", "999", `${IVY}`],
    stderr: "Error in ioctl(CPT_TEST_VECAPS): No such process\n",
    exit: 1,
  },
  {
    what: "caps VEID CAPS: stopped container",
    node: "ivy",
    args: ["caps", "102", `${IVY}`],
    stderr: "Error: CT is not running\nError in ioctl(CPT_TEST_VECAPS): No such process\n",
    exit: 1,
  },
  {
    what: "caps VEID CAPS: locked container",
    node: "ivy",
    args: ["caps", "103", `${IVY}`],
    stderr: "Error: CT is locked\nError in ioctl(CPT_TEST_VECAPS): Device or resource busy\n",
    exit: 1,
  },
  {
    what: "caps VEID CAPS: id 0 (an empty VEID reads as 0)",
    node: "ivy",
    args: ["caps", "", `${IVY}`],
    stderr: "Error in ioctl(CPT_TEST_VECAPS): Invalid argument\n",
    exit: 1,
  },
  {
    what: "caps VEID CAPS without vzcpt",
    node: "nomodules",
    args: ["caps", "101", "5"],
    stderr: "Can't open /proc/cpt: No such file or directory\nKernel module vzcpt not loaded\n",
    exit: 1,
  },
];

describe("contract rows through dist/vzcptcheck under the interposer", () => {
  for (const row of ROWS) {
    test(`${row.what}: vzcptcheck ${row.args.map((a) => JSON.stringify(a)).join(" ")}`, async () => {
      const got = seen(await on(row.node, ...row.args));
      expect(got).toEqual({ stdout: row.stdout ?? "", stderr: row.stderr ?? "", exit: row.exit });
    });
  }
});

describe("rows that need the process environment", () => {
  test("wrong argument counts open nothing (an unreachable server would say so)", async () => {
    for (const args of [
      ["version", "1", "2"],
      ["caps", "1", "2", "3"],
    ]) {
      const got = seen(await underPreload(join(tmp.dir, "nobody-listens.sock"), args));
      expect(got).toEqual({ stdout: "", stderr: USAGE, exit: 1 });
    }
  });

  test("not root: EACCES on the 0600 device", async () => {
    const got = await runAsync(
      [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "env",
        `LD_PRELOAD=${PRELOAD_SO}`,
        `VZCPTSIM_SOCKET=${(servers.get("ivy") as NodeServer).socketPath}`,
        VZCPTCHECK,
        "caps",
      ],
      { PATH: process.env.PATH, TMPDIR: "/tmp" },
    );
    expect(seen(got)).toEqual({
      stdout: "",
      stderr: "Can't open /proc/rst: Permission denied\nKernel module vzrst not loaded\n",
      exit: 1,
    });
  });

  test("pipe(2) failing: 'Can't create pipe' at some descriptor limit, never a stack trace", async () => {
    const sock = (servers.get("ivy") as NodeServer).socketPath;
    const outcomes: string[] = [];
    for (let limit = 4; limit <= 12; limit++) {
      const got = await runAsync(["bash", "-c", `ulimit -n ${limit}; exec "$0" caps`, VZCPTCHECK], {
        PATH: process.env.PATH,
        LD_PRELOAD: PRELOAD_SO,
        VZCPTSIM_SOCKET: sock,
      });
      const err = text(got.stderr);
      expect(err).not.toMatch(/^\s+at /m);
      outcomes.push(`${got.exit}:${err}`);
    }
    expect(outcomes).toContain("1:Can't create pipe: Too many open files\n");
    expect(outcomes.at(-1)).toBe(`0:`); // with enough descriptors the check runs
  });

  const shell = (script: string, node = "ivy") =>
    runAsync(["bash", "-c", script, VZCPTCHECK], {
      PATH: process.env.PATH,
      LD_PRELOAD: PRELOAD_SO,
      VZCPTSIM_SOCKET: (servers.get(node) as NodeServer).socketPath,
    });

  test("closed stdout: the exit code stays, nothing on stderr", async () => {
    expect(seen(await shell(`"$0" version >&-; echo "rc=$?" >&2`))).toEqual({
      stdout: "",
      stderr: "rc=0\n",
      exit: 0,
    });
  });

  test("closed stderr: a refusal still exits 2", async () => {
    expect(seen(await shell(`"$0" caps 101 ${WESTMERE} 2>&-; echo "rc=$?"`))).toEqual({
      stdout: "rc=2\n",
      stderr: "",
      exit: 0,
    });
  });

  test("stdout on /dev/full: exit 0, no stack trace", async () => {
    expect(seen(await shell(`"$0" help >/dev/full; echo "rc=$?"`))).toEqual({
      stdout: "rc=0\n",
      stderr: "",
      exit: 0,
    });
  });

  test("a reader that went away (EPIPE on stdout and on stderr): same exit codes", async () => {
    // The reader closes its end at once and lingers, so the write gets EPIPE.
    const script = [
      `"$0" help | { exec 0<&-; sleep 0.3; }; echo "help=\${PIPESTATUS[0]}"`,
      `"$0" bogus 2>&1 >/dev/null | { exec 0<&-; sleep 0.3; }; echo "bogus=\${PIPESTATUS[0]}"`,
      `"$0" caps 101 ${WESTMERE} 2>&1 | { exec 0<&-; sleep 0.3; }; echo "caps=\${PIPESTATUS[0]}"`,
    ].join("\n");
    expect(seen(await shell(script))).toEqual({
      stdout: "help=0\nbogus=1\ncaps=2\n",
      stderr: "",
      exit: 0,
    });
  });

  test("a slow reader gets all of the output", async () => {
    expect(seen(await shell(`"$0" help | { sleep 0.2; cat; }`))).toEqual({
      stdout: USAGE,
      stderr: "",
      exit: 0,
    });
  });

  test("a hostile .env, bunfig.toml, package.json and tsconfig.json in the cwd change nothing", async () => {
    const cwd = join(tmp.dir, "hostile");
    mkdirSync(cwd, { recursive: true });
    const marker = join(cwd, "PWNED");
    writeFileSync(
      join(cwd, "evil.js"),
      `require("fs").writeFileSync(${JSON.stringify(marker)}, "x");\n`,
    );
    writeFileSync(
      join(cwd, "bunfig.toml"),
      'preload = ["./evil.js"]\n[run]\npreload = ["./evil.js"]\n',
    );
    writeFileSync(
      join(cwd, ".env"),
      "NODE_OPTIONS=--require ./evil.js\nBUN_OPTIONS=--preload ./evil.js\n",
    );
    writeFileSync(join(cwd, "package.json"), '{"type":"commonjs","main":"evil.js"}\n');
    writeFileSync(join(cwd, "tsconfig.json"), '{"compilerOptions":{"jsx":"react"}}\n');
    const got = await shell(
      `cd "${cwd}" && "$0" version && "$0" caps 101 ${WESTMERE}; echo "rc=$?"`,
    );
    expect(seen(got)).toEqual({
      stdout: "2051\nrc=2\n",
      stderr: noCpu("xsave") + noCpu("avx") + noCpu("rdrand") + INSUFFICIENT,
      exit: 0,
    });
    expect(await Bun.file(marker).exists()).toBe(false);
  });

  test("stdin is never read (a closed stdin changes nothing)", async () => {
    expect(seen(await shell(`"$0" version <&-`))).toEqual({
      stdout: "2051\n",
      stderr: "",
      exit: 0,
    });
  });
});
