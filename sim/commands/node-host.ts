// `vzcptsim node host`: the machine vzcptsim runs on, as a node file. It asks
// the machine exactly what `vzcptcheck profile` asks (src/profile.ts through
// the native module: uname, CPUID, /proc/cpt and /proc/rst, the IPv6 paths)
// and reads that record as a node with sim/profile-record.ts, so the two
// commands describe the same machine and predict the same node flags. The node
// has no containers: nothing the machine answers says what they have used.

import YAML from "yaml";
import { type CpuidWordKey, WORD_KEYS } from "../../src/cpt/cpuid.ts";
import { hex32 } from "../../src/numbers.ts";
import { collectProfile, type ProfileHost, type ProfileRecord } from "../../src/profile.ts";
import { nodeFromProfileRecord } from "../profile-record.ts";
import { knownHint } from "../schema.ts";
import type { CpuidWords, NodeSpec } from "../types.ts";
import { type Cli, CliError, type CommandDef, optionValue, parseCommandArgs } from "./common.ts";
import { buildModel, type Loaded, loadProfiles } from "./load.ts";
import { flagNames } from "./node-show.ts";

export interface HostNodeOptions {
  /** A kernel generation id instead of the one uname names. */
  readonly kernel?: string;
  /** The node's name instead of the host name. */
  readonly name?: string;
}

/** Where the node's kernel generation came from. */
export type KernelSource = "uname" | "option" | "assumed";

export interface HostNode {
  readonly spec: NodeSpec;
  /** What the machine answered (the `vzcptcheck profile` record). */
  readonly record: ProfileRecord;
  readonly kernelFrom: KernelSource;
  /** The node flags the simulator computes for the node (`vzcptcheck caps` there). */
  readonly flags: number;
  readonly flagNames: readonly string[];
}

