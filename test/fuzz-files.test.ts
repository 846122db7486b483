// Fuzzing node and fleet files: random YAML/JSON documents and mutated valid
// files go through the schema loader (sim/schema.ts) in process, and a sample
// through `dist/vzcptsim node show FILE`. Each is either valid (and then loads
// to exactly what it says) or rejected with one line naming the file and the
// problem; never another kind of exception, never a stack trace.

import { afterAll, describe, expect, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import YAML from "yaml";
import { CPU_CATALOG } from "../sim/cpu/catalog.ts";
import { knownProfileIds } from "../sim/kernel/profiles.ts";
import { NodeModel } from "../sim/node.ts";
import { fleetFromText, nodeFromText, type SchemaContext, SchemaError } from "../sim/schema.ts";
import type { FleetSpec, NodeSpec } from "../sim/types.ts";
import * as A from "./arbitraries.ts";
import {
  prop,
  runExe,
  runs,
  SPAWN_RUNS,
  STACK_TRACE,
  scratch,
  timeoutFor,
  VZCPTSIM,
} from "./properties/harness.ts";

const FILE = import.meta.path;
const tmp = scratch("files");
afterAll(() => tmp.cleanup());
setDefaultTimeout(timeoutFor(runs(3), 20));

const CTX: SchemaContext = { kernelIds: knownProfileIds(), cpuIds: CPU_CATALOG.map((c) => c.id) };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

// --------------------------------------------------------- documents ----

/** A spec as a file would spell it: CPUID words sometimes as hex strings. */
function toDoc(spec: NodeSpec, hex: boolean): Json {
  const doc = JSON.parse(JSON.stringify(spec)) as { [k: string]: Json };
  if (hex && typeof spec.cpu !== "string") {
    const cpu = doc.cpu as { [k: string]: Json };
    for (const k of A.WORD_KEYS) cpu[k] = `0x${(spec.cpu[k] >>> 0).toString(16)}`;
  }
  return doc;
}

const FIELD_NAMES = [
  "name",
  "kernel",
  "cpu",
  "cpuidMask",
  "arch64",
  "ipv6",
  "slmWithoutDmprst",
  "modules",
  "containers",
  "id",
  "state",
  "tasks",
  "mounts",
  "netdevs",
  "pid",
  "comm",
  "usedFpu",
  "abi",
  "vdso",
  "policy",
  "external",
  "hostPid",
  "fs",
  "target",
  "checkpointable",
  "leaf1Ecx",
  "vendor",
  "cpt",
  "rst",
  "nodes",
];

/** Values of every shape, including ones no field accepts. */
const oddValue = (): fc.Arbitrary<Json> =>
  fc.oneof(
    fc.constant<Json>(null),
    fc.constantFrom<Json>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      2 ** 53,
      -(2 ** 40),
      4294967296,
      "",
      " ",
      "0x",
      "0xZZ",
      [],
      {},
    ),
    fc.constantFrom<Json>(
      "042stab109",
      "nope",
      "intel-westmere-x5670",
      "running",
      "fifo",
      64,
      32,
      "0xffffffff",
    ),
    fc.string({ maxLength: 8 }),
    fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  );

/** Every (container, key) position inside a document, for mutations. */
function positions(
  v: Json,
  out: { parent: Json[] | { [k: string]: Json }; key: string | number; path: string[] }[] = [],
  path: string[] = [],
) {
  if (Array.isArray(v))
    v.forEach((x, i) => {
      out.push({ parent: v, key: i, path: [...path, String(i)] });
      positions(x, out, [...path, String(i)]);
    });
  else if (v !== null && typeof v === "object")
    for (const k of Object.keys(v)) {
      out.push({ parent: v, key: k, path: [...path, k] });
      positions(v[k] as Json, out, [...path, k]);
    }
  return out;
}

type Mutation =
  | { kind: "set"; at: number; value: Json }
  | { kind: "delete"; at: number }
  | { kind: "add"; at: number; key: string; value: Json }
  | { kind: "duplicate"; at: number };

const mutation = (): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: oddValue() }),
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant("add" as const),
      at: fc.nat(),
      key: fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 6 })),
      value: oddValue(),
    }),
    fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  );

