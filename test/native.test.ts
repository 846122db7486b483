// The native module (native/vzcpt.c) against the real libc and kernel, and the
// compiled dist/vzcptcheck where Bun's defaults would hurt it: a noexec or
// read-only $TMPDIR (the loader's fallback), a hostile current directory, and
// broken output streams.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EAGAIN, EBADF, ENOENT, ENOTTY, ERRNO_BY_NAME, strerrorC } from "../src/cpt/errno.ts";
import type { VzcptAddon } from "../src/native.ts";
import { ensureBuilt, ROOT, VZCPTCHECK } from "./sim-support.ts";

const ADDON = join(ROOT, "native/build/Release/vzcpt.node");
ensureBuilt(ADDON, VZCPTCHECK);
const vz = require(ADDON) as VzcptAddon;

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe("addon: libc calls with C-style results", () => {
  test("strerror gives glibc's C-locale texts", () => {
    expect(vz.strerror(2)).toBe("No such file or directory");
    expect(vz.strerror(22)).toBe("Invalid argument");
    expect(vz.strerror(11)).toBe("Resource temporarily unavailable");
    for (const [name, n] of Object.entries(ERRNO_BY_NAME)) {
      expect(`${name}: ${vz.strerror(n)}`).toBe(`${name}: ${strerrorC(n)}`);
    }
    expect(vz.strerror(0)).toBe(strerrorC(0));
    expect(vz.strerror(4242)).toBe("Unknown error 4242");
  });

  test("open of a missing path: ret -1, errno ENOENT", () => {
    const r = vz.open("/nonexistent/vzcpt-test");
    expect(r).toEqual({ ret: -1, errno: ENOENT });
  });

  test("open O_RDWR succeeds with errno 0; close returns 0, then EBADF's -1", () => {
    const r = vz.open("/dev/null");
    expect(r.ret).toBeGreaterThanOrEqual(0);
    expect(r.errno).toBe(0);
    expect(vz.write(r.ret, bytes("x"))).toEqual({ ret: 1, errno: 0 }); // opened for writing
    expect(vz.close(r.ret)).toBe(0);
    expect(vz.close(r.ret)).toBe(-1);
    expect(vz.write(r.ret, bytes("x"))).toEqual({ ret: -1, errno: EBADF });
  });

  test("pipe: both ends non-blocking; drain returns what was written", () => {
    const p = vz.pipe();
    expect(p.ret).toBe(0);
    expect(p.errno).toBe(0);
    try {
      expect(text(vz.drain(p.readFd))).toBe(""); // empty: EAGAIN at once, no blocking
      expect(vz.write(p.writeFd, bytes("Error: Destination cpu does not have avx\n"))).toEqual({
        ret: 41,
        errno: 0,
      });
      expect(text(vz.drain(p.readFd))).toBe("Error: Destination cpu does not have avx\n");
      // Several 4096-byte chunks, then EAGAIN ends the drain.
      const big = new Uint8Array(10_000).map((_, i) => 65 + (i % 26));
      expect(vz.write(p.writeFd, big).ret).toBe(10_000);
      expect(vz.drain(p.readFd)).toEqual(big);
      // A full pipe refuses with EAGAIN instead of blocking the writer.
      const mb = new Uint8Array(1 << 20);
      const first = vz.write(p.writeFd, mb);
      expect(first.ret).toBeGreaterThan(0);
      expect(first.ret).toBeLessThan(mb.length);
      expect(vz.write(p.writeFd, mb)).toEqual({ ret: -1, errno: EAGAIN });
      expect(vz.drain(p.readFd).length).toBe(first.ret);
    } finally {
      vz.close(p.readFd);
      vz.close(p.writeFd);
    }
  });

  test("drain stops at end of file (write end closed)", () => {
    const p = vz.pipe();
    vz.write(p.writeFd, bytes("bye"));
    vz.close(p.writeFd);
    expect(text(vz.drain(p.readFd))).toBe("bye");
    expect(text(vz.drain(p.readFd))).toBe("");
    vz.close(p.readFd);
  });

  test("ioctl on a non-device: -1 with ENOTTY; on a bad fd: EBADF", () => {
    const p = vz.pipe();
    const CPT_TEST_CAPS = 0x402d2d13 >>> 0;
    expect(vz.ioctl(p.readFd, CPT_TEST_CAPS, -1)).toEqual({ ret: -1, errno: ENOTTY });
    const n = vz.open("/dev/null");
    expect(vz.ioctl(n.ret, 0xc0045401, 7)).toEqual({ ret: -1, errno: ENOTTY });
    vz.close(n.ret);
    vz.close(p.readFd);
    vz.close(p.writeFd);
    expect(vz.ioctl(p.readFd, CPT_TEST_CAPS, 0)).toEqual({ ret: -1, errno: EBADF });
  });

  test("cpuid(0, 0) spells the vendor that cpuVendor() returns", () => {
    const r = vz.cpuid(0, 0);
    const le = (n: number) => [0, 8, 16, 24].map((s) => String.fromCharCode((n >>> s) & 0xff));
    const vendor = [...le(r.ebx), ...le(r.edx), ...le(r.ecx)].join("");
    expect(vendor).toBe(vz.cpuVendor());
    expect(vendor).toMatch(/^[\x20-\x7e]{12}$/);
    expect(r.eax).toBeGreaterThan(0); // highest basic leaf
    for (const k of ["eax", "ebx", "ecx", "edx"] as const) {
      expect(Number.isInteger(r[k]) && r[k] >= 0 && r[k] <= 0xffffffff).toBe(true);
    }
    // Leaf 1 EDX bit 0 (fpu) is set on every x86-64 CPU.
    expect(vz.cpuid(1, 0).edx & 1).toBe(1);
  });

  test("uname", () => {
    const u = vz.uname();
    expect(u.sysname).toBe("Linux");
    expect(u.machine).toBe("x86_64");
    expect(u.release).toMatch(/^\d+\.\d+/);
  });

  test("needs no glibc newer than the Bun runtime's own floor (2.17)", () => {
    // A symbol such as fcntl64@GLIBC_2.28 would keep the addon from loading
    // on older nodes; native/vzcpt.c undefines _FILE_OFFSET_BITS for that.
    for (const file of [ADDON, VZCPTCHECK]) {
      const r = Bun.spawnSync(["objdump", "-T", file]);
      expect(r.exitCode).toBe(0);
      const versions = [...text(r.stdout).matchAll(/GLIBC_2\.(\d+)/g)].map((m) => Number(m[1]));
      expect(versions.length).toBeGreaterThan(0);
      expect(`${file}: GLIBC_2.${Math.max(...versions)}`).toBe(
        `${file}: GLIBC_2.${Math.min(17, Math.max(...versions))}`,
      );
    }
  });

  test("wrong argument types throw instead of calling libc", () => {
    expect(() => vz.open(1 as unknown as string)).toThrow("expected a string");
    expect(() => vz.open("/dev/null\0x")).toThrow("NUL");
    expect(() => (vz.ioctl as (...a: unknown[]) => unknown)(0)).toThrow("missing argument");
    expect(() => vz.write(1, "x" as unknown as Uint8Array)).toThrow("Uint8Array");
  });
});

