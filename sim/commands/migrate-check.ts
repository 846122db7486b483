// `vzcptsim migrate-check FLEET CTID SRC DST`: vzmigrate's pre-migration check
// (vzctl's check_cpt_props, cli-contract.md "How vzmigrate uses it") played on
// two simulated nodes, step by step, ending in the go / no-go vzmigrate would
// decide:
//   version=$(vzcptcheck version)                 source; skip check if rc!=0 or empty
//   vzcptcheck version $version                   destination; rc!=0 aborts
//   CPU_CAPS=$(vzcptcheck caps)                   destination; skip check if rc!=0 or empty
//   vzcptcheck caps $id $CPU_CAPS                 source; rc!=0 aborts ($id empty: suspended CT)
// Substitutions follow the shell: trailing newlines stripped, unquoted
// expansions split on white space (an empty $id disappears).

import { basename, dirname, join } from "node:path";
import { runInProcess } from "../device.ts";
import { MSG_IPV6, MSG_NAMESPACES, MSG_SLM } from "../kernel/checks.ts";
import type { NodeModel } from "../node.ts";
import { fleetFromText } from "../schema.ts";
import type { FleetSpec } from "../types.ts";
import {
  type Cli,
  CliError,
  type CommandDef,
  intArg,
  optionValue,
  parseCommandArgs,
  textOf,
} from "./common.ts";
import {
  fleetNode,
  type Loaded,
  loadFleet,
  loadProfiles,
  PROFILE_HELP,
  PROFILE_OPTION,
} from "./load.ts";
import { flagNames } from "./node-show.ts";
import { preloadEnv, spawnCaptured, withServedNodes } from "./run.ts";

export type Role = "source" | "destination";

export interface StepResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exit: number;
}

/** Runs `vzcptcheck ARGS...` on the source or the destination node. */
export type Runner = (
  role: Role,
  args: readonly string[],
) => Promise<StepResult & { kernelLog?: string[] }>;

export interface Step extends StepResult {
  readonly role: Role;
  readonly args: readonly string[];
  /** Kernel log lines the node wrote during this step (what dmesg would show). */
  readonly kernelLog?: readonly string[];
}

export interface Skip {
  readonly role: Role;
  /** The command vzmigrate would have run. */
  readonly args: readonly string[];
  readonly why: string;
}

export interface Verdict {
  readonly go: boolean;
  /** Why, one sentence each (for GO: what was checked or skipped). */
  readonly reasons: readonly string[];
  /** Steps in order; a skipped one says why. */
  readonly steps: readonly (Step | Skip)[];
}

/** $(...): the output without its trailing newlines. */
const substitute = (stdout: string): string => stdout.replace(/\n+$/, "");
/** An unquoted expansion: split on white space, empty words dropped. */
const words = (s: string): string[] => s.split(/[ \t\n]+/).filter((w) => w !== "");

const errorLines = (stderr: string): string[] =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("Error: "))
    .map((l) => l.slice("Error: ".length));

const lastLine = (stderr: string): string => stderr.trimEnd().split("\n").pop() ?? "";

const CPU_MISSING = /^Destination cpu does not have (\S+)$/;

