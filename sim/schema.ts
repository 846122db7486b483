// Node and fleet files (YAML or JSON; schema in man/vzcptsim.1) -> NodeSpec /
// FleetSpec with every default filled in. A bad file stops everything with one
// line naming the file, the field path and what was expected; unknown fields
// are errors too, so a typo cannot silently become a default.

import { existsSync, readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import YAML from "yaml";
import { type CpuidWordKey, hasFeature, WORD_KEYS } from "../src/cpt/cpuid.ts";
import { cpuById } from "./cpu/catalog.ts";
import { isProfileRecord, nodeFromProfileRecord } from "./profile-record.ts";
import type {
  Container,
  CpuidMask,
  CpuidWords,
  FleetSpec,
  Mount,
  NetDevice,
  NodeSpec,
  SchedPolicy,
  Task,
} from "./types.ts";

/** A file that does not follow the schema: the message is the whole story. */
export class SchemaError extends Error {
  override readonly name = "SchemaError";
}

/** What ids a file may name (kernel generations/profiles, catalog CPUs). */
export interface SchemaContext {
  readonly kernelIds: readonly string[];
  readonly cpuIds: readonly string[];
}

type Obj = Record<string, unknown>;
const isMapping = (v: unknown): v is Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const NOTHING = Symbol("no value to show");

/** One value being read, with its place in the file for error messages. */
class At {
  constructor(
    readonly file: string,
    readonly path: string,
  ) {}

  field(name: string): At {
    return new At(this.file, this.path === "" ? name : `${this.path}.${name}`);
  }

  index(i: number): At {
    return new At(this.file, `${this.path}[${i}]`);
  }

  /** A value that is well-formed but contradicts another: `text` says what to do. */
  conflict(text: string): never {
    const where = this.path === "" ? "" : ` ${this.path}:`;
    throw new SchemaError(`${this.file}:${where} ${text}`);
  }

  fail(expected: string, got: unknown = NOTHING): never {
    const where = this.path === "" ? "" : ` ${this.path}:`;
    const tail = got === NOTHING ? "" : `, got ${describe(got)}`;
    throw new SchemaError(`${this.file}:${where} expected ${expected}${tail}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return String(v);
}

function object(
  v: unknown,
  at: At,
  known: readonly string[],
  required: readonly string[] = [],
): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) at.fail("a mapping", v);
  const o = v as Obj;
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) at.field(k).fail(`no such field (known: ${known.join(", ")})`);
  }
  for (const k of required) if (o[k] === undefined) at.field(k).fail("a value (required)");
  return o;
}

function str(v: unknown, at: At): string {
  if (typeof v !== "string" || v === "") at.fail("a non-empty string", v);
  return v as string;
}

function bool(v: unknown, at: At, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") at.fail("true or false", v);
  return v as boolean;
}

function int(v: unknown, at: At, min: number, max: number, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    at.fail(`an integer from ${min} to ${max}`, v);
  }
  return v as number;
}

/** A 32-bit CPUID word: a number, or a hex string "0x..." (JSON has no hex). */
function word(v: unknown, at: At, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v === "string" && /^0x[0-9a-f]{1,8}$/i.test(v)) return Number.parseInt(v.slice(2), 16);
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  return at.fail('a 32-bit word (0 to 4294967295, or hex like "0x1fbfbff")', v);
}

function oneOf<T extends string | number>(v: unknown, at: At, allowed: readonly T[], dflt?: T): T {
  if (v === undefined && dflt !== undefined) return dflt;
  if (!allowed.includes(v as T)) at.fail(`one of ${allowed.join(", ")}`, v);
  return v as T;
}

function list(v: unknown, at: At): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) at.fail("a list", v);
  return v as unknown[];
}

/** The known ids to show for a wrong one: all of a short list, else the near ones. */
export function knownHint(ids: readonly string[], wrong: string): string {
  if (ids.length <= 12) return ids.join(", ");
  const parts = wrong
    .toLowerCase()
    .split(/[-\s_.]+/)
    .filter((p) => p.length >= 3);
  const near = ids.filter((id) => parts.some((p) => id.toLowerCase().includes(p)));
  const shown = (near.length > 0 ? near : ids).slice(0, 8);
  return `${shown.join(", ")}, ...; ${ids.length} in all`;
}

/** A known id, with the known ones listed when it is not. */
function knownId(v: unknown, at: At, ids: readonly string[], what: string): string {
  const s = str(v, at);
  if (!ids.includes(s)) at.fail(`a ${what} id (known: ${knownHint(ids, s)})`, s);
  return s;
}

/** Default host pid of a task: this plus its pid inside the container. */
export const HOST_PID_BASE = 1000;
const POLICIES: readonly SchedPolicy[] = ["other", "batch", "idle", "fifo", "rr"];
const STATES = ["running", "stopped", "locked"] as const;
const WORD_FIELDS = WORD_KEYS;

const TASK_FIELDS = [
  "pid",
  "comm",
  "kernelThread",
  "usedFpu",
  "abi",
  "vdso",
  "policy",
  "ptracedFromHost",
  "external",
  "hostPid",
  "ownMountNamespace",
  "unsupportedUse",
];

function task(v: unknown, at: At, index: number): Task {
  const o = object(v, at, TASK_FIELDS);
  const pid = int(o.pid, at.field("pid"), 1, 4194304, index + 1);
  return {
    pid,
    comm: o.comm === undefined ? "task" : str(o.comm, at.field("comm")),
    kernelThread: bool(o.kernelThread, at.field("kernelThread"), false),
    usedFpu: bool(o.usedFpu, at.field("usedFpu"), false),
    abi: oneOf<64 | 32>(o.abi, at.field("abi"), [64, 32], 64),
    vdso: bool(o.vdso, at.field("vdso"), true),
    policy: oneOf(o.policy, at.field("policy"), POLICIES, "other"),
    ptracedFromHost: bool(o.ptracedFromHost, at.field("ptracedFromHost"), false),
    external: bool(o.external, at.field("external"), false),
    // Inside a CT pids are small; on the host they are not: a plausible default.
    hostPid: int(o.hostPid, at.field("hostPid"), 1, 4194304, HOST_PID_BASE + pid),
    ownMountNamespace: bool(o.ownMountNamespace, at.field("ownMountNamespace"), false),
    unsupportedUse: list(o.unsupportedUse, at.field("unsupportedUse")).map((u, i) =>
      str(u, at.field("unsupportedUse").index(i)),
    ),
  };
}

function mount(v: unknown, at: At): Mount {
  const o = object(v, at, ["fs", "target"], ["fs", "target"]);
  return { fs: str(o.fs, at.field("fs")), target: str(o.target, at.field("target")) };
}

/** venet, veth (eth* inside a CT) and lo can be checkpointed; anything else not. */
export const defaultCheckpointable = (name: string): boolean =>
  /^(lo|venet\d*|veth.*|eth\d+)$/.test(name);

function netdev(v: unknown, at: At): NetDevice {
  const o = object(v, at, ["name", "checkpointable"], ["name"]);
  const name = str(o.name, at.field("name"));
  return {
    name,
    checkpointable: bool(o.checkpointable, at.field("checkpointable"), defaultCheckpointable(name)),
  };
}

function container(v: unknown, at: At): Container {
  const o = object(v, at, ["id", "name", "state", "tasks", "mounts", "netdevs"], ["id"]);
  const tasks = list(o.tasks, at.field("tasks")).map((t, i) =>
    task(t, at.field("tasks").index(i), i),
  );
  const pids = new Set<number>();
  tasks.forEach((t, i) => {
    if (pids.has(t.pid))
      at.field("tasks").index(i).field("pid").fail("a pid not used by another task", t.pid);
    pids.add(t.pid);
  });
  return {
    id: int(o.id, at.field("id"), 1, 4294967295),
    ...(o.name === undefined ? {} : { name: str(o.name, at.field("name")) }),
    state: oneOf(o.state, at.field("state"), STATES, "running"),
    tasks,
    mounts: list(o.mounts, at.field("mounts")).map((m, i) => mount(m, at.field("mounts").index(i))),
    netdevs: list(o.netdevs, at.field("netdevs")).map((n, i) =>
      netdev(n, at.field("netdevs").index(i)),
    ),
  };
}

function cpuWords(v: unknown, at: At): CpuidWords {
  const o = object(v, at, ["vendor", "family", "model", ...WORD_FIELDS], ["vendor"]);
  const words = Object.fromEntries(WORD_FIELDS.map((f) => [f, word(o[f], at.field(f), 0)]));
  return {
    vendor: str(o.vendor, at.field("vendor")),
    family: int(o.family, at.field("family"), 0, 0xfff, 0),
    model: int(o.model, at.field("model"), 0, 0xfff, 0),
    ...(words as Record<CpuidWordKey, number>),
  };
}

function cpuidMask(v: unknown, at: At): CpuidMask {
  const o = object(v, at, WORD_FIELDS);
  const out: Record<string, number> = {};
  for (const f of WORD_FIELDS) if (o[f] !== undefined) out[f] = word(o[f], at.field(f));
  return out;
}

const NODE_FIELDS = [
  "name",
  "kernel",
  "cpu",
  "cpuidMask",
  "arch64",
  "ipv6",
  "slmWithoutDmprst",
  "modules",
  "containers",
];

/** One node; `defaultName` is used when the file gives none (node files only). */
export function nodeFromValue(
  v: unknown,
  at: At,
  ctx: SchemaContext,
  defaultName?: string,
): NodeSpec {
  const o = object(
    v,
    at,
    NODE_FIELDS,
    defaultName === undefined ? ["name", "kernel", "cpu"] : ["kernel", "cpu"],
  );
  const modulesAt = at.field("modules");
  const modules =
    o.modules === undefined
      ? { cpt: true, rst: true }
      : object(o.modules, modulesAt, ["cpt", "rst"]);
  const containers = list(o.containers, at.field("containers")).map((c, i) =>
    container(c, at.field("containers").index(i)),
  );
  const ids = new Set<number>();
  containers.forEach((c, i) => {
    if (ids.has(c.id))
      at.field("containers").index(i).field("id").fail("an id not used by another container", c.id);
    ids.add(c.id);
  });
  const cpuAt = at.field("cpu");
  // Read in field order, so the first bad field is the one reported.
  const name = o.name === undefined ? (defaultName as string) : str(o.name, at.field("name"));
  const kernel = knownId(
    o.kernel,
    at.field("kernel"),
    ctx.kernelIds,
    "kernel generation or profile",
  );
  const cpu =
    typeof o.cpu === "string"
      ? knownId(o.cpu, cpuAt, ctx.cpuIds, "CPU catalog")
      : cpuWords(o.cpu, cpuAt);
  const mask =
    o.cpuidMask === undefined ? undefined : cpuidMask(o.cpuidMask, at.field("cpuidMask"));
  const arch64 = bool(o.arch64, at.field("arch64"), true);
  // A 64-bit kernel needs long mode. The CPU's own words decide (a cpuidMask
  // hides lm from CPUID, not from the CPU); an id the context knows but the
  // catalog does not is left to the node model.
  const words = typeof cpu === "string" ? cpuById(cpu)?.words : cpu;
  if (arch64 && words !== undefined && !hasFeature(words, "lm")) {
    const where = typeof cpu === "string" ? "" : `: ${cpuAt.field("ext1Edx").path} bit 29`;
    at.field("arch64").conflict(`the CPU has no long mode (lm${where}); set arch64: false`);
  }
  return {
    name,
    kernel,
    cpu,
    ...(mask === undefined ? {} : { cpuidMask: mask }),
    arch64,
    ipv6: bool(o.ipv6, at.field("ipv6"), true),
    slmWithoutDmprst: bool(o.slmWithoutDmprst, at.field("slmWithoutDmprst"), false),
    modules: {
      cpt: bool(modules.cpt, modulesAt.field("cpt"), true),
      rst: bool(modules.rst, modulesAt.field("rst"), true),
    },
    containers,
  };
}

const NOT_A_FLEET = "not a fleet file; a fleet file has name: and nodes: (a list of nodes)";

export function fleetFromValue(v: unknown, at: At, ctx: SchemaContext): FleetSpec {
  // One node where a fleet was expected: say so rather than "kernel: no such field".
  if (isProfileRecord(v))
    at.conflict(`this is a vzcptcheck profile record (one node), ${NOT_A_FLEET}`);
  if (isMapping(v) && !("nodes" in v) && ("kernel" in v || "cpu" in v)) {
    at.conflict(`this is a node file (it has kernel:/cpu:, no nodes:), ${NOT_A_FLEET}`);
  }
  const o = object(v, at, ["name", "nodes"], ["name", "nodes"]);
  const nodesAt = at.field("nodes");
  const raw = list(o.nodes, nodesAt);
  if (raw.length === 0) nodesAt.fail("at least one node", o.nodes);
  const nodes = raw.map(
    (n, i) =>
      nodeFromProfileRecord(n, `${at.file}: nodes[${i}]`, ctx) ??
      nodeFromValue(n, nodesAt.index(i), ctx),
  );
  const names = new Set<string>();
  nodes.forEach((n, i) => {
    if (names.has(n.name))
      nodesAt.index(i).field("name").fail("a name not used by another node", n.name);
    names.add(n.name);
  });
  return { name: str(o.name, at.field("name")), nodes };
}

/** YAML text longer than this is parsed with Bun's built-in parser first. */
const LARGE_YAML = 1 << 20;

/** Parse a file's text: JSON for *.json, YAML otherwise; one-line errors. */
export function parseText(text: string, file: string): unknown {
  if (extname(file).toLowerCase() === ".json") {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new SchemaError(`${file}: not valid JSON: ${(e as Error).message}`);
    }
  }
  // The yaml package is strict (duplicate keys, one document) and its errors say
  // where, but it needs ~16 s and 2 GiB for a 10,000-node fleet; Bun's built-in
  // parser reads that in under a second. Large files therefore go through Bun's
  // parser, and only a file it rejects is parsed again for a precise message.
  if (text.length > LARGE_YAML && typeof Bun !== "undefined") {
    try {
      return Bun.YAML.parse(text);
    } catch {
      // fall through: the yaml package explains what is wrong
    }
  }
  try {
    return YAML.parse(text, { prettyErrors: true });
  } catch (e) {
    const first = ((e as Error).message.split("\n")[0] ?? "").replace(/:$/, "");
    throw new SchemaError(`${file}: not valid YAML: ${first}`);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : (e as Error).message;
    throw new SchemaError(`${file}: cannot read: ${why}`);
  }
}

/** A node from parsed text (a node mapping or a profile record). */
export function nodeFromText(text: string, file: string, ctx: SchemaContext): NodeSpec {
  const v = parseText(text, file);
  // A `vzcptcheck profile --json` record is a node too (sim/profile-record.ts).
  const fromProfile = nodeFromProfileRecord(v, file, ctx);
  if (fromProfile) return fromProfile;
  if (isMapping(v) && "nodes" in v) {
    const names = list(v.nodes, new At(file, "nodes"))
      .map((n) => (isMapping(n) ? n.name : undefined))
      .filter((n): n is string => typeof n === "string");
    const example = names[0] === undefined ? "" : `, e.g. ${file}:${names[0]}`;
    throw new SchemaError(
      `${file}: this is a fleet file (it has nodes:), not a node file; name one of its nodes as FLEET_FILE:NODE_NAME${example} (nodes: ${names.join(", ")})`,
    );
  }
  const stem = basename(file, extname(file));
  return nodeFromValue(v, new At(file, ""), ctx, stem);
}

export function fleetFromText(text: string, file: string, ctx: SchemaContext): FleetSpec {
  return fleetFromValue(parseText(text, file), new At(file, ""), ctx);
}

export function loadNodeFile(file: string, ctx: SchemaContext): NodeSpec {
  return nodeFromText(readText(file), file, ctx);
}

export function loadFleetFile(file: string, ctx: SchemaContext): FleetSpec {
  return fleetFromText(readText(file), file, ctx);
}

/**
 * A node named on a command line: a node file, or FLEET_FILE:NODE for one
 * node of a fleet file (the whole argument is tried as a file first).
 */
export function loadNodeRef(ref: string, ctx: SchemaContext): NodeSpec {
  const colon = ref.lastIndexOf(":");
  if (colon <= 0 || existsSync(ref)) return loadNodeFile(ref, ctx);
  const file = ref.slice(0, colon);
  const name = ref.slice(colon + 1);
  const fleet = loadFleetFile(file, ctx);
  return findNode(fleet, name, file);
}

/** A fleet's node by name, or an error listing the names there are. */
export function findNode(fleet: FleetSpec, name: string, file: string): NodeSpec {
  const node = fleet.nodes.find((n) => n.name === name);
  if (!node) {
    const names = fleet.nodes.map((n) => n.name).join(", ");
    throw new SchemaError(`${file}: no node named ${JSON.stringify(name)} (nodes: ${names})`);
  }
  return node;
}

export { At as SchemaPath };
