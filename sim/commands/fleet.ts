// `vzcptsim fleet ...`: fleet experiments over a fleet file (matrix, islands,
// baseline, what-if, upgrade-plan, report) and synthetic fleets (generate).
// This file only parses arguments, loads, and prints; the work is in
// sim/fleet/.

import { writeFileSync } from "node:fs";
import { NEWEST_GENERATION } from "../../src/cpt/generations.ts";
import { CPU_CATALOG } from "../cpu/catalog.ts";
import { computeBaseline, optimiseMask } from "../fleet/baseline.ts";
import { matrixCsv } from "../fleet/csv.ts";
import { diffAnalyses } from "../fleet/diff.ts";
import {
  baselineDoc,
  DEFAULT_NODE_LIMIT,
  islandsDoc,
  matrixDoc,
  nodeDoc,
  upgradeDoc,
  whatIfDoc,
} from "../fleet/doc.ts";
import { type Analysis, analyse } from "../fleet/engine.ts";
import { buildFacts, type FleetFacts } from "../fleet/facts.ts";
import { documentYaml, generateDocument } from "../fleet/generate.ts";
import { reportHtml } from "../fleet/html.ts";
import { findIslands } from "../fleet/islands.ts";
import { type Progress, terminalProgress } from "../fleet/progress.ts";
import {
  baselineText,
  islandsText,
  matrixText,
  nodeText,
  upgradeText,
  whatIfText,
} from "../fleet/text.ts";
import { planUpgrades } from "../fleet/upgrade.ts";
import { applyChanges, CHANGE_SYNTAX, ChangeError, parseChanges } from "../fleet/whatif.ts";
import { knownProfileIds } from "../kernel/profiles.ts";
import { loadNodeRef, type SchemaContext } from "../schema.ts";
import type { FleetSpec } from "../types.ts";
import {
  type Cli,
  CliError,
  type CommandDef,
  intArg,
  optionValue,
  type ParsedArgs,
  parseCommandArgs,
} from "./common.ts";
import { type Loaded, loadFleet, loadProfiles, PROFILE_HELP, PROFILE_OPTION } from "./load.ts";

const JSON_HELP =
  "  --json           print the result as JSON (schema: vzcptsim(1), FLEET EXPERIMENTS)\n";

interface Loaded2 {
  readonly loaded: Loaded;
  readonly fleet: FleetSpec;
  readonly facts: FleetFacts;
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function facts(cmd: string, fleet: FleetSpec, loaded: Loaded): FleetFacts {
  try {
    return buildFacts(fleet, loaded.profiles);
  } catch (e) {
    throw new CliError(`fleet ${cmd}: ${errText(e)}`);
  }
}

function load(cmd: string, p: ParsedArgs): Loaded2 {
  const loaded = loadProfiles(p.options.get(PROFILE_OPTION) ?? []);
  const fleet = loadFleet(p.positional[0] as string, loaded);
  return { loaded, fleet, facts: facts(cmd, fleet, loaded) };
}

function progressFor(cli: Cli, cmd: string, nodes: number): Progress {
  // Small fleets finish before anyone could read a progress line.
  return nodes >= 2000 || cmd === "upgrade-plan" || cmd === "baseline"
    ? terminalProgress((s) => cli.out.stderr(s), `fleet ${cmd}`)
    : terminalProgress(() => {}, "", false);
}

function writeFile(cmd: string, file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    const code = (e as { code?: string }).code ?? errText(e);
    throw new CliError(`fleet ${cmd}: cannot write ${file}: ${code}`);
  }
}

/** Indented for people; one line for class-detail documents (tens of MB on big fleets). */
const json = (v: unknown): string =>
  (v as { detail?: string }).detail === "class"
    ? `${JSON.stringify(v)}\n`
    : `${JSON.stringify(v, null, 2)}\n`;

function detailOf(cmd: string, p: ParsedArgs): "node" | "class" | undefined {
  const d = optionValue(p, "detail");
  if (d === undefined) return undefined;
  if (d !== "node" && d !== "class")
    throw new CliError(`fleet ${cmd}: --detail must be node or class, got ${JSON.stringify(d)}`);
  return d;
}

