// `vzcptsim run NODE -- CMD ARGS...`: serve NODE on a private socket, run CMD
// under libvzcptsim.so, stop. Also the helpers other commands use to run real
// programs against served nodes (migrate-check --via-preload).

import { mkdtempSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeModel } from "../node.ts";
import { type NodeServer, serveNode } from "../server.ts";
import { type Cli, CliError, type CommandDef, parseCommandArgs } from "./common.ts";
import { loadNode, loadProfiles, PROFILE_HELP, PROFILE_OPTION } from "./load.ts";

/**
 * Serve each node on its own socket in a fresh 0700 temp dir, call `fn` with
 * the socket paths, then stop every server and remove the dir (also on error).
 */
export async function withServedNodes<T>(
  nodes: readonly NodeModel[],
  fn: (sockets: string[]) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "vzcptsim-"));
  const servers: NodeServer[] = [];
  try {
    for (const [i, node] of nodes.entries())
      servers.push(await serveNode(node, join(dir, `node${i}.sock`)));
    return await fn(servers.map((s) => s.socketPath));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The environment a program needs to reach a served node through the interposer. */
export function preloadEnv(
  soPath: string,
  socket: string,
  base: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  delete env.VZCPTSIM_PROBE; // the library's load test, not for real programs
  env.LD_PRELOAD = base.LD_PRELOAD ? `${soPath}:${base.LD_PRELOAD}` : soPath;
  env.VZCPTSIM_SOCKET = socket;
  return env;
}

/** A finished process's exit code as a shell reports it (128 + signal number). */
function exitCodeOf(proc: { exitCode: number | null; signalCode: string | number | null }): number {
  if (proc.exitCode !== null) return proc.exitCode;
  const sig = proc.signalCode;
  const signo =
    typeof sig === "number" ? sig : (constants.signals as Record<string, number>)[sig ?? ""];
  return 128 + (signo ?? 0);
}

export interface Captured {
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly exit: number;
}

/** Run argv with `env`, stdin closed, stdout and stderr captured (async: servers keep serving). */
export async function spawnCaptured(
  argv: readonly string[],
  env: Record<string, string>,
): Promise<Captured> {
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn([...argv], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    throw new CliError(`cannot run ${argv[0]}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout as ReadableStream).bytes(),
    new Response(proc.stderr as ReadableStream).bytes(),
  ]);
  await proc.exited;
  return { stdout, stderr, exit: exitCodeOf(proc) };
}

/** Run argv with inherited stdio; SIGINT/SIGTERM sent to vzcptsim are passed on. */
async function spawnInherited(
  argv: readonly string[],
  env: Record<string, string>,
): Promise<number> {
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn([...argv], { env, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  } catch (e) {
    throw new CliError(`run: cannot run ${argv[0]}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const forward = (sig: NodeJS.Signals): void => {
    proc.kill(sig);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  try {
    await proc.exited;
  } finally {
    process.off("SIGINT", forward);
    process.off("SIGTERM", forward);
  }
  return exitCodeOf(proc);
}

export const run: CommandDef = {
  path: ["run"],
  summary: "run any program against a node through the LD_PRELOAD interposer",
  help:
    "Usage: vzcptsim run NODE [--profile FILE]... -- CMD ARGS...\n" +
    "\n" +
    "Serve the simulated kernel of NODE on a private socket, run CMD with\n" +
    "LD_PRELOAD=libvzcptsim.so and VZCPTSIM_SOCKET set (its opens of /proc/cpt\n" +
    "and /proc/rst and their ioctls reach the node), pass stdin, stdout and\n" +
    "stderr through, stop the server and exit with CMD's exit code (128+N if a\n" +
    "signal N ended it). The interposer is carried inside vzcptsim, copied\n" +
    "once into a private directory (vzcptsim-UID under $TMPDIR, or under /run,\n" +
    "/dev/shm, /var/tmp or ~/.cache where $TMPDIR is noexec) and kept there;\n" +
    "CMD runs only after a test run shows that it really is preloaded.\n" +
    "\n" +
    "NODE is a node file (YAML or JSON) or FLEET_FILE:NODE_NAME.\n" +
    "\n" +
    "Options:\n" +
    PROFILE_HELP,
  async run(args: readonly string[], cli: Cli): Promise<number> {
    const p = parseCommandArgs("run", args, {
      repeatable: [PROFILE_OPTION],
      positional: ["NODE"],
      rest: "required",
    });
    const argv = p.rest ?? [];
    if (argv.length === 0) throw new CliError("run: missing the command to run after --");
    const node = loadNode(
      p.positional[0] as string,
      loadProfiles(p.options.get(PROFILE_OPTION) ?? []),
    );
    const so = cli.env.preloadPath();
    return withServedNodes([node], ([socket]) =>
      spawnInherited(argv, preloadEnv(so, socket as string)),
    );
  },
};
