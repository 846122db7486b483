// The node server and libvzcptsim.so: the wire protocol from TypeScript, the
// real dist/vzcptcheck and a small C client under the interposer, the same
// cases in-process and through the interposer compared byte for byte across
// generations, and state changes while serving.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { loadProfiles } from "../sim/commands/load.ts";
import { runInProcess } from "../sim/device.ts";
import { NodeModel } from "../sim/node.ts";
import { PROBE_MARKER } from "../sim/preload-file.ts";
import { loadFleetFile } from "../sim/schema.ts";
import { controlRequest, type NodeServer, serveNode } from "../sim/server.ts";
import type { FleetSpec } from "../sim/types.ts";
import {
  ensureBuilt,
  PRELOAD_SO,
  ROOT,
  runAsync,
  tempDir,
  text,
  underPreload,
  VZCPTCHECK,
} from "./sim-support.ts";

const GENERATIONS_FLEET = join(ROOT, "test/fixtures/generations.yaml");
const loaded = loadProfiles([]);
const fleet: FleetSpec = loadFleetFile(GENERATIONS_FLEET, loaded.ctx);
const spec = (name: string) =>
  fleet.nodes.find((n) => n.name === name) as FleetSpec["nodes"][number];
const freshModel = (name: string): NodeModel => new NodeModel(spec(name));

const tmp = tempDir();
const served = new Map<string, { model: NodeModel; server: NodeServer }>();
const socketOf = (name: string): string =>
  (served.get(name) as { server: NodeServer }).server.socketPath;

let devclient = "";
let devclient64 = "";

beforeAll(async () => {
  ensureBuilt(VZCPTCHECK, PRELOAD_SO);
  for (const n of fleet.nodes) {
    const model = new NodeModel(n);
    served.set(n.name, { model, server: await serveNode(model, join(tmp.dir, `${n.name}.sock`)) });
  }
  // The C client, built twice: plain (calls open and read) and as node-gyp
  // builds (open64), fortified (a read of unknown length calls __read_chk).
  devclient = join(tmp.dir, "devclient");
  devclient64 = join(tmp.dir, "devclient64");
  const src = join(ROOT, "test/fixtures/devclient.c");
  for (const [out, extra] of [
    [devclient, []],
    [devclient64, ["-D_FILE_OFFSET_BITS=64", "-D_FORTIFY_SOURCE=2"]],
  ] as const) {
    const r = spawnSync("cc", ["-O2", "-Wall", "-Wextra", "-Werror", ...extra, "-o", out, src], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`cc failed: ${r.stderr}`);
  }
});

afterAll(async () => {
  await Promise.all([...served.values()].map((s) => s.server.stop()));
  tmp.remove();
});

// ---------------------------------------------------------------------------
// The real dist/vzcptcheck: in-process and through the interposer agree.

const CASES: readonly (readonly string[])[] = [
  [],
  ["help"],
  ["-h"],
  ["version"],
  ["version", "2051"],
  ["version", "2049"],
  ["version", "768"],
  ["version", "0x10"],
  ["version", "1", "2"],
  ["caps"],
  ["caps", "0"],
  ["caps", "771913119"],
  ["caps", "101", "0"],
  ["caps", "101", "134378911"],
  ["caps", "101", "771913119"],
  ["caps", "101", "-1"],
  ["caps", "102", "771913119"],
  ["caps", "103", "771913119"],
  ["caps", "104", "771913119"],
  ["caps", "999", "0"],
  ["caps", "0", "0"],
  ["caps", "1", "2", "3"],
];

