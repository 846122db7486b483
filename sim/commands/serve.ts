// `vzcptsim serve` (a node server until SIGINT/SIGTERM) and `vzcptsim
// control` (change a served node's state while it runs).

import { type ControlRequest, controlRequest, serveNode, socketPathProblem } from "../server.ts";
import {
  type Cli,
  CliError,
  type CommandDef,
  intArg,
  optionValue,
  parseCommandArgs,
} from "./common.ts";
import { loadNode, loadProfiles, PROFILE_HELP, PROFILE_OPTION } from "./load.ts";

/** Resolves with the name of the first SIGINT or SIGTERM (handlers removed then). */
export function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(sig);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

export const serve: CommandDef = {
  path: ["serve"],
  summary: "serve a node's /proc/cpt and /proc/rst on a Unix socket",
  help:
    "Usage: vzcptsim serve NODE --socket PATH [--profile FILE]...\n" +
    "\n" +
    "Serve the simulated kernel of NODE on the Unix socket PATH until SIGINT or\n" +
    "SIGTERM. Programs started with LD_PRELOAD=libvzcptsim.so and\n" +
    "VZCPTSIM_SOCKET=PATH then reach it when they open /proc/cpt or /proc/rst.\n" +
    "A stale socket file at PATH is replaced; it is removed on exit. While it\n" +
    "runs, `vzcptsim control` changes the node's state.\n" +
    "\n" +
    "NODE is a node file (YAML or JSON) or FLEET_FILE:NODE_NAME.\n" +
    "\n" +
    "Options:\n" +
    "  --socket PATH    where to listen (required; at most 107 bytes)\n" +
    PROFILE_HELP,
  async run(args: readonly string[], cli: Cli): Promise<number> {
    const p = parseCommandArgs("serve", args, {
      options: ["socket"],
      repeatable: [PROFILE_OPTION],
      positional: ["NODE"],
    });
    const socket = optionValue(p, "socket");
    if (socket === undefined) throw new CliError("serve: --socket PATH is required");
    const problem = socketPathProblem(socket);
    if (problem !== null) throw new CliError(`serve: --socket: ${problem}`);
    const node = loadNode(
      p.positional[0] as string,
      loadProfiles(p.options.get(PROFILE_OPTION) ?? []),
    );
    const stopSignal = nextStopSignal();
    let server: Awaited<ReturnType<typeof serveNode>>;
    try {
      server = await serveNode(node, socket);
    } catch (e) {
      throw new CliError(
        `serve: cannot listen on ${socket}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    cli.out.stderr(`vzcptsim: serving node ${node.name} (${node.profile.id}) on ${socket}\n`);
    await stopSignal;
    await server.stop();
    return 0;
  },
};

const STATES = ["running", "stopped", "locked"];

export const control: CommandDef = {
  path: ["control"],
  summary: "change a served node's state (lock, stop or start a container)",
  help:
    "Usage: vzcptsim control --socket PATH ping\n" +
    "       vzcptsim control --socket PATH set-state CTID running|stopped|locked\n" +
    "       vzcptsim control --socket PATH kernel-log\n" +
    "\n" +
    "Talk to a running `vzcptsim serve` over its socket: check that it is up\n" +
    "(ping prints the node's name), change a container's state (the next\n" +
    "CPT_TEST_VECAPS sees it), or print the node's kernel log.\n" +
    "\n" +
    "Options:\n" +
    "  --socket PATH    the server's socket (required)\n",
  async run(args: readonly string[], cli: Cli): Promise<number> {
    const p = parseCommandArgs("control", args, {
      options: ["socket"],
      positional: ["OP", "CTID", "STATE"],
      min: 1,
    });
    const socket = optionValue(p, "socket");
    if (socket === undefined) throw new CliError("control: --socket PATH is required");
    const problem = socketPathProblem(socket);
    if (problem !== null) throw new CliError(`control: --socket: ${problem}`);
    const [op, ct, state] = p.positional;
    let request: ControlRequest;
    if (op === "ping" || op === "kernel-log") {
      if (p.positional.length > 1) throw new CliError(`control: ${op} takes no arguments`);
      request = { op };
    } else if (op === "set-state") {
      if (ct === undefined || state === undefined)
        throw new CliError("control: set-state needs CTID and STATE");
      if (!STATES.includes(state))
        throw new CliError(`control: STATE must be one of ${STATES.join(", ")}`);
      request = {
        op,
        ct: intArg("control", "CTID", ct, 1, 4294967295),
        state: state as "running" | "stopped" | "locked",
      };
    } else {
      throw new CliError(
        `control: unknown operation ${JSON.stringify(op)} (ping, set-state, kernel-log)`,
      );
    }
    let reply: Awaited<ReturnType<typeof controlRequest>>;
    try {
      reply = await controlRequest(socket, request);
    } catch (e) {
      throw new CliError(`control: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!reply.ok) throw new CliError(`control: ${reply.error}`);
    if (reply.node !== undefined) cli.out.stdout(`${reply.node}\n`);
    for (const line of reply.lines ?? []) cli.out.stdout(`${line}\n`);
    return 0;
  },
};