// ---------------------------------------------------------------------------
// The compiled binary

const NO_CPT = "Can't open /proc/cpt: No such file or directory\nKernel module vzcpt not loaded\n";
const work = mkdtempSync(join(tmpdir(), "vzcpt-native-test-"));
const mounts: string[] = [];

function run(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): { out: string; err: string; exit: number } {
  const r = Bun.spawnSync([VZCPTCHECK, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...opts.env },
    cwd: opts.cwd ?? work,
    stdin: "ignore",
  });
  return { out: text(r.stdout), err: text(r.stderr), exit: r.exitCode ?? -1 };
}

/** A tmpfs at a new directory with mount options `opts` (as root); where
 *  mounting is not allowed, a directory of mode 0555 (read-only to non-root). */
function tmpfs(name: string, opts: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  const mount = ["mount", "-t", "tmpfs", "-o", `${opts},size=4m,mode=1777`, "tmpfs", dir];
  if (Bun.spawnSync(mount).exitCode === 0) mounts.push(dir);
  else chmodSync(dir, 0o555);
  return dir;
}

afterAll(() => {
  for (const dir of mounts) {
    if (Bun.spawnSync(["umount", dir]).exitCode !== 0) Bun.spawnSync(["umount", "-l", dir]);
  }
  rmSync(work, { recursive: true, force: true });
});