/** This machine (as `host` answers) as a node; CliError when it cannot be described. */
export function hostNode(host: ProfileHost, opts: HostNodeOptions, loaded: Loaded): HostNode {
  const ids = loaded.ctx.kernelIds;
  if (opts.kernel !== undefined && !ids.includes(opts.kernel)) {
    throw new CliError(
      `node host: --kernel: expected a kernel generation (known: ${knownHint(ids, opts.kernel)}), got ${JSON.stringify(opts.kernel)}`,
    );
  }
  if (opts.name === "") throw new CliError("node host: --name: expected a non-empty name");
  let record: ProfileRecord;
  try {
    record = collectProfile(host);
  } catch (e) {
    // uname failing means the native module itself could not be loaded.
    throw new CliError(`node host: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (record.cpu === null) {
    throw new CliError(`node host: cannot read this machine's CPUID: ${record.cpuError}`);
  }
  const fromRecord = nodeFromProfileRecord(record, "host", loaded.ctx) as NodeSpec;
  const spec: NodeSpec = {
    ...fromRecord,
    name: opts.name ?? fromRecord.name,
    kernel: opts.kernel ?? fromRecord.kernel,
  };
  const model = buildModel(spec, loaded);
  return {
    spec,
    record,
    kernelFrom: opts.kernel !== undefined ? "option" : record.openvz ? "uname" : "assumed",
    flags: model.flags,
    flagNames: flagNames(model.flags, model.profile),
  };
}

/** The node as a plain object in node-file field order; CPUID words as "0x..." strings. */
export function nodeFileValue(spec: NodeSpec): Record<string, unknown> {
  const cpu = spec.cpu as CpuidWords;
  const words = Object.fromEntries(WORD_KEYS.map((k: CpuidWordKey) => [k, hex32(cpu[k])]));
  return {
    name: spec.name,
    kernel: spec.kernel,
    cpu: { vendor: cpu.vendor, family: cpu.family, model: cpu.model, ...words },
    arch64: spec.arch64,
    ipv6: spec.ipv6,
    slmWithoutDmprst: spec.slmWithoutDmprst,
    containers: [],
  };
}

/** Comments may carry host names and brand strings: no line breaks or control bytes. */
const printable = (s: string): string =>
  [...s].map((ch) => (ch.charCodeAt(0) < 0x20 || ch === "\x7f" ? "?" : ch)).join("");

/** A string as a YAML scalar: plain when it reads back as the same string, else quoted. */
const scalar = (s: string): string =>
  /^[A-Za-z0-9][\w.-]*$/.test(s) && YAML.parse(s) === s ? s : JSON.stringify(s);

/** Words as "# " comment lines of at most 78 columns; continuation lines indented. */
function wrapComment(words: readonly string[], first = ""): string[] {
  const lines: string[] = [];
  let cur = first;
  for (const w of words) {
    if (cur.trim() !== "" && 2 + cur.length + 1 + w.length > 78) {
      lines.push(`# ${cur}`);
      cur = `  ${w}`;
    } else cur = cur.trim() === "" ? `${cur}${w}` : `${cur} ${w}`;
  }
  if (cur.trim() !== "") lines.push(`# ${cur}`);
  return lines;
}

/** One sentence on where the kernel generation came from. */
export function kernelNote(h: HostNode): string {
  const r = h.record;
  const uname = `uname says ${r.kernel.release} (${r.kernel.machine})`;
  if (h.kernelFrom === "option") {
    const recognised = r.openvz ? `OpenVZ ${r.openvz.generation}` : "not OpenVZ";
    return `${h.spec.kernel}, given with --kernel (${uname}: ${recognised})`;
  }
  if (h.kernelFrom === "uname") return `${uname}: OpenVZ ${h.spec.kernel}, ${r.openvz?.title}`;
  return (
    `${uname}, not OpenVZ: ${h.spec.kernel}, the newest generation, is assumed; ` +
    "choose another with --kernel GEN"
  );
}

/** When the kernel reports other flags than CPUID predicts (a CPUID mask, most
 *  likely), say so: the file has the raw words and no mask. */
function maskNote(h: HostNode): string[] {
  const f = h.record.flags;
  if (f.match !== false || h.kernelFrom === "option") return [];
  const names = (xs: readonly { name: string }[] | null): string =>
    xs && xs.length > 0 ? xs.map((x) => x.name).join(" ") : "none";
  return [
    `note: /proc/rst reports ${f.reported?.value} = ${f.reported?.hex}, not the flags below ` +
      `(only predicted: ${names(f.onlyPredicted)}; only reported: ${names(f.onlyReported)}); ` +
      "a CPUID mask is not in this file, add one as cpuidMask if that is the cause.",
  ];
}

/** The node file as YAML, with comments saying where each value came from. */
export function hostNodeYaml(h: HostNode): string {
  const r = h.record;
  const cpu = r.cpu as NonNullable<ProfileRecord["cpu"]>;
  const brand = cpu.brand ? ` (${cpu.brand})` : "";
  const slm =
    r.slmWithoutDmprst === null
      ? "assumed off (only the flags /proc/rst reports show it, and it reported none)"
      : `${r.slmWithoutDmprst ? "on" : "off"}, read from the flags /proc/rst reports`;
  const sentences = [
    `vzcptsim node file: this machine (${r.hostname}), written by \`vzcptsim node host\`.`,
    `kernel: ${kernelNote(h)}.`,
    `cpu: the CPUID words of ${cpu.vendor} family ${cpu.family} model ${cpu.model} stepping ${cpu.stepping}${brand}.`,
    `ipv6: ${r.ipv6.loaded ? `loaded (${r.ipv6.evidence} exists)` : "not loaded (no /proc/net/if_inet6 or /proc/sys/net/ipv6)"}.`,
    `slmWithoutDmprst: ${slm}.`,
    ...maskNote(h),
    `node flags (\`vzcptcheck caps\` here): ${h.flags >>> 0} = ${hex32(h.flags)}:`,
  ];
  const comments = [
    ...sentences.flatMap((t) => wrapComment(printable(t).split(" "))),
    ...wrapComment(h.flagNames.length > 0 ? h.flagNames : ["(none)"], "  "),
  ];
  const c = nodeFileValue(h.spec).cpu as Record<string, string | number>;
  const body = [
    `name: ${scalar(h.spec.name)}`,
    `kernel: ${scalar(h.spec.kernel)}`,
    "cpu:",
    `  vendor: ${scalar(String(c.vendor))}`,
    `  family: ${c.family}`,
    `  model: ${c.model}`,
    ...WORD_KEYS.map((k) => `  ${k}: "${c[k]}"`),
    `arch64: ${h.spec.arch64}`,
    `ipv6: ${h.spec.ipv6}`,
    `slmWithoutDmprst: ${h.spec.slmWithoutDmprst}`,
    "containers: []",
  ];
  return `${comments.join("\n")}\n${body.join("\n")}\n`;
}

/**
 * This machine through the native module, imported only when asked for: under
 * plain `bun sim/cli.ts` (no compiled executable) importing the addon fails,
 * and that must not take the other commands down with it.
 */
async function thisMachine(): Promise<ProfileHost> {
  try {
    return (await import("../../src/extra.ts")).nativeHost;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new CliError(`node host: cannot load the native module (${why}); use dist/vzcptsim`);
  }
}

export const nodeHost: CommandDef = {
  path: ["node", "host"],
  summary: "describe this machine (CPUID, kernel, IPv6) as a node file",
  help:
    "Usage: vzcptsim node host [--kernel GEN] [--name NAME] [--json]\n" +
    "\n" +
    "Print a node file (YAML; JSON with --json) describing the machine vzcptsim\n" +
    "runs on, found out as `vzcptcheck profile` does: the CPU as the raw CPUID\n" +
    "words the native module reads, the kernel generation recognised from\n" +
    "`uname -r`, IPv6 loaded when /proc/net/if_inet6 or /proc/sys/net/ipv6\n" +
    "exists, SLM without slm_dmprst from the flags /proc/rst reports (off when\n" +
    "it does not answer), no containers. Save it and use it as any node file:\n" +
    "\n" +
    "  vzcptsim node host > me.yaml && vzcptsim node show me.yaml\n" +
    "\n" +
    "On a kernel that is not OpenVZ the newest generation is assumed; the YAML\n" +
    "says so in a comment (with --json, one note line goes to stderr).\n" +
    "\n" +
    "Options:\n" +
    "  --kernel GEN     the node's kernel generation (see vzcptsim kernels)\n" +
    "                   instead of the one uname names\n" +
    "  --name NAME      the node's name (default: this machine's host name)\n" +
    "  --json           print the node as JSON instead of YAML\n" +
    "\n" +
    "Exit status: 0 the node was printed; 1 bad arguments, or CPUID or the\n" +
    "native module not available here.\n",
  async run(args: readonly string[], cli: Cli): Promise<number> {
    const p = parseCommandArgs("node host", args, {
      flags: ["json"],
      options: ["kernel", "name"],
      positional: [],
    });
    const opts: HostNodeOptions = {
      ...(p.options.has("kernel") ? { kernel: optionValue(p, "kernel") } : {}),
      ...(p.options.has("name") ? { name: optionValue(p, "name") } : {}),
    };
    const h = hostNode(cli.env.host?.() ?? (await thisMachine()), opts, loadProfiles([]));
    if (!p.flags.has("json")) {
      cli.out.stdout(hostNodeYaml(h));
      return 0;
    }
    cli.out.stdout(`${JSON.stringify(nodeFileValue(h.spec), null, 2)}\n`);
    if (h.kernelFrom === "assumed") cli.out.stderr(`vzcptsim: node host: ${kernelNote(h)}\n`);
    return 0;
  },
};
