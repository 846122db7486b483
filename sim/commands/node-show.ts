// `vzcptsim node show FILE`: what a simulated node is and what its kernel
// would answer: generation, CPU, node flags decoded per generation, and each
// container's flags and messages as CPT_TEST_VECAPS would compute them.

import { describeFlags } from "../../src/cpt/nodeflags.ts";
import { cpuById } from "../cpu/catalog.ts";
import { featuresHiddenBy } from "../cpu/mask.ts";
import { containerFlags } from "../kernel/model.ts";
import type { KernelProfile } from "../kernel/profiles.ts";
import type { NodeModel } from "../node.ts";
import type { Container } from "../types.ts";
import { type Cli, type CommandDef, decHex, parseCommandArgs } from "./common.ts";
import { loadNode, loadProfiles, PROFILE_HELP, PROFILE_OPTION } from "./load.ts";

/** Flag names of a word, marking bits the generation does not define. */
export function flagNames(word: number, profile: KernelProfile): string[] {
  return describeFlags(word, profile).map((f) =>
    f.defined ? f.name : `${f.name}(unknown to this kernel)`,
  );
}

const STATE_ANSWER: Readonly<Record<string, string>> = {
  stopped: 'CPT_TEST_VECAPS answers ESRCH with "CT is not running"',
  locked: 'CPT_TEST_VECAPS answers EBUSY with "CT is locked"',
};

export interface ContainerView {
  readonly id: number;
  readonly name: string | null;
  readonly state: string;
  readonly tasks: number;
  readonly flags: number;
  readonly flagNames: string[];
  readonly messages: string[];
}

export interface NodeView {
  readonly name: string;
  readonly kernel: {
    readonly id: string;
    readonly title: string;
    readonly currentVersion: number | null;
    readonly cptTestCaps: string;
  };
  readonly cpu: {
    readonly id: string | null;
    readonly name: string | null;
    readonly vendor: string;
    readonly family: number;
    readonly model: number;
    readonly maskHides: string[];
  };
  readonly arch64: boolean;
  readonly ipv6: boolean;
  readonly slmWithoutDmprst: boolean;
  readonly modules: { readonly cpt: boolean; readonly rst: boolean };
  readonly flags: number;
  readonly flagNames: string[];
  readonly containers: ContainerView[];
}

function containerView(node: NodeModel, ct: Container): ContainerView {
  const { flags, messages } = containerFlags(node, ct);
  return {
    id: ct.id,
    name: ct.name ?? null,
    state: ct.state,
    tasks: ct.tasks.length,
    flags,
    flagNames: flagNames(flags, node.profile),
    messages,
  };
}

export function nodeView(node: NodeModel): NodeView {
  const p = node.profile;
  const catalog = typeof node.spec.cpu === "string" ? cpuById(node.spec.cpu) : undefined;
  return {
    name: node.name,
    kernel: {
      id: p.id,
      title: p.title,
      currentVersion: p.currentVersion,
      cptTestCaps: p.cptTestCaps,
    },
    cpu: {
      id: catalog?.id ?? null,
      name: catalog?.name ?? null,
      vendor: node.cpu.vendor,
      family: node.cpu.family,
      model: node.cpu.model,
      maskHides: node.spec.cpuidMask ? featuresHiddenBy(node.spec.cpuidMask) : [],
    },
    arch64: node.arch64,
    ipv6: node.spec.ipv6,
    slmWithoutDmprst: node.spec.slmWithoutDmprst,
    modules: node.modules,
    flags: node.flags,
    flagNames: flagNames(node.flags, p),
    containers: node.containers.map((ct) => containerView(node, ct)),
  };
}

const TEST_CAPS_WORDS: Readonly<Record<string, string>> = {
  check: "compares CPUs",
  ENOSYS: "answers ENOSYS (obsoleted)",
  EAGAIN: "answers EAGAIN",
};

/** The human-readable form. */
export function formatNodeView(v: NodeView): string {
  const lines: string[] = [`node ${v.name}`];
  const version =
    v.kernel.currentVersion === null
      ? "none (no CPT_TEST_VERSION)"
      : decHex(v.kernel.currentVersion);
  lines.push(`  kernel       ${v.kernel.id}: ${v.kernel.title}`);
  lines.push(`               image version ${version}`);
  lines.push(
    `               suspended-container caps test ${TEST_CAPS_WORDS[v.kernel.cptTestCaps] ?? v.kernel.cptTestCaps}`,
  );
  const cpuName = v.cpu.id ? `${v.cpu.id}: ${v.cpu.name}` : "raw CPUID words";
  lines.push(`  cpu          ${cpuName}`);
  lines.push(`               ${v.cpu.vendor} family ${v.cpu.family} model ${v.cpu.model}`);
  if (v.cpu.maskHides.length > 0) lines.push(`  cpuid mask   hides ${v.cpu.maskHides.join(" ")}`);
  const mods = `cpt ${v.modules.cpt ? "loaded" : "NOT loaded"}, rst ${v.modules.rst ? "loaded" : "NOT loaded"}`;
  const os = [
    v.arch64 ? "64-bit kernel" : "32-bit kernel",
    v.ipv6 ? "IPv6 loaded" : "IPv6 NOT loaded",
    ...(v.slmWithoutDmprst ? ["SLM without slm_dmprst"] : []),
  ];
  lines.push(`  system       ${os.join(", ")}`);
  lines.push(`  modules      ${mods}`);
  lines.push(`  node flags   ${decHex(v.flags)}   (what \`vzcptcheck caps\` prints here)`);
  lines.push(`               ${v.flagNames.join(" ") || "(none)"}`);
  lines.push(`containers (${v.containers.length})`);
  for (const c of v.containers) {
    const name = c.name ? ` ${c.name}` : "";
    lines.push(`  ${c.id}${name}: ${c.state}, ${c.tasks} task${c.tasks === 1 ? "" : "s"}`);
    lines.push(`      flags ${decHex(c.flags)}: ${c.flagNames.join(" ") || "(none)"}`);
    for (const m of c.messages) lines.push(`      message: Error: ${m}`);
    const answer = STATE_ANSWER[c.state];
    if (answer) lines.push(`      (${answer})`);
  }
  return `${lines.join("\n")}\n`;
}

export const nodeShow: CommandDef = {
  path: ["node", "show"],
  summary: "show a node: kernel, CPU, node flags and container flags, decoded",
  help:
    "Usage: vzcptsim node show NODE [--json] [--profile FILE]...\n" +
    "\n" +
    "Show a simulated node: its kernel generation, CPU, the node flags its\n" +
    "/proc/rst answers to `vzcptcheck caps` (decoded by name for that\n" +
    "generation), and for each container the flags and messages that\n" +
    "CPT_TEST_VECAPS computes.\n" +
    "\n" +
    "NODE is a node file (YAML or JSON) or FLEET_FILE:NODE_NAME.\n" +
    "\n" +
    "Options:\n" +
    "  --json           print one JSON object instead\n" +
    PROFILE_HELP,
  run(args: readonly string[], cli: Cli): number {
    const p = parseCommandArgs("node show", args, {
      flags: ["json"],
      repeatable: [PROFILE_OPTION],
      positional: ["NODE"],
    });
    const loaded = loadProfiles(p.options.get(PROFILE_OPTION) ?? []);
    const view = nodeView(loadNode(p.positional[0] as string, loaded));
    cli.out.stdout(
      p.flags.has("json") ? `${JSON.stringify(view, null, 2)}\n` : formatNodeView(view),
    );
    return 0;
  },
};
