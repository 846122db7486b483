// A `vzcptcheck profile --json` record (src/profile.ts, schema in
// man/vzcptcheck-profile.schema.json) read as a simulated node: the node's CPU
// is the recorded CPUID words, its kernel the recorded generation (the
// generation the flags were predicted for when the machine was not OpenVZ),
// IPv6 and arch64 as recorded, SLM as the kernel's flags showed it. No CPUID
// mask and no containers: a record says nothing about them.

import { basename, extname } from "node:path";
import { WORD_KEYS } from "../src/cpt/cpuid.ts";
import { type SchemaContext, SchemaError } from "./schema.ts";
import type { CpuidWords, NodeSpec } from "./types.ts";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const WORDS = WORD_KEYS;

/** Is `v` a profile record (whatever its version)? */
export const isProfileRecord = (v: unknown): v is Obj =>
  isObj(v) && v.kind === "vzcptcheck-profile";

/**
 * The node a profile record describes, or null when `v` is not a record.
 * Throws SchemaError (one line naming the file and field) for a bad record.
 */
export function nodeFromProfileRecord(
  v: unknown,
  file: string,
  ctx: SchemaContext,
): NodeSpec | null {
  if (!isProfileRecord(v)) return null;
  const fail = (path: string, expected: string): never => {
    throw new SchemaError(`${file}: ${path}: expected ${expected} (a vzcptcheck profile record)`);
  };
  if (v.schemaVersion !== 1)
    fail("schemaVersion", "1, the only record version this vzcptsim reads");
  const cpu = v.cpu;
  if (!isObj(cpu)) {
    return fail(
      "cpu",
      `the CPU's CPUID words; this record has none (${String(v.cpuError ?? "no reason given")})`,
    );
  }
  const raw = cpu.cpuid;
  if (!isObj(raw)) return fail("cpu.cpuid", "an object of CPUID words");
  const words: Record<string, number> = {};
  for (const k of WORDS) {
    const w = raw[k];
    if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 0xffffffff) {
      fail(`cpu.cpuid.${k}`, "an integer from 0 to 4294967295");
    }
    words[k] = w as number;
  }
  const int = (x: unknown, path: string): number =>
    typeof x === "number" && Number.isInteger(x) && x >= 0
      ? x
      : fail(path, "a non-negative integer");
  if (typeof cpu.vendor !== "string" || cpu.vendor === "") fail("cpu.vendor", "a vendor string");
  const cpuWords = {
    vendor: cpu.vendor as string,
    family: int(cpu.family, "cpu.family"),
    model: int(cpu.model, "cpu.model"),
    ...words,
  } as CpuidWords;

  const openvz = v.openvz;
  const flags = isObj(v.flags) ? v.flags : fail("flags", "an object");
  const kernel = isObj(openvz) ? openvz.generation : flags.generation;
  if (typeof kernel !== "string" || !ctx.kernelIds.includes(kernel)) {
    fail(
      isObj(openvz) ? "openvz.generation" : "flags.generation",
      `a kernel generation (known: ${ctx.kernelIds.join(", ")})`,
    );
  }
  const ipv6 = isObj(v.ipv6) ? v.ipv6.loaded : undefined;
  if (typeof ipv6 !== "boolean") fail("ipv6.loaded", "true or false");
  if (typeof v.arch64 !== "boolean") fail("arch64", "true or false");
  const slm = v.slmWithoutDmprst;
  if (slm !== null && typeof slm !== "boolean") fail("slmWithoutDmprst", "true, false or null");
  const host = typeof v.hostname === "string" && v.hostname !== "" ? v.hostname : null;
  return {
    name: host ?? basename(file, extname(file)),
    kernel: kernel as string,
    cpu: cpuWords,
    arch64: v.arch64 as boolean,
    ipv6: ipv6 as boolean,
    slmWithoutDmprst: slm === true,
    modules: { cpt: true, rst: true },
    containers: [],
  };
}