/** Why the source's caps test said no, in words (from what the kernel printed or logged). */
export function capsRefusal(step: Step, dstName: string, suspended: boolean): string[] {
  const stderr = step.stderr;
  const lines = errorLines(stderr);
  const cpu = lines
    .map((l) => CPU_MISSING.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
  const reasons: string[] = [];
  if (cpu.length > 0) {
    reasons.push(
      `the container's programs have used CPU features that ${dstName}'s CPU lacks: ${cpu.join(", ")}`,
    );
  }
  for (const l of lines) {
    if (CPU_MISSING.test(l)) continue;
    if (l === MSG_IPV6)
      reasons.push(`IPv6 is not loaded on ${dstName}, and the container may use it`);
    else if (l === MSG_SLM)
      reasons.push(`SLM is enabled on ${dstName} without the slm_dmprst module`);
    else if (l === MSG_NAMESPACES) {
      reasons.push(`the container uses mount namespaces, which ${dstName}'s kernel cannot restore`);
    } else
      reasons.push(`the source kernel cannot checkpoint the container: ${l.replace(/\.+$/, "")}`);
  }
  if (reasons.length > 0) return reasons;
  if (suspended) {
    return [
      `the source node's CPU has features that ${dstName}'s CPU lacks (a suspended container may have used any of them)`,
    ];
  }
  const logged = (step.kernelLog ?? []).map((l) => l.replace(/^CPT \w+: /, ""));
  if (logged.length > 0) {
    return [
      `the source kernel refused without printing why; its kernel log says: ${logged.join("; ")}`,
    ];
  }
  return ["the source kernel refused without printing why"];
}

/** Play vzmigrate's sequence; `ctid` null for a suspended container. */
export async function migrationVerdict(
  run: Runner,
  ctid: number | null,
  names: { readonly source: string; readonly destination: string },
): Promise<Verdict> {
  const steps: (Step | Skip)[] = [];
  const step = async (role: Role, args: readonly string[]): Promise<Step> => {
    const s = { role, args, ...(await run(role, args)) };
    steps.push(s);
    return s;
  };
  const notes: string[] = [];
  const dst = names.destination;
  const ct = ctid === null ? "the suspended container" : `CT ${ctid}`;

  const v = await step("source", ["version"]);
  const version = substitute(v.stdout);
  if (v.exit !== 0 || version === "") {
    const why =
      v.exit !== 0 ? `failed on the source (exit ${v.exit})` : "printed nothing on the source";
    steps.push({
      role: "destination",
      args: ["version", "$version"],
      why: `\`vzcptcheck version\` ${why}`,
    });
    notes.push(
      `the image version check was skipped: ${names.source}'s kernel reports no image version`,
    );
  } else {
    const t = await step("destination", ["version", ...words(version)]);
    if (t.exit !== 0) {
      const reason =
        t.exit === 2
          ? `${dst}'s kernel cannot restore checkpoint images of version ${version}, which ${names.source} writes`
          : `\`vzcptcheck version ${version}\` failed on ${dst}: ${lastLine(t.stderr)}`;
      return { go: false, reasons: [reason], steps };
    }
    notes.push(`${dst} can restore images of version ${version}`);
  }

  const c = await step("destination", ["caps"]);
  const caps = substitute(c.stdout);
  if (c.exit !== 0 || caps === "") {
    const args = ctid === null ? ["caps", "$CPU_CAPS"] : ["caps", String(ctid), "$CPU_CAPS"];
    const why =
      c.exit !== 0
        ? `failed on the destination (exit ${c.exit})`
        : "printed nothing on the destination";
    steps.push({ role: "source", args, why: `\`vzcptcheck caps\` ${why}` });
    notes.push(`the CPU check was skipped: ${dst} reports no CPU capabilities`);
  } else {
    const idWords = ctid === null ? [] : [String(ctid)];
    const s = await step("source", ["caps", ...idWords, ...words(caps)]);
    if (s.exit === 2) return { go: false, reasons: capsRefusal(s, dst, ctid === null), steps };
    if (s.exit !== 0) {
      const kernelSays = errorLines(s.stderr);
      const detail = kernelSays.length > 0 ? kernelSays.join("; ") : lastLine(s.stderr);
      return {
        go: false,
        reasons: [`the CPU check of ${ct} failed on the source: ${detail}`],
        steps,
      };
    }
    if (s.stderr.includes("old kernel")) {
      notes.push(
        `${names.source}'s kernel cannot compare CPUs for a suspended container, so vzmigrate goes ahead unchecked`,
      );
    } else notes.push(`${dst}'s CPU and kernel can run everything ${ct} needs`);
  }
  return { go: true, reasons: notes, steps };
}

const isSkip = (s: Step | Skip): s is Skip => "why" in s;

export interface Report {
  readonly fleet: string;
  readonly ct: number;
  readonly suspended: boolean;
  readonly source: NodeModel;
  readonly destination: NodeModel;
  readonly mode: "in-process" | "preload";
  readonly verdict: Verdict;
}

/** The human-readable report: every step, then the verdict. */
export function formatReport(r: Report): string {
  const node = (role: Role): NodeModel => (role === "source" ? r.source : r.destination);
  const suspended = r.suspended ? " (suspended)" : "";
  const out: string[] = [
    `vzmigrate pre-check for CT ${r.ct}${suspended}: ${r.source.name} -> ${r.destination.name}` +
      `   [fleet ${r.fleet}, ${r.mode}]`,
    `  source:      ${r.source.name}, kernel ${r.source.profile.id}, cpu ${cpuLabel(r.source)}`,
    `  destination: ${r.destination.name}, kernel ${r.destination.profile.id}, cpu ${cpuLabel(r.destination)}`,
    "",
  ];
  r.verdict.steps.forEach((s, i) => {
    const n = node(s.role);
    out.push(`${i + 1}. on the ${s.role} (${n.name}): vzcptcheck ${s.args.join(" ")}`);
    if (isSkip(s)) {
      out.push(`     skipped: ${s.why}`);
      return;
    }
    for (const l of s.stdout.split("\n").slice(0, -1)) out.push(`     stdout | ${l}`);
    for (const l of s.stderr.split("\n").filter((x, j, all) => x !== "" || j < all.length - 1)) {
      out.push(`     stderr | ${l}`);
    }
    out.push(`     exit ${s.exit}`);
    for (const l of s.kernelLog ?? []) out.push(`     (${n.name}'s kernel log: ${l})`);
    if (s.args.length === 1 && s.args[0] === "caps" && s.exit === 0) {
      const word = Number(substitute(s.stdout));
      if (Number.isInteger(word))
        out.push(`     (${n.name}'s CPU flags: ${flagNames(word, n.profile).join(" ")})`);
    }
  });
  out.push("");
  const what = `CT ${r.ct} from ${r.source.name} to ${r.destination.name}`;
  out.push(
    r.verdict.go
      ? `GO: vzmigrate would go ahead with ${what}:`
      : `NO-GO: vzmigrate would refuse to move ${what}:`,
  );
  for (const reason of r.verdict.reasons) out.push(`  - ${reason}.`);
  return `${out.join("\n")}\n`;
}

function cpuLabel(n: NodeModel): string {
  return typeof n.spec.cpu === "string"
    ? n.spec.cpu
    : `${n.cpu.vendor} family ${n.cpu.family} model ${n.cpu.model}`;
}

export function reportJson(r: Report): unknown {
  return {
    fleet: r.fleet,
    ct: r.ct,
    suspended: r.suspended,
    source: r.source.name,
    destination: r.destination.name,
    mode: r.mode,
    steps: r.verdict.steps.map((s) => ({
      role: s.role,
      node: s.role === "source" ? r.source.name : r.destination.name,
      argv: ["vzcptcheck", ...s.args],
      ...(isSkip(s)
        ? { skipped: s.why }
        : { stdout: s.stdout, stderr: s.stderr, exit: s.exit, kernelLog: s.kernelLog ?? [] }),
    })),
    verdict: r.verdict.go ? "GO" : "NO-GO",
    reasons: r.verdict.reasons,
  };
}

export interface CheckOptions {
  /** null: in-process; else run this vzcptcheck binary under libvzcptsim.so at this path. */
  readonly preload: { readonly vzcptcheck: string; readonly so: string } | null;
  /** Force the suspended-container path (`caps CAPS`, no CTID). */
  readonly suspended?: boolean;
}

const decoder = new TextDecoder();

/**
 * Run a step and add the kernel-log lines the node wrote meanwhile that never
 * reached vzcptcheck (warnings: "CPT ERR" lines are on its stderr already).
 */
async function withKernelLog(
  node: NodeModel,
  step: () => Promise<StepResult>,
): Promise<StepResult & { kernelLog: string[] }> {
  const before = node.kernelLog.length;
  const r = await step();
  const kernelLog = node.kernelLog.slice(before).filter((l) => !l.startsWith("CPT ERR: "));
  return { ...r, kernelLog };
}

/** Check moving CT `ctid` of `fleet` from node `src` to node `dst`. */
export async function checkMigration(
  fleet: FleetSpec,
  fleetFile: string,
  ctid: number,
  src: string,
  dst: string,
  loaded: Loaded,
  opts: CheckOptions,
): Promise<Report> {
  const source = fleetNode(fleet, src, fleetFile, loaded);
  const destination = fleetNode(fleet, dst, fleetFile, loaded);
  const ct = source.container(ctid);
  if (!ct) {
    const ids = source.containers.map((c) => c.id).join(", ") || "none";
    throw new CliError(`migrate-check: node ${src} has no container ${ctid} (containers: ${ids})`);
  }
  // vzmigrate passes an empty $id for a suspended CT; a stopped one is treated so.
  const suspended = opts.suspended === true || ct.state === "stopped";
  const id = suspended ? null : ctid;
  const names = { source: src, destination: dst };
  let verdict: Verdict;
  const preload = opts.preload;
  const model = (role: Role): NodeModel => (role === "source" ? source : destination);
  if (preload === null) {
    const run: Runner = (role, args) =>
      withKernelLog(model(role), async () => {
        const r = runInProcess(model(role), args);
        return { stdout: r.stdout, stderr: decoder.decode(r.stderr), exit: r.exit };
      });
    verdict = await migrationVerdict(run, id, names);
  } else {
    // The servers run these same models, so their kernel logs fill up here too.
    verdict = await withServedNodes([source, destination], async ([srcSock, dstSock]) => {
      const run: Runner = (role, args) =>
        withKernelLog(model(role), async () => {
          const socket = (role === "source" ? srcSock : dstSock) as string;
          const r = await spawnCaptured(
            [preload.vzcptcheck, ...args],
            preloadEnv(preload.so, socket),
          );
          return { stdout: textOf(r.stdout), stderr: textOf(r.stderr), exit: r.exit };
        });
      return migrationVerdict(run, id, names);
    });
  }
  return {
    fleet: fleet.name,
    ct: ctid,
    suspended,
    source,
    destination,
    mode: preload === null ? "in-process" : "preload",
    verdict,
  };
}

/** Where --via-preload finds vzcptcheck: --vzcptcheck PATH, else beside vzcptsim. */
function vzcptcheckPath(given: string | undefined, cli: Cli): string {
  if (given !== undefined) return given;
  if (cli.env.siblingVzcptcheck !== null) return cli.env.siblingVzcptcheck;
  throw new CliError(
    "migrate-check: --via-preload needs --vzcptcheck PATH (no vzcptcheck beside vzcptsim)",
  );
}

/** The vzcptcheck that a compiled vzcptsim has beside it (dist/), if any. */
export function siblingOf(execPath: string): string {
  return join(dirname(execPath), "vzcptcheck");
}

export const migrateCheck: CommandDef = {
  path: ["migrate-check"],
  summary: "play vzmigrate's pre-migration check between two nodes of a fleet",
  help:
    "Usage: vzcptsim migrate-check FLEET CTID SRC DST [--json] [--suspended]\n" +
    "                              [--via-preload [--vzcptcheck PATH]] [--profile FILE]...\n" +
    "\n" +
    "Play the checks vzmigrate runs before moving container CTID from node SRC\n" +
    "to node DST of the fleet file FLEET, in its order:\n" +
    "  1. version=$(vzcptcheck version)            on SRC (check skipped if it fails)\n" +
    "  2. vzcptcheck version $version              on DST (failure aborts)\n" +
    "  3. CPU_CAPS=$(vzcptcheck caps)              on DST (check skipped if it fails)\n" +
    "  4. vzcptcheck caps CTID $CPU_CAPS           on SRC (failure aborts)\n" +
    "Step 4 leaves CTID out for a suspended container (and for one that is\n" +
    "stopped in the fleet file). Every step is printed with its output and\n" +
    "exit code, then GO or NO-GO with the reason.\n" +
    "\n" +
    "Exit status: 0 GO, 2 NO-GO, 1 error (bad file, unknown node...).\n" +
    "\n" +
    "Options:\n" +
    "  --json           print one JSON object instead\n" +
    "  --suspended      check CTID as a suspended container (`caps CAPS`)\n" +
    "  --via-preload    run the real vzcptcheck binary under libvzcptsim.so, one\n" +
    "                   node server per node, instead of in-process\n" +
    "  --vzcptcheck PATH  the binary for --via-preload (default: the vzcptcheck\n" +
    "                   beside vzcptsim)\n" +
    PROFILE_HELP,
  async run(args: readonly string[], cli: Cli): Promise<number> {
    const p = parseCommandArgs("migrate-check", args, {
      flags: ["json", "suspended", "via-preload"],
      options: ["vzcptcheck"],
      repeatable: [PROFILE_OPTION],
      positional: ["FLEET", "CTID", "SRC", "DST"],
    });
    const [file, ctText, src, dst] = p.positional as [string, string, string, string];
    const ctid = intArg("migrate-check", "CTID", ctText, 1, 4294967295);
    if (p.options.has("vzcptcheck") && !p.flags.has("via-preload")) {
      throw new CliError("migrate-check: --vzcptcheck only goes with --via-preload");
    }
    const loaded = loadProfiles(p.options.get(PROFILE_OPTION) ?? []);
    const fleet = loadFleet(file, loaded);
    const preload = p.flags.has("via-preload")
      ? { vzcptcheck: vzcptcheckPath(optionValue(p, "vzcptcheck"), cli), so: cli.env.preloadPath() }
      : null;
    const report = await checkMigration(fleet, file, ctid, src, dst, loaded, {
      preload,
      suspended: p.flags.has("suspended"),
    });
    cli.out.stdout(
      p.flags.has("json")
        ? `${JSON.stringify(reportJson(report), null, 2)}\n`
        : formatReport(report),
    );
    return report.verdict.go ? 0 : 2;
  },
};

/** Load a fleet given as text (the demo's embedded file). */
export function fleetFromEmbedded(text: string, name: string, loaded: Loaded): FleetSpec {
  return fleetFromText(text, basename(name), loaded.ctx);
}