function analyseWith(cli: Cli, cmd: string, f: FleetFacts): Analysis {
  const progress = progressFor(cli, cmd, f.nodes.length);
  const a = analyse(f, { progress: (x, what) => progress.update(x, what) });
  progress.done();
  return a;
}

const oneOf = (cmd: string, p: ParsedArgs, ...flags: string[]): void => {
  const given = flags.filter((f) => p.flags.has(f));
  if (given.length > 1)
    throw new CliError(`fleet ${cmd}: --${given[0]} and --${given[1]} do not go together`);
};

// ---- matrix ----

const matrix: CommandDef = {
  path: ["fleet", "matrix"],
  summary: "who can take whose containers: node x node verdicts and reasons",
  help:
    "Usage: vzcptsim fleet matrix FLEET [--json | --csv] [--html FILE] [--node NODE]\n" +
    "                             [--detail node|class] [--profile FILE]...\n" +
    "\n" +
    "For every ordered pair of nodes (A, B): can every running container of A be\n" +
    "live-migrated to B, as vzmigrate's check would conclude (image version on B,\n" +
    "then CPT_TEST_VECAPS on A's kernel against the caps B reports)? Verdicts:\n" +
    "all, some, none, version (B refuses A's image version), module (vzcpt or\n" +
    "vzrst missing), empty (nothing running on A). Every refusal comes with its\n" +
    "reasons (missing CPU features, version, IPv6, namespaces, unsupported\n" +
    "feature, SLM), and every container with the nodes that accept it. Stopped\n" +
    "containers get vzmigrate's suspended check and do not count in verdicts.\n" +
    "\n" +
    `Fleets of up to ${DEFAULT_NODE_LIMIT} nodes are shown node by node; larger ones by node class\n` +
    "(nodes whose kernel and reported caps are the same) with pair counts.\n" +
    "\n" +
    "Options:\n" +
    JSON_HELP +
    "  --csv            print the matrix as CSV\n" +
    "  --html FILE      also write a self-contained HTML heatmap to FILE\n" +
    "  --node NODE      everything about one node: its row, its column, its containers\n" +
    "  --detail node|class  force per-node or per-class detail\n" +
    PROFILE_HELP,
  run(args, cli) {
    const p = parseCommandArgs("fleet matrix", args, {
      flags: ["json", "csv"],
      options: ["html", "node", "detail"],
      repeatable: [PROFILE_OPTION],
      positional: ["FLEET"],
    });
    oneOf("matrix", p, "json", "csv");
    const detail = detailOf("matrix", p);
    const { facts: f } = load("matrix", p);
    const a = analyseWith(cli, "matrix", f);
    const nodeName = optionValue(p, "node");
    if (nodeName !== undefined) {
      const idx = f.nodes.findIndex((n) => n.name === nodeName);
      if (idx < 0)
        throw new CliError(`fleet matrix: no node named ${JSON.stringify(nodeName)} in ${f.name}`);
      if (p.flags.has("csv"))
        throw new CliError("fleet matrix: --csv is for the whole matrix, not --node");
      const doc = nodeDoc(a, idx);
      cli.out.stdout(p.flags.has("json") ? json(doc) : nodeText(doc));
      return 0;
    }
    const doc = matrixDoc(a, detail ? { detail } : {});
    const html = optionValue(p, "html");
    if (html !== undefined) {
      writeFile("matrix", html, reportHtml(doc, islandsDoc(a, findIslands(a, { maxEdges: 1000 }))));
    }
    cli.out.stdout(
      p.flags.has("json") ? json(doc) : p.flags.has("csv") ? matrixCsv(doc) : matrixText(doc),
    );
    return 0;
  },
};

// ---- islands ----

