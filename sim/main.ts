// vzcptsim: the OpenVZ kernel simulator's command line, as a function of argv
// (sim/cli.ts, the entry compiled to dist/vzcptsim, only calls main), so tests
// run the very same dispatch in-process. It carries libvzcptsim.so and the
// demo fleet inside the executable; the production vzcptcheck carries none of this.

import { existsSync } from "node:fs";
import soEmbedded from "../build/libvzcptsim.so" with { type: "file" };
import type { Output } from "../src/backend.ts";
import { fdOutput } from "../src/output.ts";
import { cpus, kernels } from "./commands/catalog.ts";
import { type Cli, type CliEnv, CliError, type CommandDef } from "./commands/common.ts";
import { demo } from "./commands/demo.ts";
import { exec } from "./commands/exec.ts";
import { fleetCommands } from "./commands/fleet.ts";
import { migrateCheck, siblingOf } from "./commands/migrate-check.ts";
import { nodeHost } from "./commands/node-host.ts";
import { nodeShow } from "./commands/node-show.ts";
import { run } from "./commands/run.ts";
import { control, serve } from "./commands/serve.ts";
import demoFleetText from "./fleets/demo.yaml" with { type: "text" };
import { loadablePreload } from "./preload-file.ts";

// ---- The command table ------------------------------------------------------
// One entry per command; `path` is the words that select it (two words for a
// group such as `node show`). FLEET EXPERIMENTS: the fleet helper adds its
// `fleet ...` subcommands here, from sim/commands/fleet.ts (e.g. `...fleetCommands`).
export const COMMANDS: readonly CommandDef[] = [
  demo,
  migrateCheck,
  nodeShow,
  nodeHost,
  exec,
  run,
  serve,
  control,
  cpus,
  kernels,
  ...fleetCommands,
];
// -----------------------------------------------------------------------------

const USAGE_HEAD =
  "Usage: vzcptsim COMMAND [ARGS...]   (vzcptsim help COMMAND, or COMMAND --help)\n" +
  "\n" +
  "Simulated OpenVZ nodes for vzcptcheck: kernel generations, CPUs, containers,\n" +
  "and a simulated /proc/cpt and /proc/rst for any program.\n" +
  "\n" +
  "Commands:\n";

export function usage(commands: readonly CommandDef[] = COMMANDS): string {
  const names = commands.map((c) => c.path.join(" "));
  const width = Math.max(...names.map((n) => n.length));
  const lines = commands.map((c, i) => `  ${(names[i] as string).padEnd(width)}  ${c.summary}`);
  return `${USAGE_HEAD}${lines.join("\n")}\n  ${"help".padEnd(width)}  this text, or a command's help\n`;
}

/** The command whose path is the longest prefix of args, and the args after it. */
function lookup(args: readonly string[]): { cmd: CommandDef; rest: string[] } | null {
  let best: CommandDef | null = null;
  for (const c of COMMANDS) {
    if (c.path.every((w, i) => args[i] === w) && (!best || c.path.length > best.path.length))
      best = c;
  }
  return best ? { cmd: best, rest: args.slice(best.path.length) } : null;
}

/** Commands of a group ("node" -> node show ...), for `vzcptsim node`. */
const group = (word: string | undefined): CommandDef[] =>
  COMMANDS.filter((c) => c.path.length > 1 && c.path[0] === word);

const wantsHelp = (args: readonly string[]): boolean => {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
};

function help(args: readonly string[], cli: Cli): number {
  if (args.length === 0) {
    cli.out.stdout(usage());
    return 0;
  }
  const hit = lookup(args);
  if (hit && hit.rest.length === 0) {
    cli.out.stdout(hit.cmd.help);
    return 0;
  }
  const members = group(args[0]);
  if (members.length > 0 && args.length === 1) {
    cli.out.stdout(usage(members));
    return 0;
  }
  throw new CliError(`help: no command ${JSON.stringify(args.join(" "))} (see vzcptsim help)`);
}

async function dispatch(args: readonly string[], cli: Cli): Promise<number> {
  if (args[0] === "help") return help(args.slice(1), cli);
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h") {
    const asked = args.length > 0;
    if (asked) cli.out.stdout(usage());
    else cli.out.stderr(usage());
    return asked ? 0 : 1;
  }
  const hit = lookup(args);
  if (!hit) {
    const members = group(args[0]);
    if (members.length > 0) {
      if (wantsHelp(args.slice(1, 2))) {
        cli.out.stdout(usage(members));
        return 0;
      }
      if (args.length === 1) {
        cli.out.stderr(usage(members));
        return 1;
      }
      const names = members.map((c) => c.path.join(" ")).join(", ");
      throw new CliError(
        `${args[0]}: unknown subcommand ${JSON.stringify(args[1])} (known: ${names})`,
      );
    }
    cli.out.stderr(`vzcptsim: unknown command ${JSON.stringify(args[0])}\n${usage()}`);
    return 1;
  }
  if (wantsHelp(hit.rest)) {
    cli.out.stdout(hit.cmd.help);
    return 0;
  }
  return hit.cmd.run(hit.rest, cli);
}

/** libvzcptsim.so on disk and proven to load (sim/preload-file.ts), found once. */
function makePreloadPath(): () => string {
  let path: string | null = null;
  return () => {
    path ??= loadablePreload(soEmbedded);
    return path;
  };
}

/** What the running executable carries (or, under `bun`, the files in the tree). */
export function defaultEnv(): CliEnv {
  const sibling = siblingOf(process.execPath);
  return {
    preloadPath: makePreloadPath(),
    demoFleetText: demoFleetText as string,
    siblingVzcptcheck: existsSync(sibling) ? sibling : null,
  };
}

/** Run `vzcptsim ARGS`; returns the exit code. Errors become one line on stderr, exit 1. */
export async function main(
  args: readonly string[],
  env: CliEnv,
  out: Output = fdOutput(),
): Promise<number> {
  try {
    return await dispatch(args, { out, env });
  } catch (e) {
    // One line, never a stack trace.
    const text = e instanceof Error ? e.message : String(e);
    out.stderr(`vzcptsim: ${text.replace(/\s*\n\s*/g, " ")}\n`);
    return 1;
  }
}
