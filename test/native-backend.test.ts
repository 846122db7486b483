// src/native.ts and src/extra.ts in-process (the addon import resolved by
// test/addon-path.ts, as a compiled binary resolves it): the loader, the
// Backend the CLI uses on this machine, nativeWrite, and `explain`/`profile`
// through runExtra giving what dist/vzcptcheck gives on the same machine.

import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { hostname, release } from "node:os";
import { EAGAIN, EBADF, ENOENT, strerrorC } from "../src/cpt/errno.ts";
import { CPT_PATH } from "../src/cpt/requests.ts";
import { nativeHost, runExtra } from "../src/extra.ts";
import { parseArgs, parseExtra } from "../src/grammar.ts";
import { runCommand } from "../src/modes.ts";
import { loadNative, nativeBackend, nativeWrite } from "../src/native.ts";
import { writeAll } from "../src/output.ts";
import { capture } from "./in-process.ts";
import { ensureBuilt, VZCPTCHECK } from "./sim-support.ts";

ensureBuilt(VZCPTCHECK);

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function vzcptcheck(args: readonly string[]) {
  const r = spawnSync(VZCPTCHECK, args, { encoding: "utf8", env: { PATH: process.env.PATH } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("the native backend", () => {
  test("loaded once; the Backend is the addon", () => {
    const a = loadNative();
    expect(loadNative()).toBe(a);
    expect(nativeBackend()).toBe(a);
  });

  test("open of a missing path: ENOENT, and strerror's C-locale text", () => {
    const k = nativeBackend();
    expect(k.open("/nonexistent/vzcpt-test")).toEqual({ ret: -1, errno: ENOENT });
    expect(k.strerror(ENOENT)).toBe("No such file or directory");
    expect(k.strerror(EAGAIN)).toBe(strerrorC(EAGAIN));
  });

  test("pipe, nativeWrite and drain: what is written comes out, bytes exact", () => {
    const k = nativeBackend();
    const write = nativeWrite();
    expect(write).toBeDefined();
    const p = k.pipe();
    expect(p.ret).toBe(0);
    try {
      const msg = "Error: Destination cpu does not have avx\n";
      expect(write?.(p.writeFd, bytes(msg))).toBe(msg.length);
      expect(text(k.drain(p.readFd))).toBe(msg);
      // writeAll over the addon's write, several chunks.
      const big = new Uint8Array(50_000).map((_, i) => i & 0xff);
      expect(writeAll(p.writeFd, big, write)).toBe(true);
      expect(k.drain(p.readFd)).toEqual(big);
      // A full pipe: -EAGAIN, not a block.
      const mb = new Uint8Array(1 << 20);
      while ((write?.(p.writeFd, mb) ?? -1) > 0) {
        // fill it
      }
      expect(write?.(p.writeFd, mb)).toBe(-EAGAIN);
    } finally {
      k.close(p.readFd);
      k.close(p.writeFd);
    }
    expect(write?.(p.writeFd, bytes("x"))).toBe(-EBADF);
  });

  test("vzcptcheck's flows on this machine: the same bytes as dist/vzcptcheck", () => {
    for (const args of [["version"], ["caps"], ["caps", "101", "134378911"], ["version", "2051"]]) {
      const out = capture();
      const code = runCommand(parseArgs(args), nativeBackend, out);
      expect({ args, code, stdout: out.stdoutText(), stderr: out.stderrText() }).toEqual({
        args,
        ...vzcptcheck(args),
      });
    }
    if (!existsSync(CPT_PATH)) {
      const out = capture();
      expect(runCommand(parseArgs(["version"]), nativeBackend, out)).toBe(1);
      expect(out.stderrText()).toStartWith("Can't open /proc/cpt: No such file or directory\n");
    }
  });
});

describe("explain and profile in-process (src/extra.ts)", () => {
  test("nativeHost asks this machine", () => {
    expect(nativeHost.uname().release).toBe(release());
    expect(nativeHost.hostname()).toBe(hostname());
    expect(nativeHost.exists("/proc/self")).toBe(true);
    expect(nativeHost.exists("/nonexistent")).toBe(false);
    const cpuid = nativeHost.cpuid();
    const r = cpuid?.(0, 0);
    const le = (n: number) => [0, 8, 16, 24].map((s) => String.fromCharCode((n >>> s) & 0xff));
    expect(r && [...le(r.ebx), ...le(r.edx), ...le(r.ecx)].join("")).toBe(loadNative().cpuVendor());
    expect(nativeHost.backend()).toBe(loadNative());
  });

  test("profile --json: the record dist/vzcptcheck prints on this machine", () => {
    const out = capture();
    expect(runExtra({ kind: "profile", args: ["--json"] }, out)).toBe(0);
    const mine = JSON.parse(out.stdoutText());
    expect(mine).toEqual(JSON.parse(vzcptcheck(["profile", "--json"]).stdout));
    expect(mine.kernel.release).toBe(release());
    expect(out.stderrText()).toBe("");
  });

  test("explain and profile text and errors: the binary's bytes and exit codes", () => {
    for (const args of [
      ["explain", "771913119"],
      ["explain", "771913119", "134378911", "--kernel", "042stab093"],
      ["explain", "0x2e02759f", "--json"],
      ["explain"],
      ["explain", "xyz"],
      ["profile"],
      ["profile", "--bogus"],
      ["profile", "--help"],
    ]) {
      const cmd = parseExtra(args);
      expect(cmd).not.toBeNull();
      const out = capture();
      const code = runExtra(cmd as NonNullable<typeof cmd>, out);
      expect({ args, code, stdout: out.stdoutText(), stderr: out.stderrText() }).toEqual({
        args,
        ...vzcptcheck(args),
      });
    }
  });
});