describe("in-process and interposer give the same bytes and exit codes", () => {
  for (const n of fleet.nodes) {
    test(`node ${n.name} (${n.kernel})`, async () => {
      const model = freshModel(n.name);
      for (const args of CASES) {
        const want = runInProcess(model, args);
        const got = await underPreload(socketOf(n.name), args);
        const label = `vzcptcheck ${args.join(" ")}`;
        expect({
          label,
          stdout: text(got.stdout),
          stderr: text(got.stderr),
          exit: got.exit,
        }).toEqual({
          label,
          stdout: want.stdout,
          stderr: text(want.stderr),
          exit: want.exit,
        });
        expect(got.stderr).toEqual(want.stderr); // the exact bytes, not only the text
      }
    }, 60_000);
  }

  test("the comparison is not vacuous: known answers through the interposer", async () => {
    expect(text((await underPreload(socketOf("g109"), ["version"])).stdout)).toBe("2051\n");
    expect(text((await underPreload(socketOf("g109"), ["caps"])).stdout)).toBe("771913119\n");
    const refused = await underPreload(socketOf("g109"), ["caps", "101", "134378911"]);
    expect(text(refused.stderr)).toBe(
      "Error: Destination cpu does not have xsave\n" +
        "Error: Destination cpu does not have avx\n" +
        "Error: Destination cpu does not have rdrand\n" +
        "Insufficient CPU capabilities: can't migrate\n",
    );
    expect(refused.exit).toBe(2);
    const noModule = await underPreload(socketOf("nomodules"), ["caps"]);
    expect(text(noModule.stderr)).toBe(
      "Can't open /proc/rst: No such file or directory\nKernel module vzrst not loaded\n",
    );
    expect(noModule.exit).toBe(1);
  });

  test("a non-root process gets EACCES through the interposer as in-process", async () => {
    // Let uid 65534 reach the socket (the devices themselves stay root-only).
    const { dir, remove } = tempDir();
    try {
      chmodSync(dir, 0o755);
      const model = new NodeModel(spec("g109"));
      const server = await serveNode(model, join(dir, "n.sock"));
      try {
        chmodSync(server.socketPath, 0o666);
        const got = await runAsync(
          [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "env",
            `LD_PRELOAD=${PRELOAD_SO}`,
            `VZCPTSIM_SOCKET=${server.socketPath}`,
            VZCPTCHECK,
            "version",
          ],
          { PATH: process.env.PATH, TMPDIR: "/tmp" },
        );
        const want = runInProcess(freshModel("g109"), ["version"], 65534);
        expect(text(want.stderr)).toBe(
          "Can't open /proc/cpt: Permission denied\nKernel module vzcpt not loaded\n",
        );
        expect({ stderr: text(got.stderr), exit: got.exit }).toEqual({
          stderr: text(want.stderr),
          exit: want.exit,
        });
      } finally {
        await server.stop();
      }
    } finally {
      remove();
    }
  });
});

// ---------------------------------------------------------------------------
// State changes while serving.

