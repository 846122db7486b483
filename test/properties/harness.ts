// Shared plumbing of the property tests: run counts, a failure message that
// says how to replay, and the real executable under the LD_PRELOAD
// interposer against in-process node servers.

import { test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import fc from "fast-check";
import { cpuWords } from "../../sim/cpu/catalog.ts";
import type { SimKernel } from "../../sim/kernel/api.ts";
import { nodeKernel } from "../../sim/kernel/model.ts";
import { NodeModel } from "../../sim/node.ts";
import { type NodeServer, serveNode } from "../../sim/server.ts";
import type { NodeSpec } from "../../sim/types.ts";
import type { OracleEnv } from "../oracle.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const VZCPTCHECK = join(ROOT, "dist/vzcptcheck");
export const VZCPTSIM = join(ROOT, "dist/vzcptsim");
export const PRELOAD = join(ROOT, "build/libvzcptsim.so");

/** The oracle's view of the world: catalog CPUs resolved, a root process. */
export const ORACLE_ENV: OracleEnv = { resolve: cpuWords, euid: 0 };

/** Global numRuns (FC_RUNS, default 100) scaled for a property; at least `min`. */
export function runs(fraction = 1, min = 5): number {
  const base = fc.readConfigureGlobal().numRuns ?? 100;
  return Math.max(min, Math.round(base * fraction));
}

/** Spawning properties run fewer cases: 50 at the default FC_RUNS=100. */
export const SPAWN_RUNS = (): number => runs(0.5);

/** A generous per-test timeout for `n` cases costing about `msEach`. */
export const timeoutFor = (n: number, msEach: number): number => 20_000 + n * msEach;

const replayPath = process.env.FC_PATH;

const regexEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const shellQuote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

function replayHint(details: fc.RunDetails<unknown>, file: string, name: string): string {
  const rel = relative(ROOT, file);
  const runsNow = fc.readConfigureGlobal().numRuns ?? 100;
  return (
    `\nReplay this case: FC_SEED=${details.seed} FC_PATH=${shellQuote(details.counterexamplePath ?? "")} ` +
    `FC_RUNS=${runsNow} node_modules/.bin/bun test ${rel} -t ${shellQuote(regexEscape(name))}` +
    `\nRerun the whole property: FC_SEED=${details.seed} FC_RUNS=${runsNow} node_modules/.bin/bun test ${rel}`
  );
}

/**
 * A bun test named `name` that checks a fast-check property with the suite's
 * settings; a failure throws fast-check's report (seed, path, counterexample)
 * plus the exact commands that replay it. `build` makes the property.
 */
export function prop<T>(
  file: string,
  name: string,
  build: () => fc.IProperty<T> | fc.IAsyncProperty<T>,
  params: fc.Parameters<T> = {},
  timeoutMs?: number,
): void {
  test(
    name,
    async () => {
      const all: fc.Parameters<T> = { ...params, ...(replayPath ? { path: replayPath } : {}) };
      const details = await fc.check(build() as fc.IAsyncProperty<T>, all);
      if (details.failed)
        throw new Error(
          fc.defaultReportMessage(details) +
            replayHint(details as fc.RunDetails<unknown>, file, name),
        );
    },
    timeoutMs,
  );
}

// ------------------------------------------------------------ spawning ----

export interface ExeResult {
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Uint8Array;
  readonly stderrBytes: Uint8Array;
  readonly ms: number;
  readonly signal: string | null;
}

const decoder = new TextDecoder();

/** Run a program with argv, the interposer pointed at `socket` (if any), stdin closed. */
export async function runExe(
  exe: string,
  args: readonly string[],
  socket?: string,
  limitMs = 10_000,
): Promise<ExeResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C" };
  if (socket) {
    env.LD_PRELOAD = PRELOAD;
    env.VZCPTSIM_SOCKET = socket;
  }
  const t0 = performance.now();
  const p = Bun.spawn([exe, ...args], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    cwd: ROOT,
  });
  // A hung program is killed (and shows up as a signal), never left to the test timeout.
  const timer = setTimeout(() => p.kill("SIGKILL"), limitMs);
  const [out, err] = await Promise.all([
    new Response(p.stdout).bytes(),
    new Response(p.stderr).bytes(),
  ]);
  const exit = await p.exited;
  clearTimeout(timer);
  const ms = performance.now() - t0;
  return {
    exit,
    stdout: decoder.decode(out),
    stderr: decoder.decode(err),
    stdoutBytes: out,
    stderrBytes: err,
    ms,
    signal: p.signalCode === null || p.signalCode === undefined ? null : String(p.signalCode),
  };
}

/** A private directory for sockets and files, removed by `cleanup()`. */
export function scratch(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `vzprop-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The node's kernel as a root process sees it, whoever runs the tests: the
 * forwarder sends the real euid, and a non-root CI would otherwise only ever
 * exercise EACCES.
 */
export const rootKernel = (node: NodeModel): SimKernel => {
  const k = nodeKernel(node);
  return { open: (path) => k.open(path, 0) };
};

let serial = 0;

/** Serve each spec on its own socket in `dir`; returns the models and servers. */
export async function serve(
  dir: string,
  specs: readonly NodeSpec[],
): Promise<{ models: NodeModel[]; servers: NodeServer[]; stop(): Promise<void> }> {
  const models = specs.map((s) => new NodeModel(s));
  const servers: NodeServer[] = [];
  for (const m of models)
    servers.push(await serveNode(m, join(dir, `n${serial++}.sock`), rootKernel(m)));
  return {
    models,
    servers,
    stop: async () => void (await Promise.all(servers.map((s) => s.stop()))),
  };
}

/** Serve `spec` alone, run `exe args` against it, stop the server: the run's result. */
export async function runOnNode(
  dir: string,
  spec: NodeSpec,
  exe: string,
  args: readonly string[],
): Promise<ExeResult> {
  const { servers, stop } = await serve(dir, [spec]);
  try {
    return await runExe(exe, args, (servers[0] as NodeServer).socketPath);
  } finally {
    await stop();
  }
}

/** A JS stack frame or Bun's own error banner: never allowed on a user's screen. */
export const STACK_TRACE = /^ {4}at |\n {4}at |^error: |\nerror: |\n\s*\^\n|Bun v\d|panic/;
