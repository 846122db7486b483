// `vzcptsim cpus` and `vzcptsim kernels`: the ids node files may name.

import { CPU_CATALOG } from "../cpu/catalog.ts";
import { BUILTIN_PROFILES } from "../kernel/profiles.ts";
import { type Cli, type CommandDef, parseCommandArgs } from "./common.ts";
import { loadProfiles, PROFILE_HELP, PROFILE_OPTION } from "./load.ts";

export const cpus: CommandDef = {
  path: ["cpus"],
  summary: "list the CPU catalog (ids for a node's `cpu` field)",
  help:
    "Usage: vzcptsim cpus [--json]\n" +
    "\n" +
    "List the CPU models a node file may name as `cpu`: id, vendor, year,\n" +
    "name and microarchitecture. --json adds each model's features, CPUID\n" +
    "words and documentation source.\n",
  run(args: readonly string[], cli: Cli): number {
    const p = parseCommandArgs("cpus", args, { flags: ["json"], positional: [] });
    if (p.flags.has("json")) {
      cli.out.stdout(`${JSON.stringify(CPU_CATALOG, null, 2)}\n`);
      return 0;
    }
    const width = Math.max(...CPU_CATALOG.map((c) => c.id.length));
    const lines = CPU_CATALOG.map(
      (c) =>
        `${c.id.padEnd(width)}  ${c.vendor === "GenuineIntel" ? "Intel" : "AMD  "}  ${c.year}  ${c.name} (${c.microarchitecture})`,
    );
    cli.out.stdout(`${lines.join("\n")}\n`);
    return 0;
  },
};

export const kernels: CommandDef = {
  path: ["kernels"],
  summary: "list the kernel generations (ids for a node's `kernel` field)",
  help:
    "Usage: vzcptsim kernels [--json] [--profile FILE]...\n" +
    "\n" +
    "List the kernel generations (and custom profiles given with --profile) a\n" +
    "node file may name as `kernel`.\n" +
    "\n" +
    "Options:\n" +
    "  --json           print the profiles as JSON\n" +
    PROFILE_HELP,
  run(args: readonly string[], cli: Cli): number {
    const p = parseCommandArgs("kernels", args, {
      flags: ["json"],
      repeatable: [PROFILE_OPTION],
      positional: [],
    });
    const all = [
      ...BUILTIN_PROFILES,
      ...loadProfiles(p.options.get(PROFILE_OPTION) ?? []).profiles,
    ];
    if (p.flags.has("json")) {
      cli.out.stdout(`${JSON.stringify(all, null, 2)}\n`);
      return 0;
    }
    const width = Math.max(...all.map((k) => k.id.length));
    cli.out.stdout(`${all.map((k) => `${k.id.padEnd(width)}  ${k.title}`).join("\n")}\n`);
    return 0;
  },
};