describe("dist/vzcptcheck loads its addon where Bun's default cannot", () => {
  beforeAll(() => {
    expect(existsSync("/proc/cpt")).toBe(false); // this machine has no OpenVZ kernel
  });

  test("noexec $TMPDIR: the fallback copy is loaded", () => {
    const dir = tmpfs("noexec", "noexec");
    const r = run(["version"], { env: { TMPDIR: dir } });
    expect(r).toEqual({ out: "", err: NO_CPT, exit: 1 });
    // Bun really did put its copy there, and that copy cannot be dlopen'ed:
    // so the run above went through the fallback.
    const copies = readdirSync(dir).filter((f) => f.startsWith(".bun-") && f.endsWith(".node"));
    if (mounts.includes(dir)) {
      expect(copies.length).toBe(1);
      // In a child: a failed dlopen can keep the file open and the mount busy.
      const file = JSON.stringify(join(dir, copies[0] ?? ""));
      const probe = Bun.spawnSync([
        process.execPath,
        "-e",
        `process.dlopen({exports: {}}, ${file})`,
      ]);
      expect(text(probe.stderr)).toContain("failed to map segment");
    }
  });

  test("read-only $TMPDIR with no cached copy: the fallback copy is loaded", () => {
    const dir = tmpfs("ro", "ro");
    expect(readdirSync(dir)).toEqual([]);
    expect(run(["version"], { env: { TMPDIR: dir } })).toEqual({ out: "", err: NO_CPT, exit: 1 });
  });

  test("missing $TMPDIR: the fallback copy is loaded", () => {
    const r = run(["caps", "1", "2"], { env: { TMPDIR: join(work, "does-not-exist") } });
    expect(r).toEqual({ out: "", err: NO_CPT, exit: 1 });
  });
});

describe("dist/vzcptcheck ignores a hostile current directory", () => {
  const hostile = join(work, "hostile");
  const marker = join(work, "marker");

  beforeAll(() => {
    mkdirSync(hostile);
    const evil = join(hostile, "evil.js");
    writeFileSync(evil, `require("fs").appendFileSync(${JSON.stringify(marker)}, "ran\\n");\n`);
    const dotenv = `BUN_OPTIONS=--preload ${evil}\nNODE_OPTIONS=--require ${evil}\nTMPDIR=/nonexistent\n`;
    for (const f of [".env", ".env.local", ".env.production"])
      writeFileSync(join(hostile, f), dotenv);
    writeFileSync(join(hostile, "bunfig.toml"), `preload = ["${evil}"]\n[run]\nbun = true\n`);
    writeFileSync(
      join(hostile, "tsconfig.json"),
      '{"compilerOptions":{"paths":{"*":["./evil.js"]}}}',
    );
    writeFileSync(
      join(hostile, "package.json"),
      '{"type":"commonjs","imports":{"#x":"./evil.js"}}',
    );
  });

  test.each([[[]], [["version"]], [["caps", "12", "34"]], [["bogus"]]])(
    "%j: same bytes as from a clean directory, no preload ran",
    (args) => {
      const clean = run(args, { cwd: work });
      const there = run(args, {
        cwd: hostile,
        env: { NODE_OPTIONS: `--require ${hostile}/evil.js` },
      });
      expect(there).toEqual(clean);
      expect(existsSync(marker)).toBe(false);
    },
  );

  test("documented limit: BUN_OPTIONS from the real environment is still honoured", () => {
    // Bun reads it before any of our code; bun-hardening.md says so. If a Bun
    // update stops honouring it, this test fails and the notes need updating.
    const r = run(["version"], {
      cwd: hostile,
      env: { BUN_OPTIONS: `--preload ${hostile}/evil.js` },
    });
    expect(r).toEqual({ out: "", err: NO_CPT, exit: 1 });
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
  });
});

describe("dist/vzcptcheck with broken output streams keeps its exit code", () => {
  // stdout+stderr of `sh -c script`, where $V is the binary.
  const sh = (script: string): string => {
    const r = Bun.spawnSync(["sh", "-c", script], {
      env: { PATH: process.env.PATH ?? "", V: VZCPTCHECK },
      cwd: work,
    });
    return text(r.stdout) + text(r.stderr);
  };

  test("closed stdout or stderr", () => {
    expect(sh('"$V" >&-; echo $?')).toBe("0\n");
    expect(sh('"$V" help >&- 2>&-; echo $?')).toBe("0\n");
    expect(sh('"$V" bogus 2>&-; echo $?')).toBe("1\n");
    expect(sh('"$V" version 2>&-; echo $?')).toBe("1\n");
  });

  test("/dev/full", () => {
    expect(sh('"$V" >/dev/full; echo $?')).toBe("0\n");
    expect(sh('"$V" -h 2>/dev/full; echo $?')).toBe("1\n");
    expect(sh('"$V" version 2>/dev/full; echo $?')).toBe("1\n");
  });

  test("a reader that went away (EPIPE): same exit code, nothing on stderr", () => {
    // `true` has exited long before vzcptcheck writes the usage text.
    expect(sh('{ sleep 0.2; "$V"; echo "rc=$?" >&2; } | true')).toBe("rc=0\n");
    expect(sh('{ sleep 0.2; "$V" help; echo "rc=$?" >&2; } | true')).toBe("rc=0\n");
  });
});