describe("control channel", () => {
  test("locking a CT while serving: the next check sees EBUSY and 'CT is locked'", async () => {
    const sock = socketOf("g109");
    const before = await underPreload(sock, ["caps", "101", "771913119"]);
    expect(before.exit).toBe(0);
    expect(await controlRequest(sock, { op: "set-state", ct: 101, state: "locked" })).toEqual({
      ok: true,
    });
    try {
      const locked = await underPreload(sock, ["caps", "101", "771913119"]);
      expect(text(locked.stderr)).toBe(
        "Error: CT is locked\nError in ioctl(CPT_TEST_VECAPS): Device or resource busy\n",
      );
      expect(locked.exit).toBe(1);
      expect(await controlRequest(sock, { op: "set-state", ct: 101, state: "stopped" })).toEqual({
        ok: true,
      });
      const stopped = await underPreload(sock, ["caps", "101", "771913119"]);
      expect(text(stopped.stderr)).toBe(
        "Error: CT is not running\nError in ioctl(CPT_TEST_VECAPS): No such process\n",
      );
    } finally {
      expect(await controlRequest(sock, { op: "set-state", ct: 101, state: "running" })).toEqual({
        ok: true,
      });
    }
    expect((await underPreload(sock, ["caps", "101", "771913119"])).exit).toBe(0);
  });

  test("a file already open sees a state change made after its open", async () => {
    const sock = socketOf("g108");
    const proc = Bun.spawn(
      [
        devclient,
        "open:cpt",
        "pipe",
        "errfd",
        "closewrite",
        "veid:101",
        "wait",
        "vecaps:0",
        "drain",
        "close",
      ],
      {
        env: { LD_PRELOAD: PRELOAD_SO, VZCPTSIM_SOCKET: sock },
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const reader = proc.stdout.getReader();
    let seen = "";
    while (!seen.includes("wait")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += text(value);
      if (seen.includes("veid:101")) break;
    }
    await controlRequest(sock, { op: "set-state", ct: 101, state: "locked" });
    try {
      proc.stdin.write("go\n");
      await proc.stdin.end();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += text(value);
      }
      expect(await proc.exited).toBe(0);
    } finally {
      await controlRequest(sock, { op: "set-state", ct: 101, state: "running" });
    }
    expect(seen).toContain("vecaps:0 -1 16\n");
    expect(seen).toContain("Error: CT is locked\n");
  });

  test("ping, kernel-log and refused requests", async () => {
    const sock = socketOf("legacy");
    expect(await controlRequest(sock, { op: "ping" })).toEqual({ ok: true, node: "legacy" });
    await underPreload(sock, ["caps", "101", "0"]);
    const log = await controlRequest(sock, { op: "kernel-log" });
    expect(log.ok).toBe(true);
    expect(log.ok && log.lines?.some((l) => l.includes("Destination cpu does not have"))).toBe(
      true,
    );
    expect(await controlRequest(sock, { op: "set-state", ct: 555, state: "locked" })).toEqual({
      ok: false,
      error: "set-state: node legacy has no container 555",
    });
    const raw = async (line: string): Promise<unknown> =>
      JSON.parse(text(await exchange(sock, new TextEncoder().encode(`${line}\n`), 1)));
    expect(await raw('{"op":"set-state","ct":101,"state":"frozen"}')).toEqual({
      ok: false,
      error: "set-state: state must be one of running, stopped, locked",
    });
    expect(await raw('{"op":"reboot"}')).toEqual({
      ok: false,
      error: 'unknown op "reboot" (known: ping, set-state, kernel-log)',
    });
    expect(await raw("{not json")).toEqual({ ok: false, error: "control line is not valid JSON" });
  });
});

// ---------------------------------------------------------------------------
// The wire protocol, spoken from TypeScript.

/** Send `data` (possibly in pieces) and collect what comes back until `want` bytes or close. */
function exchange(
  socket: string,
  data: Uint8Array | Uint8Array[],
  wantLines = 0,
  wantBytes = 0,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socket);
    const chunks: Buffer[] = [];
    const size = (): number => chunks.reduce((a, c) => a + c.length, 0);
    const done = (): void => {
      sock.destroy();
      resolve(new Uint8Array(Buffer.concat(chunks)));
    };
    sock.on("connect", async () => {
      for (const piece of Array.isArray(data) ? data : [data]) {
        sock.write(piece);
        await Bun.sleep(20);
      }
    });
    sock.on("data", (c: Buffer) => {
      chunks.push(c);
      const lines = Buffer.concat(chunks).toString().split("\n").length - 1;
      if ((wantLines > 0 && lines >= wantLines) || (wantBytes > 0 && size() >= wantBytes)) done();
    });
    sock.on("close", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    sock.on("error", reject);
  });
}

function message(op: number, a: number, b: number, c: number, version = 1): Uint8Array {
  const m = Buffer.alloc(16);
  m.writeUInt8(op, 0);
  m.writeUInt8(version, 1);
  m.writeUInt32LE(a >>> 0, 4);
  m.writeUInt32LE(b >>> 0, 8);
  m.writeUInt32LE(c >>> 0, 12);
  return new Uint8Array(m);
}

const ints = (b: Uint8Array): number[] => {
  const buf = Buffer.from(b);
  const out: number[] = [];
  for (let i = 0; i + 4 <= buf.length; i += 4) out.push(buf.readInt32LE(i));
  return out;
};

const OPEN = 1;
const IOCTL = 2;
const CPT_TEST_VERSION = 0x40042d1a;
const CPT_SET_ERRORFD = 0x40042d15;
const CPT_SET_VEID = 0x40042d04;
const CPT_TEST_VECAPS = 0x40042d14;

