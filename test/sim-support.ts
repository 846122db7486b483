// Shared by the simulator's server, CLI and vzmigrate tests: where the built
// binaries are (built on demand), private temp dirs, and running a program
// under libvzcptsim.so without blocking the in-process node servers.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");
export const VZCPTCHECK = join(ROOT, "dist/vzcptcheck");
export const VZCPTSIM = join(ROOT, "dist/vzcptsim");
export const PRELOAD_SO = join(ROOT, "build/libvzcptsim.so");
export const DEMO_FLEET = join(ROOT, "sim/fleets/demo.yaml");
export const MIXED_FLEET = join(ROOT, "sim/fleets/mixed.yaml");

/** Build what a test needs if it is missing (`make all` normally has). */
export function ensureBuilt(...files: string[]): void {
  const missing = files.filter((f) => !existsSync(f)).map((f) => f.slice(ROOT.length + 1));
  if (missing.length === 0) return;
  const r = spawnSync("make", ["-C", ROOT, ...missing], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`make ${missing.join(" ")} failed:\n${r.stdout}${r.stderr}`);
}

/** A fresh private temp dir; the returned function removes it. */
export function tempDir(prefix = "vzcptsim-test-"): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Ran {
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly exit: number;
}

/** Run argv asynchronously (the node servers in this process keep answering). */
export async function runAsync(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Promise<Ran> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const proc = Bun.spawn([...argv], {
    env: clean,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).bytes(),
    new Response(proc.stderr).bytes(),
  ]);
  const exit = await proc.exited;
  return { stdout, stderr, exit };
}

/** dist/vzcptcheck ARGS under the interposer, talking to the server at `socket`. */
export function underPreload(
  socket: string,
  args: readonly string[],
  program = VZCPTCHECK,
): Promise<Ran> {
  return runAsync([program, ...args], {
    PATH: process.env.PATH,
    LD_PRELOAD: PRELOAD_SO,
    VZCPTSIM_SOCKET: socket,
  });
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
