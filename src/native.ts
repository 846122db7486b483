// The real kernel behind the Backend seam: the N-API module native/vzcpt.c.
//
// The addon is imported by a static path so that `bun build --compile` embeds
// it; `addonPath` is then a path inside the executable ("/$bunfs/root/...").
// Loading it is lazy (usage and help never need it) and happens once.
//
// Fallback order when the addon cannot be loaded:
//   1. require(addonPath): Bun's own way. Compiled, it writes the addon to
//      $TMPDIR (or /tmp) as .bun-<euid>-<hash>.node and dlopen()s it; this
//      fails on a noexec or read-only $TMPDIR (hardened nodes often have both).
//   2. A private copy: read the embedded bytes and write them (mode 0600,
//      tmp name + rename) into <base>/vzcptcheck-<euid>, a directory of mode
//      0700 owned by us, then process.dlopen() it. Bases, first that works:
//        /run/user/<euid>  per-user tmpfs (systemd), already private;
//        /run              root-only tmpfs: vzmigrate runs us as root, only root
//                          can write there, and hardening guides put noexec on
//                          /tmp, /var/tmp and /dev/shm but not on /run;
//        /dev/shm          tmpfs present everywhere, sticky, often exec-able;
//        /var/tmp          disk-backed and often a mount of its own;
//        $HOME/.cache      the home file system, almost never noexec.
//      A base is used only if no one but root and us can swap a path component
//      (owner and mode checks on every ancestor), because we are about to run
//      code from that file as root. The checks live in src/private-dir.ts
//      (vzcptsim uses them for libvzcptsim.so), loaded only on this path.
//   3. Nothing worked: one clear error line (cli.ts prints it, exit 1).

import addonPath from "../native/build/Release/vzcpt.node" with { type: "file" };
import type { Backend, SysResult } from "./backend.ts";
import type { WriteFn } from "./output.ts";

export interface CpuidRegs {
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

export interface Uname {
  readonly sysname: string;
  readonly release: string;
  readonly version: string;
  readonly machine: string;
}

/** What native/vzcpt.c exports: libc calls with C-style {ret, errno} results. */
export interface VzcptAddon extends Backend {
  drain(fd: number): Uint8Array;
  close(fd: number): number;
  /** One write(2) of `data`; the caller loops over short writes. */
  write(fd: number, data: Uint8Array): SysResult;
  cpuid(leaf: number, subleaf: number): CpuidRegs;
  /** CPUID leaf 0's vendor string, e.g. "GenuineIntel". */
  cpuVendor(): string;
  uname(): Uname;
}

let addon: VzcptAddon | undefined;

/** The addon, loaded on first use (see the fallback order above). */
export function loadNative(): VzcptAddon {
  addon ??= load();
  return addon;
}

/** The real kernel: /proc/cpt and /proc/rst through libc. */
export function nativeBackend(): Backend {
  return loadNative();
}

/** The addon's write(2) once a kernel mode has loaded it (output.ts uses it
 *  then instead of paying for node:fs); undefined before that. */
export function nativeWrite(): WriteFn | undefined {
  const a = addon;
  if (a === undefined) return undefined;
  return (fd, data) => {
    const r = a.write(fd, data);
    return r.ret >= 0 ? r.ret : -r.errno;
  };
}

function load(): VzcptAddon {
  try {
    return require(addonPath) as VzcptAddon;
  } catch (first) {
    const copy = loadPrivateCopy();
    if (copy !== undefined) return copy;
    throw new Error(
      `cannot load the native module (${oneLine(first)}); ` +
        "no private copy in /run, /dev/shm, /var/tmp or ~/.cache could be loaded either",
    );
  }
}

type Fs = typeof import("node:fs");
type PrivateDir = typeof import("./private-dir.ts");

function loadPrivateCopy(): VzcptAddon | undefined {
  // Only this rare path pays for node:fs and the directory checks (start-up time).
  const fs = require("node:fs") as Fs;
  const { privateBases, privateDir, writeAtomically } = require("./private-dir.ts") as PrivateDir;
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(addonPath);
  } catch {
    return undefined; // not built (dev tree): nothing to copy
  }
  const euid = process.geteuid?.() ?? -1;
  const name = addonPath.slice(addonPath.lastIndexOf("/") + 1);
  for (const base of privateBases(euid, process.env.HOME)) {
    try {
      const dir = privateDir(fs, base.path, euid, base.create);
      if (dir === undefined) continue;
      const file = writeAtomically(fs, dir, name, bytes);
      const mod = { exports: {} };
      try {
        process.dlopen(mod, file);
      } catch (e) {
        fs.rmSync(file, { force: true }); // leave no unusable copy behind
        throw e;
      }
      return mod.exports as VzcptAddon;
    } catch {
      // read-only, noexec, missing, full...: try the next base
    }
  }
  return undefined;
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").trim();
}