/** Apply a mutation in place; returns the field name it touched ("" for list items). */
function mutate(doc: Json, m: Mutation): string {
  const ps = positions(doc);
  if (ps.length === 0) return "";
  const p = ps[m.at % ps.length] as (typeof ps)[number];
  const parent = p.parent as Record<string | number, Json>;
  const name = typeof p.key === "string" ? p.key : "";
  switch (m.kind) {
    case "set":
      parent[p.key] = m.value;
      return name;
    case "delete":
      if (Array.isArray(p.parent)) p.parent.splice(p.key as number, 1);
      else delete parent[p.key];
      return name;
    case "add": {
      const target = parent[p.key];
      if (target !== null && typeof target === "object" && !Array.isArray(target)) {
        target[m.key] = m.value;
        return m.key;
      }
      parent[p.key] = m.value;
      return name;
    }
    case "duplicate":
      if (Array.isArray(p.parent))
        p.parent.push(JSON.parse(JSON.stringify(p.parent[p.key as number])) as Json);
      return name;
  }
}

/** Text-level damage: a cut, a stray character, a swapped pair. */
const textDamage = () =>
  fc.oneof(
    fc.record({
      prefix: fc.constantFrom(
        "%YAML 1.2\n---\n",
        "%foo bar\n---\n",
        "---\n",
        "\ufeff",
        "# c\n",
        "...\n",
      ),
    }),
    fc.record({ cut: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      insert: fc.constantFrom(
        ":",
        "{",
        "[",
        "\t",
        "'",
        '"',
        "- ",
        "\n  x",
        "&a",
        "*a",
        "!!",
        "%",
        "\u0000",
      ),
    }),
  );

function damage(
  text: string,
  d: { cut: number } | { at: number; insert: string } | { prefix: string },
): string {
  if ("cut" in d) return text.slice(0, Math.floor(text.length * d.cut));
  if ("prefix" in d) return d.prefix + text;
  const i = Math.floor(text.length * d.at);
  return text.slice(0, i) + d.insert + text.slice(i);
}

const serialize = (doc: Json, json: boolean): string =>
  json ? JSON.stringify(doc, null, 1) : YAML.stringify(doc);

interface Case {
  readonly text: string;
  readonly json: boolean;
  readonly fleet: boolean;
  /** The field a single structural mutation touched, if any. */
  readonly touched: string | null;
  /** What the file says when it was not changed at all. */
  readonly pristine: NodeSpec | FleetSpec | null;
}

const caseArb = (): fc.Arbitrary<Case> =>
  fc
    .record({
      fleet: fc.boolean(),
      json: fc.boolean(),
      hex: fc.boolean(),
      node: A.node(),
      fleetSpec: A.fleet({}, 3),
      how: fc.oneof(
        { weight: 2, arbitrary: fc.constant({ kind: "pristine" as const }) },
        { weight: 4, arbitrary: mutation().map((m) => ({ kind: "mutate" as const, m })) },
        {
          weight: 1,
          arbitrary: fc
            .array(mutation(), { minLength: 2, maxLength: 4 })
            .map((ms) => ({ kind: "many" as const, ms })),
        },
        { weight: 2, arbitrary: textDamage().map((d) => ({ kind: "damage" as const, d })) },
        {
          weight: 2,
          arbitrary: (fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>).map((v) => ({
            kind: "random" as const,
            v,
          })),
        },
        {
          weight: 1,
          arbitrary: fc
            .string({ unit: "binary", maxLength: 60 })
            .map((t) => ({ kind: "text" as const, t })),
        },
      ),
    })
    .map(({ fleet, json, hex, node, fleetSpec, how }): Case => {
      const spec: NodeSpec | FleetSpec = fleet ? fleetSpec : node;
      const doc: Json = fleet
        ? { name: fleetSpec.name, nodes: fleetSpec.nodes.map((n) => toDoc(n, hex)) }
        : toDoc(node, hex);
      let touched: string | null = null;
      let text: string;
      switch (how.kind) {
        case "pristine":
          return { text: serialize(doc, json), json, fleet, touched, pristine: spec };
        case "mutate":
          touched = mutate(doc, how.m) || null;
          text = serialize(doc, json);
          break;
        case "many":
          for (const m of how.ms) mutate(doc, m);
          text = serialize(doc, json);
          break;
        case "damage":
          text = damage(serialize(doc, json), how.d);
          break;
        case "random":
          text = serialize(how.v, json);
          break;
        case "text":
          text = how.t;
          break;
      }
      return { text, json, fleet, touched, pristine: null };
    });

// --------------------------------------------------------------- checks ----

/** What a string becomes once written out as UTF-8 (lone surrogates -> U+FFFD). */
const wellFormed = (s: string): string => new TextDecoder().decode(new TextEncoder().encode(s));

let fileNo = 0;
function writeCase(c: Case): string {
  const path = join(tmp.dir, `f${fileNo++}${c.json ? ".json" : ".yaml"}`);
  writeFileSync(path, c.text);
  return path;
}

