// `vzcptsim demo` (the README's `make demo`): vzmigrate's check on the built-in
// demo fleet, once refused (a container whose programs used AVX, from Ivy
// Bridge to Westmere) and once accepted (the same container to Haswell).

import { BIT_BY_NAME } from "../../src/cpt/bits.ts";
import { cpuById } from "../cpu/catalog.ts";
import type { NodeModel } from "../node.ts";
import type { FleetSpec } from "../types.ts";
import { type Cli, CliError, type CommandDef, optionValue, parseCommandArgs } from "./common.ts";
import { fleetNode, type Loaded, loadProfiles } from "./load.ts";
import { checkMigration, fleetFromEmbedded, formatReport } from "./migrate-check.ts";

const CT = 101;
const SOURCE = "ivybridge-a";
const CASES = [
  { dst: "westmere-b", expectGo: false },
  { dst: "haswell-c", expectGo: true },
] as const;

const AVX = (BIT_BY_NAME.get("avx") as { bit: number }).bit;

function nodeLine(n: NodeModel): string {
  const cpu = typeof n.spec.cpu === "string" ? cpuById(n.spec.cpu) : undefined;
  const what = cpu ? `${cpu.name} (${cpu.microarchitecture})` : "custom CPU";
  const avx = ((n.flags >>> AVX) & 1) === 1 ? "has AVX" : "no AVX";
  const cts = n.containers.map((c) => `CT ${c.id}`).join(", ");
  return `  ${n.name.padEnd(12)} ${what}, ${avx}${cts ? `; runs ${cts}` : ""}`;
}

function header(fleet: FleetSpec, nodes: readonly NodeModel[]): string {
  const kernel = nodes[0]?.profile.title ?? "";
  return (
    "vzcptsim demo: would vzmigrate live-migrate this container?\n" +
    "\n" +
    `Fleet "${fleet.name}": simulated OpenVZ nodes on kernel ${kernel}\n` +
    `(no OpenVZ kernel needed):\n${nodes.map(nodeLine).join("\n")}\n` +
    "\n" +
    `CT ${CT}'s programs used the FPU, so the kernel records every SIMD feature of\n` +
    `its node's CPU in the container's capability word, AVX included. Before a live\n` +
    "migration, vzmigrate asks vzcptcheck on both nodes whether the destination\n" +
    "can run what the container has used. Below, vzcptcheck's own code answers\n" +
    "against each node's simulated /proc/cpt and /proc/rst.\n"
  );
}

export const demo: CommandDef = {
  path: ["demo"],
  summary: "the demo: one refused and one accepted live migration",
  help:
    "Usage: vzcptsim demo [--via-preload [--vzcptcheck PATH]]\n" +
    "\n" +
    "Run `migrate-check` on the built-in demo fleet: container 101, whose\n" +
    "programs used AVX, moving from an Ivy Bridge node to a Westmere node\n" +
    "(refused: Westmere has no AVX) and to a Haswell node (accepted). Needs no\n" +
    "OpenVZ kernel and no files. The fleet is printed by\n" +
    "`vzcptsim demo --show-fleet`.\n" +
    "\n" +
    "Exit status: 0 when both outcomes are the expected ones, 1 otherwise.\n" +
    "\n" +
    "Options:\n" +
    "  --show-fleet     print the demo fleet file and exit\n" +
    "  --via-preload    run the real vzcptcheck binary under libvzcptsim.so\n" +
    "  --vzcptcheck PATH  the binary for --via-preload (default: beside vzcptsim)\n",
  async run(args: readonly string[], cli: Cli): Promise<number> {
    const p = parseCommandArgs("demo", args, {
      flags: ["via-preload", "show-fleet"],
      options: ["vzcptcheck"],
      positional: [],
    });
    const text = cli.env.demoFleetText;
    if (p.flags.has("show-fleet")) {
      cli.out.stdout(text);
      return 0;
    }
    const loaded: Loaded = loadProfiles([]);
    const fleet = fleetFromEmbedded(text, "demo.yaml", loaded);
    const nodes = fleet.nodes.map((n) => fleetNode(fleet, n.name, "demo.yaml", loaded));
    let preload = null;
    if (p.flags.has("via-preload")) {
      const given = optionValue(p, "vzcptcheck") ?? cli.env.siblingVzcptcheck;
      if (given === null)
        throw new CliError(
          "demo: --via-preload needs --vzcptcheck PATH (no vzcptcheck beside vzcptsim)",
        );
      preload = { vzcptcheck: given, so: cli.env.preloadPath() };
    }
    cli.out.stdout(header(fleet, nodes));
    let asExpected = true;
    for (const [i, c] of CASES.entries()) {
      const report = await checkMigration(fleet, "demo.yaml", CT, SOURCE, c.dst, loaded, {
        preload,
      });
      const expected = c.expectGo ? "accepted" : "refused";
      cli.out.stdout(
        `\n=== ${i + 1}. CT ${CT}: ${SOURCE} -> ${c.dst} (expected: ${expected}) ===\n\n`,
      );
      cli.out.stdout(formatReport(report));
      if (report.verdict.go !== c.expectGo) asExpected = false;
    }
    cli.out.stdout(
      asExpected
        ? "\nBoth outcomes are the expected ones: the AVX container may go to Haswell, not to Westmere.\n"
        : "\nUNEXPECTED: an outcome differs from what the demo expects.\n",
    );
    return asExpected ? 0 : 1;
  },
};