describe("wire protocol", () => {
  test("OPEN then IOCTL: fixed-size little-endian replies", async () => {
    const got = await exchange(
      socketOf("g109"),
      [message(OPEN, 0, 0, 2), message(IOCTL, CPT_TEST_VERSION, 0, 0)],
      0,
      20,
    );
    expect(ints(got)).toEqual([0, 0, 2051, 0, 0]);
  });

  test("messages split at any byte and several in one write are all answered", async () => {
    const all = Buffer.concat([
      message(OPEN, 1, 0, 2),
      message(IOCTL, CPT_TEST_VERSION, 0x803, 0),
      message(IOCTL, CPT_TEST_VERSION, 0x900, 0),
    ]);
    const pieces = [all.subarray(0, 3), all.subarray(3, 21), all.subarray(21)].map(
      (p) => new Uint8Array(p),
    );
    const got = await exchange(socketOf("g109"), pieces, 0, 8 + 12 + 12);
    expect(ints(got)).toEqual([0, 0, 1, 0, 0, 0, 0, 0]);
  });

  test("error bytes travel with the ioctl reply once an error fd is set", async () => {
    const got = await exchange(
      socketOf("g109"),
      [
        message(OPEN, 0, 0, 2),
        message(IOCTL, CPT_SET_ERRORFD, 7, 1),
        message(IOCTL, CPT_SET_VEID, 102, 0),
        message(IOCTL, CPT_TEST_VECAPS, 0, 0),
      ],
      0,
      8 + 12 * 3 + "Error: CT is not running\n".length,
    );
    const buf = Buffer.from(got);
    expect(ints(got.subarray(0, 44))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, -1, 3, 25]);
    expect(buf.subarray(44).toString()).toBe("Error: CT is not running\n");
  });

  test("CPT_SET_ERRORFD with an fd the caller does not have: EBADF", async () => {
    const got = await exchange(
      socketOf("g109"),
      [message(OPEN, 0, 0, 2), message(IOCTL, CPT_SET_ERRORFD, 7, 0)],
      0,
      20,
    );
    expect(ints(got)).toEqual([0, 0, -1, 9, 0]);
  });

  test("an open the kernel refuses is answered, then the connection ends", async () => {
    expect(ints(await exchange(socketOf("g109"), message(OPEN, 0, 1000, 2)))).toEqual([-1, 13]);
    expect(ints(await exchange(socketOf("nomodules"), message(OPEN, 1, 0, 2)))).toEqual([-1, 2]);
  });

  test("malformed messages close the connection without an answer; the server lives on", async () => {
    expect((await exchange(socketOf("g109"), message(OPEN, 0, 0, 2, 9))).length).toBe(0); // bad version
    expect((await exchange(socketOf("g109"), message(IOCTL, CPT_TEST_VERSION, 0, 0))).length).toBe(
      0,
    ); // no OPEN
    expect((await exchange(socketOf("g109"), message(7, 0, 0, 0))).length).toBe(0); // unknown op
    expect((await exchange(socketOf("g109"), message(OPEN, 5, 0, 2))).length).toBe(0); // unknown device
    expect(ints(await exchange(socketOf("g109"), message(OPEN, 0, 0, 2), 0, 8))).toEqual([0, 0]);
  });

  test("a stale socket file is replaced at start and removed at stop", async () => {
    const { dir, remove } = tempDir();
    try {
      const path = join(dir, "stale.sock");
      writeFileSync(path, "left over");
      const server = await serveNode(freshModel("g109"), path);
      expect(ints(await exchange(path, message(OPEN, 0, 0, 2), 0, 8))).toEqual([0, 0]);
      await server.stop();
      expect(existsSync(path)).toBe(false);
      await server.stop(); // stopping twice is harmless
    } finally {
      remove();
    }
  });
});

// ---------------------------------------------------------------------------
// The interposer from C: open vs open64, openat, pass-through, error fds.

