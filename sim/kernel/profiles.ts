// Kernel profiles: a generation of src/cpt/generations.ts plus the few
// behaviour switches the ioctl model needs. Built-in profiles are the
// generations themselves; users add their own in a YAML or JSON file that
// `extends` a generation and overrides some facts (see loadProfileFile).

import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { BIT_BY_NAME } from "../../src/cpt/bits.ts";
import {
  type CheckEntry,
  type CptTestCapsAnswer,
  type FlagSource,
  GENERATIONS,
  type Generation,
} from "../../src/cpt/generations.ts";

const bit = (name: string): number => (BIT_BY_NAME.get(name) as { bit: number }).bit;
const SSE4_1 = bit("sse4_1");
const SSE4_2 = bit("sse4_2");
const RDRAND = bit("rdrand");
const SLM = bit("slm_dmprst");

export interface KernelProfile extends Generation {
  /** The built-in generation this profile is (or extends). */
  readonly base: string;
  /** rst CPT_TEST_VERSION: "none" (no such request) or the 2.6.32 minor rule. */
  readonly restoreRule: "none" | "minor<=current";
  /** cpt knows CPT_TEST_VECAPS2 (042stab092.1 and later). */
  readonly knowsVecaps2: boolean;
  /** The check lists test sse4_1 under the label "sse4_2" (061.9-092.1). */
  readonly sse42LabelBug: boolean;
  /** VECAPS result when the destination has the SLM bit: 4 (042), 1 (2.6.32-pre), null (2.6.18). */
  readonly dstSlmResult: 4 | 1 | null;
  /** 2.6.18: a task that used the FPU takes every node flag, and sysenter ignores the vendor. */
  readonly oldTaskRules: boolean;
}

const hasBug = (checks: readonly CheckEntry[]): boolean =>
  checks.some((c) => c.label === "sse4_2" && c.bit === SSE4_1);

function derive(g: Generation): KernelProfile {
  const legacy = g.vecapsStyle === "legacy";
  return {
    ...g,
    base: g.id,
    restoreRule: g.knowsTestVersion ? "minor<=current" : "none",
    knowsVecaps2: g.stabFrom !== null && g.stabFrom >= 92.01,
    sse42LabelBug: hasBug(g.vecapsChecks),
    dstSlmResult: !legacy ? 4 : ((g.definedBits >>> SLM) & 1) === 1 ? 1 : null,
    oldTaskRules: g.line === "2.6.18",
  };
}

export const BUILTIN_PROFILES: readonly KernelProfile[] = GENERATIONS.map(derive);
const BUILTIN_BY_ID: ReadonlyMap<string, KernelProfile> = new Map(
  BUILTIN_PROFILES.map((p) => [p.id, p]),
);

export type ProfileSet = ReadonlyMap<string, KernelProfile> | readonly KernelProfile[];

const lookup = (id: string, custom?: ProfileSet): KernelProfile | undefined => {
  if (!custom) return undefined;
  if (Array.isArray(custom)) return (custom as readonly KernelProfile[]).find((p) => p.id === id);
  return (custom as ReadonlyMap<string, KernelProfile>).get(id);
};

/** A built-in profile by generation id, else a custom one; undefined if unknown. */
export function profileById(id: string, custom?: ProfileSet): KernelProfile | undefined {
  return BUILTIN_BY_ID.get(id) ?? lookup(id, custom);
}

/** Every id profileById knows, built-ins first. */
export function knownProfileIds(custom?: ProfileSet): string[] {
  const extra = custom ? [...(Array.isArray(custom) ? custom : custom.values())] : [];
  return [...BUILTIN_BY_ID.keys(), ...extra.map((p: KernelProfile) => p.id)];
}

// ---- check-list edits (pure) ----

/** Put the 061.9-092.1 label bug in (or take it out of) a 042 check list. */
function withLabelBug(checks: readonly CheckEntry[], bug: boolean): CheckEntry[] {
  return checks.map((c) =>
    c.label === "sse4_2" ? { label: "sse4_2", bit: bug ? SSE4_1 : SSE4_2 } : c,
  );
}