type Outcome = { ok: true; value: NodeSpec | FleetSpec } | { ok: false; message: string };

function load(c: Case, path: string): Outcome {
  // The yaml library reports unknown directives with process.emitWarning: keep
  // the test log clean here (the vzcptsim property checks what a user sees).
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return {
      ok: true,
      value: c.fleet ? fleetFromText(c.text, path, CTX) : nodeFromText(c.text, path, CTX),
    };
  } catch (e) {
    // Only the loader's own one-line errors may come out.
    expect(e).toBeInstanceOf(SchemaError);
    return { ok: false, message: (e as Error).message };
  } finally {
    process.emitWarning = emit;
  }
}

function checkOutcome(c: Case, path: string, o: Outcome): void {
  if (o.ok) {
    // Valid: every node builds, and a file nobody touched says exactly what it was made from.
    const nodes = c.fleet ? (o.value as FleetSpec).nodes : [o.value as NodeSpec];
    for (const n of nodes) expect(() => new NodeModel(n)).not.toThrow();
    if (c.pristine) expect(o.value).toEqual(c.pristine);
    return;
  }
  expect(c.pristine).toBeNull(); // a valid file must never be rejected
  expect(o.message).not.toContain("\n");
  expect(o.message.startsWith(`${path}:`)).toBe(true);
  expect(o.message.length).toBeGreaterThan(path.length + 5);
  if (
    c.touched &&
    /^[A-Za-z][A-Za-z0-9]*$/.test(c.touched) &&
    !/not valid (YAML|JSON)/.test(o.message)
  ) {
    // One structural change: the message names the field that changed, or what now lacks it.
    expect(o.message).toMatch(
      new RegExp(
        `\\b${c.touched}\\b|expected a mapping|expected a list|fleet file|at least one node`,
      ),
    );
  }
}

describe("node and fleet files", () => {
  prop(
    FILE,
    "every field of a valid file broken in turn: rejected or loaded, never another error",
    () =>
      fc.property(
        fc.boolean(),
        A.node(),
        fc.array(oddValue(), { minLength: 8, maxLength: 8 }),
        (json, spec, values) => {
          const path = join(tmp.dir, `sweep${json ? ".json" : ".yaml"}`);
          const count = positions(toDoc(spec, false)).length;
          for (let at = 0; at < count; at++) {
            // A fresh copy per position: set it to an odd value, or delete it.
            const doc = toDoc(spec, false);
            const value = values[at % values.length] as Json;
            const m: Mutation = at % 3 === 2 ? { kind: "delete", at } : { kind: "set", at, value };
            const touched = mutate(doc, m) || null;
            const c: Case = {
              text: serialize(doc, json),
              json,
              fleet: false,
              touched,
              pristine: null,
            };
            checkOutcome(c, path, load(c, path));
          }
        },
      ),
    { numRuns: runs(0.3) },
  );

  prop(
    FILE,
    "the schema loader: valid and loaded as written, or one line naming the problem",
    () =>
      fc.property(caseArb(), (c) => {
        const path = join(tmp.dir, `inproc${c.json ? ".json" : ".yaml"}`);
        checkOutcome(c, path, load(c, path));
      }),
    { numRuns: runs(3) },
  );

  prop(
    FILE,
    "`dist/vzcptsim node show FILE` (a sample): output or one error line, never a stack trace",
    () =>
      fc.asyncProperty(caseArb(), async (c) => {
        const path = writeCase(c);
        const expected = load(c, path);
        // A fleet file's node is named as FILE:NODE.
        const first =
          expected.ok && c.fleet ? (expected.value as FleetSpec).nodes[0]?.name : undefined;
        const ref = c.fleet ? `${path}:${first ?? "x"}` : path;
        const r = await runExe(VZCPTSIM, ["node", "show", ref]);
        expect(r.signal).toBeNull();
        expect(r.stderr).not.toMatch(STACK_TRACE);
        if (expected.ok) {
          expect({ exit: r.exit, stderr: r.stderr }).toEqual({ exit: 0, stderr: "" });
          expect(r.stdout).toContain("node flags");
        } else {
          expect(r.exit).toBe(1);
          expect(r.stdout).toBe("");
          expect(r.stderr.split("\n").length).toBe(2); // one line
          // (Written out, a lone surrogate in a parser's message becomes U+FFFD.)
          expect(r.stderr).toBe(`vzcptsim: ${wellFormed(expected.message)}\n`);
        }
      }),
    { numRuns: Math.round(SPAWN_RUNS() / 2) },
  );
});
