// `vzcptsim exec NODE -- vzcptcheck ARGS...`: the production CLI's flows,
// unchanged, run in this process against a simulated node (explain and
// profile too, with the node as their machine: sim/host.ts). Output bytes and
// exit code are exactly what dist/vzcptcheck would give on that node.

import { basename } from "node:path";
import { runInProcess } from "../device.ts";
import {
  type Cli,
  CliError,
  type CommandDef,
  intArg,
  optionValue,
  parseCommandArgs,
} from "./common.ts";
import { loadNode, loadProfiles, PROFILE_HELP, PROFILE_OPTION } from "./load.ts";

export const exec: CommandDef = {
  path: ["exec"],
  summary: "run vzcptcheck's flows in-process against a node",
  help:
    "Usage: vzcptsim exec NODE [--euid N] [--profile FILE]... -- vzcptcheck ARGS...\n" +
    "\n" +
    "Run `vzcptcheck ARGS...` inside vzcptsim against the simulated kernel of\n" +
    "NODE, with the production code's own argv grammar and flows. Its stdout\n" +
    "and stderr are printed byte for byte and vzcptsim exits with its exit code.\n" +
    "To run any other program (or the real dist/vzcptcheck) against a node, use\n" +
    "`vzcptsim run`.\n" +
    "\n" +
    "`vzcptcheck explain` and `vzcptcheck profile` see NODE as their machine:\n" +
    "uname -r is a release of the node's kernel generation (2.6.32-042stab113.11\n" +
    "for 042stab109; all are listed in vzcptsim(1)), uname -m is x86_64 or i686\n" +
    "(arch64), the host name is the node's name, CPUID answers with the node's\n" +
    "CPU words after its cpuidMask (masking shows in CPUID on OpenVZ), and IPv6\n" +
    "is loaded when the node's ipv6 is true.\n" +
    "\n" +
    "NODE is a node file (YAML or JSON) or FLEET_FILE:NODE_NAME.\n" +
    "\n" +
    "Options:\n" +
    "  --euid N         effective uid of the simulated process (default 0; the\n" +
    "                   devices are root-only, so others get EACCES)\n" +
    PROFILE_HELP,
  run(args: readonly string[], cli: Cli): number {
    const p = parseCommandArgs("exec", args, {
      options: ["euid"],
      repeatable: [PROFILE_OPTION],
      positional: ["NODE"],
      rest: "required",
    });
    const [program, ...rest] = p.rest ?? [];
    if (program === undefined || basename(program) !== "vzcptcheck") {
      throw new CliError(
        `exec: only vzcptcheck runs in-process (got ${JSON.stringify(program ?? "")}); use vzcptsim run for other programs`,
      );
    }
    const euid = intArg("exec", "--euid", optionValue(p, "euid", "0") as string, 0, 4294967294);
    const node = loadNode(
      p.positional[0] as string,
      loadProfiles(p.options.get(PROFILE_OPTION) ?? []),
    );
    const r = runInProcess(node, rest, euid);
    if (r.stdout !== "") cli.out.stdout(r.stdout);
    if (r.stderr.length > 0) cli.out.stderr(r.stderr);
    return r.exit;
  },
};