const islands: CommandDef = {
  path: ["fleet", "islands"],
  summary: "groups of nodes between which every container can move both ways",
  help:
    "Usage: vzcptsim fleet islands FLEET [--json] [--profile FILE]...\n" +
    "\n" +
    "Islands are groups of nodes in which every running container of every node\n" +
    "can go to every other node of the group, both ways. They come from the\n" +
    'strongly connected components of the graph A -> B = "every running\n' +
    'container of A can go to B" (reach groups); a reach group whose nodes only\n' +
    "reach each other through a third node is split into islands. Then the\n" +
    "one-way edges: island I -> J when some node of I can send everything to a\n" +
    "node of J and nothing comes back.\n" +
    "\n" +
    "Options:\n" +
    JSON_HELP +
    PROFILE_HELP,
  run(args, cli) {
    const p = parseCommandArgs("fleet islands", args, {
      flags: ["json"],
      repeatable: [PROFILE_OPTION],
      positional: ["FLEET"],
    });
    const { facts: f } = load("islands", p);
    const a = analyseWith(cli, "islands", f);
    const doc = islandsDoc(a, findIslands(a, { maxEdges: 10000 }));
    cli.out.stdout(p.flags.has("json") ? json(doc) : islandsText(doc));
    return 0;
  },
};

// ---- baseline ----

const baseline: CommandDef = {
  path: ["fleet", "baseline"],
  summary: "CPU features common to all nodes, the mask for them, and a mask optimiser",
  help:
    "Usage: vzcptsim fleet baseline FLEET [--min-reach K] [--json] [--profile FILE]...\n" +
    "\n" +
    "The CPU features (as CPT flags) every node has, the CPUID mask that brings\n" +
    "every node down to them (like libvirt's cpu-baseline or VMware EVC), what\n" +
    "each node loses under it, what a mask cannot equalise (kernels reading raw\n" +
    "CPUID ignore masks; sysenter/syscall32 follow the CPU vendor), and the fleet\n" +
    "before and after.\n" +
    "\n" +
    "With --min-reach K: the mask that keeps the most features while at least K%\n" +
    "of running containers can still reach another node (greedy search from the\n" +
    "baseline). Exit 2 when no mask reaches K%.\n" +
    "\n" +
    "Options:\n" +
    "  --min-reach K    target percentage of running containers (0-100, decimals allowed)\n" +
    JSON_HELP +
    PROFILE_HELP,
  run(args, cli) {
    const p = parseCommandArgs("fleet baseline", args, {
      flags: ["json"],
      options: ["min-reach"],
      repeatable: [PROFILE_OPTION],
      positional: ["FLEET"],
    });
    const kText = optionValue(p, "min-reach");
    let k: number | null = null;
    if (kText !== undefined) {
      k = Number(kText.replace(/%$/, ""));
      if (!/^\d+(\.\d+)?%?$/.test(kText) || k > 100) {
        throw new CliError(
          `fleet baseline: --min-reach must be a percentage from 0 to 100, got ${JSON.stringify(kText)}`,
        );
      }
    }
    const { loaded, fleet, facts: f } = load("baseline", p);
    const progress = progressFor(cli, "baseline", f.nodes.length);
    progress.update(0, "baseline");
    const b = computeBaseline(fleet, loaded.profiles);
    progress.update(0.3, "optimiser");
    const o = k === null ? null : optimiseMask(fleet, k, b, loaded.profiles);
    progress.done();
    const doc = baselineDoc(f, b, o);
    cli.out.stdout(p.flags.has("json") ? json(doc) : baselineText(doc));
    return o && !o.met ? 2 : 0;
  },
};

// ---- what-if ----

function changeContext(loaded: Loaded) {
  return {
    kernelIds: knownProfileIds(loaded.profiles),
    loadNode: (file: string) => loadNodeRef(file, loaded.ctx),
  };
}

