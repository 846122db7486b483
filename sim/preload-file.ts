// libvzcptsim.so on disk, proven to load, before any program runs under it.
//
// Why the proof: ld.so skips an LD_PRELOAD entry it cannot map (a noexec
// mount, a wrong architecture, a missing file) with one warning on stderr and
// runs the program anyway. Such a program reaches the REAL /proc/cpt and
// /proc/rst, on an OpenVZ node the real kernel, and a refused migration could
// read as GO. So a shell is first run with the library and VZCPTSIM_PROBE=1,
// and the library's constructor must answer with PROBE_MARKER.
//
// Where the file comes from: under `bun` it is build/libvzcptsim.so in the
// tree. In the compiled vzcptsim it lives in the embedded file system and is
// copied, under a name made of a hash of its bytes, into a private (0700)
// directory `vzcptsim-<euid>` under $TMPDIR or, where that copy cannot be
// preloaded, under the bases src/native.ts falls back to for its addon
// (/run/user/<euid>, /run, /dev/shm, /var/tmp, ~/.cache), with the same
// ownership checks (src/private-dir.ts). The copy is kept, as Bun keeps its
// addon copies: a background child of a program may still exec after
// vzcptsim has exited, and a later run reuses it.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { dirname, resolve } from "node:path";
import { type Base, privateBases, privateDir, writeAtomically } from "../src/private-dir.ts";
import { CliError } from "./commands/common.ts";

/** What the library writes when probed (PROBE_MARKER in sim/preload/vzcptsim.c). */
export const PROBE_MARKER = "libvzcptsim.so: preloaded, protocol 1\n";

/** Where the embedded file system of a compiled Bun executable is mounted. */
const EMBEDDED_PREFIX = "/$bunfs/";

/** Run `shell -c :` with `so` preloaded: null if the library loaded, else why not. */
export function probePreload(so: string, shell = "/bin/sh"): string | null {
  let r: ReturnType<typeof Bun.spawnSync>;
  try {
    r = Bun.spawnSync([shell, "-c", ":"], {
      env: { LD_PRELOAD: so, VZCPTSIM_PROBE: "1" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  } catch (e) {
    return `cannot run ${shell} to test it (${e instanceof Error ? e.message : String(e)})`;
  }
  const out = r.stdout?.toString() ?? "";
  if (out === PROBE_MARKER) return null;
  const err = (r.stderr?.toString() ?? "").trim();
  // ld.so: "ERROR: ld.so: object 'F' from LD_PRELOAD cannot be preloaded (WHY): ignored."
  const why = /cannot be preloaded \((.*)\): ignored/.exec(err)?.[1];
  if (why !== undefined) return why;
  if (out !== "") return `it is not this version's interposer (it answered ${JSON.stringify(out)})`;
  if (err !== "") return err.split("\n")[0] as string;
  return `${shell} ran without it (no answer to the probe)`;
}

export interface PreloadOptions {
  /** Bases for the private copy, in order (default: $TMPDIR, then src/native.ts's). */
  readonly bases?: readonly Base[];
  /** The load test (default: probePreload). */
  readonly probe?: (so: string) => string | null;
}

/** The default bases: $TMPDIR first (never created), then src/native.ts's list. */
export function defaultBases(): Base[] {
  const euid = process.geteuid?.() ?? -1;
  return [{ path: resolve(tmpdir()), create: false }, ...privateBases(euid, process.env.HOME)];
}

/**
 * A path to `source` (the library, on disk or embedded) that ld.so preloads.
 * Throws CliError "cannot preload libvzcptsim.so from DIR: WHY" when no place works.
 */
export function loadablePreload(source: string, opts: PreloadOptions = {}): string {
  const probe = opts.probe ?? probePreload;
  const failures: { dir: string; why: string }[] = [];
  if (!source.startsWith(EMBEDDED_PREFIX)) {
    const why = probe(source);
    if (why === null) return source;
    failures.push({ dir: dirname(source), why });
  }
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(source);
  } catch (e) {
    throw new CliError(`cannot read libvzcptsim.so at ${source}: ${(e as Error).message}`);
  }
  const name = `libvzcptsim-${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.so`;
  const euid = process.geteuid?.() ?? -1;
  const bases = opts.bases ?? defaultBases();
  for (const base of bases) {
    let dir: string | undefined;
    let file: string;
    try {
      dir = privateDir(fs, base.path, euid, base.create, "vzcptsim");
      if (dir === undefined) continue; // missing, or not private enough to run code from
      file = `${dir}/${name}`;
      if (!sameBytes(file, bytes)) writeAtomically(fs, dir, name, bytes);
    } catch (e) {
      if (dir !== undefined) failures.push({ dir, why: (e as Error).message });
      continue; // read-only, full...: the next base
    }
    const why = probe(file);
    if (why === null) return file;
    failures.push({ dir, why });
    fs.rmSync(file, { force: true }); // leave no unusable copy behind
    try {
      fs.rmdirSync(dir); // nor an empty directory
    } catch {
      // not empty (other versions' copies): keep it
    }
  }
  const [first, ...rest] = failures;
  if (first === undefined) {
    const tried = bases.map((b) => b.path).join(", ");
    throw new CliError(
      `cannot preload libvzcptsim.so: no private directory to put it in (${tried})`,
    );
  }
  const also = rest.length > 0 ? ` (also tried ${rest.map((f) => f.dir).join(", ")})` : "";
  throw new CliError(`cannot preload libvzcptsim.so from ${first.dir}: ${first.why}${also}`);
}

/** Whether `file` exists with exactly these bytes (a kept copy to reuse). */
function sameBytes(file: string, bytes: Uint8Array): boolean {
  try {
    return Buffer.from(bytes).equals(fs.readFileSync(file));
  } catch {
    return false;
  }
}