describe("libvzcptsim.so from a C program", () => {
  const client = (program: string, steps: string[], socket = socketOf("g109")) =>
    runAsync([program, ...steps], { LD_PRELOAD: PRELOAD_SO, VZCPTSIM_SOCKET: socket });

  test("the two builds call open and open64 respectively", () => {
    const imports = (p: string): string =>
      spawnSync("nm", ["-D", p], { encoding: "utf8" })
        .stdout.split("\n")
        .filter((l) => / U open/.test(l))
        .map((l) => l.trim().split(/\s+/)[1]?.replace(/@.*/, ""))
        .join(" ");
    expect(imports(devclient)).toBe("open openat");
    expect(imports(devclient64)).toBe("open64 openat64");
    const reads = (p: string): string[] =>
      [...spawnSync("nm", ["-D", p], { encoding: "utf8" }).stdout.matchAll(/ U (\w*read\w*)@/g)]
        .map((m) => m[1] as string)
        .sort();
    expect(reads(devclient)).toEqual(["read"]);
    expect(reads(devclient64)).toEqual(["__read_chk", "read"]);
  });

  for (const which of ["plain", "open64"] as const) {
    test(`a full vecaps check with an error pipe (${which} build)`, async () => {
      const r = await client(which === "plain" ? devclient : devclient64, [
        "open:cpt",
        "pipe",
        "errfd",
        "closewrite",
        "veid:101",
        "vecaps:134378911",
        "drain",
        "close",
      ]);
      const lines = text(r.stdout).split("\n");
      expect(lines[0]).toMatch(/^open:cpt \d+ 0$/);
      expect(lines.slice(1)).toEqual([
        "pipe 0 0",
        "errfd 0 0",
        "closewrite 0 0",
        "veid:101 0 0",
        "vecaps:134378911 1 0",
        // The write end is closed in the process but the device keeps it: EAGAIN, not EOF.
        "drain 128 11",
        "Error: Destination cpu does not have xsave",
        "Error: Destination cpu does not have avx",
        "Error: Destination cpu does not have rdrand",
        "close 0 0",
        "",
      ]);
      expect(r.exit).toBe(0);
    });
  }

  test("openat on the device path, /proc/rst, and an unknown request", async () => {
    const r = await client(devclient, [
      "openat:rst",
      "caps:0",
      "version:2051",
      "ioctl:0x1234:0",
      "close",
    ]);
    expect(text(r.stdout).split("\n").slice(1)).toEqual([
      "caps:0 771913119 0",
      "version:2051 1 0",
      "ioctl -1 22",
      "close 0 0",
      "",
    ]);
  });

  test("other files and fds pass through to libc", async () => {
    const r = await client(devclient, ["file:/etc/passwd", "file:/nonexistent/x", "ttyioctl"]);
    expect(text(r.stdout)).toBe("file 0 0\nfile -1 2\nttyioctl -1 25\n");
  });

  test("CPT_SET_ERRORFD with a closed fd is EBADF; a replaced error fd gets the bytes", async () => {
    const r = await client(devclient, [
      "open:cpt",
      "errfd:250",
      "pipe",
      "errfd",
      "errfd",
      "closewrite",
      "veid:102",
      "vecaps:0",
      "drain",
    ]);
    expect(text(r.stdout).split("\n").slice(1)).toEqual([
      "errfd:250 -1 9",
      "pipe 0 0",
      "errfd 0 0",
      "errfd 0 0",
      "closewrite 0 0",
      "veid:102 0 0",
      "vecaps:0 -1 3",
      "drain 25 11",
      "Error: CT is not running",
      "",
    ]);
  });

  test("an unreachable server: one line on stderr, the open fails with ENOENT", async () => {
    const missing = join(tmp.dir, "nobody-listens.sock");
    const r = await client(devclient, ["open:cpt"], missing);
    expect(text(r.stdout)).toBe("open:cpt -1 2\n");
    expect(text(r.stderr)).toBe(
      `libvzcptsim: cannot reach node server at ${missing}: No such file or directory\n`,
    );
    const unset = await runAsync([devclient, "open:rst"], { LD_PRELOAD: PRELOAD_SO });
    expect(text(unset.stderr)).toBe(
      "libvzcptsim: cannot reach node server at $VZCPTSIM_SOCKET: variable not set\n",
    );
    expect(text(unset.stdout)).toBe("open:rst -1 2\n");
  });

  test("a server that goes away mid-file: ioctl fails with EIO", async () => {
    const { dir, remove } = tempDir();
    try {
      const server = await serveNode(freshModel("g109"), join(dir, "short.sock"));
      const proc = Bun.spawn([devclient, "open:cpt", "wait", "version:0", "close"], {
        env: { LD_PRELOAD: PRELOAD_SO, VZCPTSIM_SOCKET: server.socketPath },
        stdin: "pipe",
        stdout: "pipe",
      });
      const reader = proc.stdout.getReader();
      let seen = "";
      while (!seen.includes("open:cpt")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += text(value);
      }
      await server.stop();
      proc.stdin.write("go\n");
      await proc.stdin.end();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += text(value);
      }
      await proc.exited;
      expect(seen).toContain("version:0 -1 5\n");
      expect(seen).toContain("close 0 0\n");
    } finally {
      remove();
    }
  });
});