const whatIf: CommandDef = {
  path: ["fleet", "what-if"],
  summary: "apply changes (upgrade, mask, add/remove a node, new CPU) and show the difference",
  help:
    "Usage: vzcptsim fleet what-if FLEET CHANGE... [--json] [--profile FILE]...\n" +
    "\n" +
    "Apply the changes in order and compare the fleet before and after: node\n" +
    "pairs whose verdict changed, islands, containers that lose their last\n" +
    "destination or find a first one. Changes:\n" +
    "  upgrade SEL GEN              run kernel generation (or --profile id) GEN on SEL\n" +
    "  mask SEL FEATURE[,FEATURE]   hide CPU features (cpuinfo names: avx,aes,...) on SEL\n" +
    "  add-node FILE                add a node from a node file, or FLEET_FILE:NODE\n" +
    "  remove-node SEL              take SEL out of the fleet\n" +
    "  replace-cpu SEL CPU          put catalog CPU (vzcptsim cpus) in SEL\n" +
    "SEL is a node name, all, a glob over node names (web-*), kernel=GEN or cpu=CPU.\n" +
    'Each change may also be one quoted argument ("upgrade n1 042stab109").\n' +
    "\n" +
    "Options:\n" +
    JSON_HELP +
    PROFILE_HELP,
  run(args, cli) {
    const p = parseCommandArgs("fleet what-if", args, {
      flags: ["json"],
      repeatable: [PROFILE_OPTION],
      positional: ["FLEET", "CHANGE...", ...Array<string>(500).fill("CHANGE")],
      min: 2,
    });
    const { loaded, fleet, facts: before } = load("what-if", p);
    let changes: ReturnType<typeof parseChanges>;
    let after: FleetSpec;
    try {
      changes = parseChanges(p.positional.slice(1));
      after = applyChanges(fleet, changes, changeContext(loaded));
    } catch (e) {
      if (e instanceof ChangeError) throw new CliError(`fleet what-if: ${e.message}`);
      throw e;
    }
    const afterFacts = facts("what-if", after, loaded);
    const a0 = analyseWith(cli, "what-if", before);
    const a1 = analyseWith(cli, "what-if", afterFacts);
    const d = diffAnalyses(
      a0,
      a1,
      findIslands(a0, { maxEdges: 0 }),
      findIslands(a1, { maxEdges: 0 }),
    );
    const doc = whatIfDoc(before, afterFacts, changes, d);
    cli.out.stdout(p.flags.has("json") ? json(doc) : whatIfText(doc));
    return 0;
  },
};

// ---- upgrade-plan ----

const upgradePlan: CommandDef = {
  path: ["fleet", "upgrade-plan"],
  summary: "an order of kernel upgrades that never strands a running container",
  help:
    "Usage: vzcptsim fleet upgrade-plan FLEET [--to GEN] [--budget N] [--json]\n" +
    "                                   [--profile FILE]...\n" +
    `\n` +
    `Find an order in which to upgrade the nodes to kernel GEN (default\n` +
    `${NEWEST_GENERATION.id}), one node at a time, such that after every step every running\n` +
    "container that could move before still has at least one destination (so\n" +
    "the next node can be evacuated). Nodes already on GEN or newer are left\n" +
    "alone. When no order exists, say where every remaining step would strand a\n" +
    "container, and why. Exit 0 with a plan, 2 without.\n" +
    "\n" +
    "Options:\n" +
    "  --to GEN         the target kernel generation (or a --profile id)\n" +
    "  --budget N       most fleet states to evaluate (default 5000)\n" +
    JSON_HELP +
    PROFILE_HELP,
  run(args, cli) {
    const p = parseCommandArgs("fleet upgrade-plan", args, {
      flags: ["json"],
      options: ["to", "budget"],
      repeatable: [PROFILE_OPTION],
      positional: ["FLEET"],
    });
    const { loaded, fleet, facts: f } = load("upgrade-plan", p);
    const target = optionValue(p, "to", NEWEST_GENERATION.id) as string;
    const ids = knownProfileIds(loaded.profiles);
    if (!ids.includes(target))
      throw new CliError(
        `fleet upgrade-plan: unknown kernel "${target}" (known: ${ids.join(", ")})`,
      );
    const budgetText = optionValue(p, "budget");
    const budget =
      budgetText === undefined
        ? 5000
        : intArg("fleet upgrade-plan", "--budget", budgetText, 1, 10_000_000);
    const progress = progressFor(cli, "upgrade-plan", f.nodes.length);
    const plan = planUpgrades(fleet, target, {
      profiles: loaded.profiles,
      budget,
      progress: (x, what) => progress.update(x, what),
    });
    progress.done();
    const doc = upgradeDoc(f, plan);
    cli.out.stdout(p.flags.has("json") ? json(doc) : upgradeText(doc));
    return plan.feasible ? 0 : 2;
  },
};