function withRdrand(checks: readonly CheckEntry[], on: boolean): CheckEntry[] {
  const rest = checks.filter((c) => c.bit !== RDRAND);
  return on ? [...rest, { label: "rdrand", bit: RDRAND }] : rest;
}

// ---- profile files ----

/** What a profile file may set besides `extends`. */
export interface ProfileOverrides {
  id: string;
  title?: string;
  currentVersion?: number | null;
  knowsTestVersion?: boolean;
  knowsVecaps2?: boolean;
  cptTestCaps?: CptTestCapsAnswer;
  unsupportedMask?: number;
  sse42LabelBug?: boolean;
  hasRdrand?: boolean;
  flagSource?: FlagSource;
  containerCarriesNoIpv6?: boolean;
}

class ProfileError extends Error {}

/** Numbers may be written as integers or as strings ("0x803", "771913119"). */
function asInt(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(v)) return Number(v.trim());
  return undefined;
}

type Check = (v: unknown) => { ok: true; value: unknown } | { ok: false };
const ok = (value: unknown) => ({ ok: true as const, value });
const bad = { ok: false as const };

const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === "string" && values.includes(v) ? ok(v) : bad;
const boolean: Check = (v) => (typeof v === "boolean" ? ok(v) : bad);
const text: Check = (v) => (typeof v === "string" && v.trim() !== "" ? ok(v) : bad);
const intIn =
  (lo: number, hi: number): Check =>
  (v) => {
    const n = asInt(v);
    return n !== undefined && n >= lo && n <= hi ? ok(n) : bad;
  };
const versionOrNull: Check = (v) => (v === null ? ok(null) : intIn(0, 0xffff)(v));

/** Field -> [validator, what was expected]. */
const FIELDS: Readonly<Record<string, readonly [Check, string]>> = {
  extends: [text, "the id of a built-in generation (e.g. 042stab093)"],
  id: [text, "a non-empty string"],
  title: [text, "a non-empty string"],
  currentVersion: [versionOrNull, "an image version 0..0xffff (e.g. 0x803) or null"],
  knowsTestVersion: [boolean, "true or false"],
  knowsVecaps2: [boolean, "true or false"],
  cptTestCaps: [oneOf("check", "ENOSYS", "EAGAIN"), 'one of "check", "ENOSYS", "EAGAIN"'],
  unsupportedMask: [intIn(0, 0xffffffff), "a 32-bit mask (e.g. 0xc1fd0000)"],
  sse42LabelBug: [boolean, "true or false"],
  hasRdrand: [boolean, "true or false"],
  flagSource: [
    oneOf("kernel-caps", "raw-cpuid", "masked-cpuid"),
    'one of "kernel-caps", "raw-cpuid", "masked-cpuid"',
  ],
  containerCarriesNoIpv6: [boolean, "true or false"],
};

const show = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v) : String(v));

/**
 * Build a profile from a parsed document (`source` names it in errors):
 * `extends: <generation id>` plus overrides. Throws an Error whose message
 * names the source, the field and what was expected.
 */
export function profileFromDocument(
  doc: unknown,
  source: string,
  custom?: ProfileSet,
): KernelProfile {
  const fail = (field: string, expected: string, got?: unknown): never => {
    const tail = got === undefined ? "" : `, got ${show(got)}`;
    throw new ProfileError(`${source}: field "${field}": expected ${expected}${tail}`);
  };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ProfileError(`${source}: expected a mapping of profile fields`);
  }
  const fields = doc as Record<string, unknown>;
  const values: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(fields)) {
    const rule = FIELDS[key];
    if (!rule)
      fail(key, `one of the known fields (${Object.keys(FIELDS).join(", ")})`, "an unknown field");
    const [check, expected] = rule as readonly [Check, string];
    const r = check(raw);
    if (!r.ok) fail(key, expected, raw);
    else values[key] = r.value;
  }
  for (const required of ["extends", "id"]) {
    if (!(required in values)) fail(required, (FIELDS[required] as readonly [Check, string])[1]);
  }
  const baseId = values.extends as string;
  const base = profileById(baseId, custom);
  if (!base)
    fail("extends", `the id of a known profile (${knownProfileIds(custom).join(", ")})`, baseId);
  const id = values.id as string;
  if (BUILTIN_BY_ID.has(id)) fail("id", "a new id, not a built-in generation's", id);
  return applyOverrides(base as KernelProfile, values as unknown as ProfileOverrides, fail);
}