// ---------------------------------------------------------------------------
// Device fds the program closes behind the interposer's back, duplicates,
// reads or writes. devclient stops itself after 10 s (alarm), so a step that
// hangs fails at once instead of at the test's timeout.
const HANG = 15_000;

describe("libvzcptsim.so: closed, replaced, duplicated, read and written device fds", () => {
  const client = (program: string, steps: string[], socket = socketOf("g109")) =>
    runAsync([program, ...steps], { LD_PRELOAD: PRELOAD_SO, VZCPTSIM_SOCKET: socket });
  const lines = (r: { stdout: Uint8Array }): string[] => text(r.stdout).split("\n");

  for (const how of [
    ["sockpair", "dup2"],
    ["sockpair", "dup3"],
    ["closerange", "sockpair"],
    ["closefrom", "sockpair"],
  ]) {
    test(
      `a device fd replaced by ${how.join(" + ")}: ioctl passes through (ENOTTY), nothing reaches the socketpair`,
      async () => {
        const r = await client(devclient, [
          "open:cpt",
          ...how,
          "tcgets",
          "peer",
          "open:cpt",
          "version:0",
        ]);
        expect(lines(r)).toEqual([
          "open:cpt 3 0",
          `${how[0]} 0 0`,
          `${how[1]} 0 0`,
          "tcgets -1 25",
          "peer -1 11",
          expect.stringMatching(/^open:cpt \d+ 0$/),
          "version:0 2051 0",
          "",
        ]);
        expect(r.exit).toBe(0);
      },
      HANG,
    );
  }

  test(
    "a device fd closed by the bare system call, its number reused: ioctl and read pass through",
    async () => {
      const r = await client(devclient, [
        "open:cpt",
        "rawclose",
        "devnull",
        "tcgets",
        "read",
        "write",
      ]);
      expect(lines(r)).toEqual([
        "open:cpt 3 0",
        "rawclose 0 0",
        "devnull 0 0",
        "tcgets -1 25", // /dev/null's own answer, not EIO from a protocol sent to it
        "read 0 0",
        "write 3 0",
        "",
      ]);
    },
    HANG,
  );

  test("device fds closed behind its back do not fill the table (40 > 32 entries)", async () => {
    const r = await client(devclient, ["leak:40", "open:cpt", "version:0", "close"]);
    expect(lines(r)).toEqual(["leak 0 0", "open:cpt 3 0", "version:0 2051 0", "close 0 0", ""]);
  });

  test(
    "the kept error fd closed behind its back (closefrom): no error bytes into the file that gets its number",
    async () => {
      const held = join(tmp.dir, "held.txt");
      writeFileSync(held, "");
      const hold = `hold:${held}`;
      const r = await client(devclient, [
        "open:cpt",
        "pipe",
        "errfd",
        "closewrite",
        "closeabove", // the pipe's read end and the interposer's dup of the write end
        hold, // the numbers come back, one of them the old error fd's
        hold,
        hold,
        "veid:101",
        "vecaps:134378911",
        "close",
      ]);
      expect(lines(r).slice(-4)).toEqual(["veid:101 0 0", "vecaps:134378911 1 0", "close 0 0", ""]);
      expect(readFileSync(held, "utf8")).toBe("");
    },
    HANG,
  );

  for (const which of ["plain", "fortified"] as const) {
    test(
      `a dup of a device fd is the same file; the error fd is let go at the last close (${which})`,
      async () => {
        const program = which === "plain" ? devclient : devclient64;
        const r = await client(program, [
          "open:cpt",
          "pipe",
          "errfd",
          "closewrite",
          "dup",
          "veid:101",
          "vecaps:134378911",
          "readn:12",
          "close",
          "drain",
        ]);
        expect(lines(r).slice(1)).toEqual([
          "pipe 0 0",
          "errfd 0 0",
          "closewrite 0 0",
          "dup 0 0",
          "veid:101 0 0",
          "vecaps:134378911 1 0",
          "readn 12 0 |Ctx      Id |",
          "close 0 0",
          // The last close released the file and with it the kernel's hold on
          // the pipe: end of file after the bytes, not EAGAIN.
          "drain 128 0",
          "Error: Destination cpu does not have xsave",
          "Error: Destination cpu does not have avx",
          "Error: Destination cpu does not have rdrand",
          "",
        ]);
      },
      HANG,
    );
  }

  test(
    "read gives the context listing's head line then end of file; write fails with EIO",
    async () => {
      const rw = await client(devclient64, [
        "open:rst",
        "readn:20",
        "read",
        "read",
        "write",
        "caps:0",
      ]);
      expect(lines(rw)).toEqual([
        "open:rst 3 0",
        "readn 20 0 |Ctx      Id       VE|",
        "read 13 0",
        "       State",
        "read 0 0",
        "write -1 5",
        "caps:0 771913119 0", // the protocol is still in step
        "",
      ]);
      const ro = await client(devclient, ["openro:cpt", "read", "write", "close"]);
      expect(lines(ro)).toEqual([
        "openro:cpt 3 0",
        "read 33 0",
        "Ctx      Id       VE       State",
        "write -1 9",
        "close 0 0",
        "",
      ]);
      const wo = await client(devclient, ["openwo:cpt", "read", "write", "version:0"]);
      expect(lines(wo)).toEqual([
        "openwo:cpt 3 0",
        "read -1 9",
        "write -1 5",
        "version:0 2051 0",
        "",
      ]);
    },
    HANG,
  );

  test(
    "cat, shell redirections and echo on the devices: quick answers, the server stays healthy",
    async () => {
      const sock = socketOf("g109");
      const env = { PATH: process.env.PATH, LD_PRELOAD: PRELOAD_SO, VZCPTSIM_SOCKET: sock };
      // timeout(1): a hang fails here in 5 s instead of at the test's timeout.
      const sh = (script: string) => runAsync(["timeout", "5", "sh", "-c", script], env);
      const cat = await sh("cat /proc/cpt");
      expect({ out: text(cat.stdout), err: text(cat.stderr), exit: cat.exit }).toEqual({
        out: "Ctx      Id       VE       State\n",
        err: "",
        exit: 0,
      });
      // The shell opens the device and dup2()s it to fd 0 or 1; cat inherits it through execve.
      const redirected = await sh("cat < /proc/rst && exec 3<>/proc/cpt && cat <&3");
      expect(text(redirected.stdout)).toBe("Ctx      Id       VE       State\n".repeat(2));
      expect(redirected.exit).toBe(0);
      const echo = await sh("echo hi > /proc/cpt");
      expect(text(echo.stderr)).toMatch(/I\/O error\n$/);
      expect(echo.exit).toBe(1);
      const printf = await sh("printf hi >> /proc/rst");
      expect(text(printf.stderr)).toMatch(/I\/O error\n$/);
      expect(printf.exit).toBe(1);
      expect(await controlRequest(sock, { op: "ping" })).toEqual({ ok: true, node: "g109" });
      expect(text((await underPreload(sock, ["version"])).stdout)).toBe("2051\n");
    },
    HANG,
  );

  test("VZCPTSIM_PROBE=1: the constructor answers the probe once, not in the probe's children", async () => {
    const r = await runAsync(["sh", "-c", "sh -c 'echo child'"], {
      PATH: process.env.PATH,
      LD_PRELOAD: PRELOAD_SO,
      VZCPTSIM_PROBE: "1",
    });
    expect(text(r.stdout)).toBe(`${PROBE_MARKER}child\n`);
    const quiet = await runAsync(["sh", "-c", "echo plain"], {
      PATH: process.env.PATH,
      LD_PRELOAD: PRELOAD_SO,
      VZCPTSIM_PROBE: "yes",
    });
    expect(text(quiet.stdout)).toBe("plain\n");
  });
});