// ---- report ----

const report: CommandDef = {
  path: ["fleet", "report"],
  summary: "one self-contained HTML page: heatmap of the matrix, reasons, islands",
  help:
    "Usage: vzcptsim fleet report FLEET --html FILE [--detail node|class] [--profile FILE]...\n" +
    "\n" +
    "Write one HTML page (no external resources) with the matrix as a heatmap:\n" +
    "rows are source nodes, columns destination nodes, colours the verdicts;\n" +
    "hovering a cell shows the reasons, clicking pins them. Large fleets are\n" +
    "drawn by node class. The islands and one-way edges follow.\n" +
    "\n" +
    "Options:\n" +
    "  --html FILE      where to write the page (required)\n" +
    "  --detail node|class  force per-node or per-class cells\n" +
    PROFILE_HELP,
  run(args, cli) {
    const p = parseCommandArgs("fleet report", args, {
      options: ["html", "detail"],
      repeatable: [PROFILE_OPTION],
      positional: ["FLEET"],
    });
    const file = optionValue(p, "html");
    if (file === undefined) throw new CliError("fleet report: --html FILE is required");
    const detail = detailOf("report", p);
    const { facts: f } = load("report", p);
    const a = analyseWith(cli, "report", f);
    const doc = matrixDoc(a, detail ? { detail } : {});
    writeFile("report", file, reportHtml(doc, islandsDoc(a, findIslands(a, { maxEdges: 1000 }))));
    cli.out.stdout(`wrote ${file} (${doc.detail} detail, ${f.nodes.length} nodes)\n`);
    return 0;
  },
};

// ---- generate ----

export function schemaContext(): SchemaContext {
  return { kernelIds: knownProfileIds(), cpuIds: CPU_CATALOG.map((c) => c.id) };
}

const generate: CommandDef = {
  path: ["fleet", "generate"],
  summary: "a synthetic fleet file (YAML or JSON) on stdout",
  help:
    "Usage: vzcptsim fleet generate --nodes N --containers M [--seed S] [--json] [--name NAME]\n" +
    "\n" +
    "Print a synthetic fleet: N nodes with catalog CPUs and kernel generations in\n" +
    "plausible proportions, M containers each (mostly ordinary workloads, a few\n" +
    "with real-time tasks, vzctl enter sessions, tun devices, FUSE mounts...),\n" +
    "some stopped or locked, a few nodes with a CPUID mask or without IPv6.\n" +
    "The same seed gives the same fleet.\n" +
    "\n" +
    "Options:\n" +
    "  --nodes N        number of nodes (1-100000)\n" +
    "  --containers M   containers per node (0-1000)\n" +
    "  --seed S         random seed (default 1)\n" +
    "  --json           JSON instead of YAML\n" +
    "  --name NAME      the fleet's name\n",
  run(args, cli) {
    const p = parseCommandArgs("fleet generate", args, {
      flags: ["json"],
      options: ["nodes", "containers", "seed", "name"],
      positional: [],
    });
    const need = (name: string): string => {
      const v = optionValue(p, name);
      if (v === undefined) throw new CliError(`fleet generate: --${name} is required`);
      return v;
    };
    const nodes = intArg("fleet generate", "--nodes", need("nodes"), 1, 100_000);
    const containers = intArg("fleet generate", "--containers", need("containers"), 0, 1000);
    const seed = intArg(
      "fleet generate",
      "--seed",
      optionValue(p, "seed", "1") as string,
      0,
      0xffffffff,
    );
    const name = optionValue(p, "name");
    const doc = generateDocument({ nodes, containers, seed, ...(name ? { name } : {}) });
    cli.out.stdout(p.flags.has("json") ? `${JSON.stringify(doc)}\n` : documentYaml(doc));
    return 0;
  },
};

/** The `fleet ...` commands, for sim/cli.ts's command table. */
export const fleetCommands: readonly CommandDef[] = [
  matrix,
  islands,
  baseline,
  whatIf,
  upgradePlan,
  report,
  generate,
];

export { CHANGE_SYNTAX };