function applyOverrides(
  base: KernelProfile,
  o: ProfileOverrides,
  fail: (field: string, expected: string, got?: unknown) => never,
): KernelProfile {
  const is042 = base.vecapsStyle === "042";
  if (!is042 && o.sse42LabelBug !== undefined)
    fail("sse42LabelBug", "no value: only 042stab profiles have it");
  if (!is042 && o.hasRdrand !== undefined)
    fail("hasRdrand", "no value: only 042stab profiles have it");
  const knowsTestVersion = o.knowsTestVersion ?? base.knowsTestVersion;
  const currentVersion = o.currentVersion !== undefined ? o.currentVersion : base.currentVersion;
  if (knowsTestVersion && currentVersion === null) {
    fail("currentVersion", "an image version when knowsTestVersion is true", null);
  }
  const bug = o.sse42LabelBug ?? base.sse42LabelBug;
  const rdrand = o.hasRdrand ?? base.hasRdrand;
  const edit = (list: readonly CheckEntry[]): readonly CheckEntry[] =>
    is042 ? withRdrand(withLabelBug(list, bug), rdrand) : list;
  const r = (1 << RDRAND) >>> 0;
  // Without rdrand, bit 29 is one more bit the kernel cannot handle.
  const defaultMask = rdrand ? (base.unsupportedMask & ~r) >>> 0 : (base.unsupportedMask | r) >>> 0;
  return {
    ...base,
    id: o.id,
    title: o.title ?? `${o.id} (custom, extends ${base.id})`,
    currentVersion,
    knowsTestVersion,
    restoreRule: knowsTestVersion ? "minor<=current" : "none",
    knowsVecaps2: o.knowsVecaps2 ?? base.knowsVecaps2,
    cptTestCaps: o.cptTestCaps ?? base.cptTestCaps,
    cptCapsChecks: edit(base.cptCapsChecks),
    vecapsChecks: edit(base.vecapsChecks),
    sse42LabelBug: is042 ? bug : base.sse42LabelBug,
    hasRdrand: rdrand,
    unsupportedMask: o.unsupportedMask ?? (is042 ? defaultMask : base.unsupportedMask),
    definedBits: is042
      ? rdrand
        ? (base.definedBits | r) >>> 0
        : (base.definedBits & ~r) >>> 0
      : base.definedBits,
    highestCpuBit: is042
      ? rdrand
        ? RDRAND
        : Math.min(base.highestCpuBit, 27)
      : base.highestCpuBit,
    flagSource: o.flagSource ?? base.flagSource,
    containerCarriesNoIpv6: o.containerCarriesNoIpv6 ?? base.containerCarriesNoIpv6,
  };
}

/** Parse profile text: JSON when `path` ends in .json, YAML otherwise. */
export function parseProfileText(textIn: string, path: string, custom?: ProfileSet): KernelProfile {
  let doc: unknown;
  try {
    doc = path.toLowerCase().endsWith(".json") ? JSON.parse(textIn) : parseYaml(textIn);
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new ProfileError(
      `${path}: not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${why}`,
    );
  }
  return profileFromDocument(doc, path, custom);
}

/** Load a custom profile from a YAML or JSON file. Errors name the file and field. */
export function loadProfileFile(path: string, custom?: ProfileSet): KernelProfile {
  let textIn: string;
  try {
    textIn = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code ?? "unreadable";
    throw new ProfileError(`${path}: cannot read profile file (${code})`);
  }
  return parseProfileText(textIn, path, custom);
}
