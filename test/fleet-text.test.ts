// The fleet commands' text (sim/fleet/text.ts) says what their --json says:
// each renderer is run through `vzcptsim fleet ...` in-process and its lines
// are checked against the JSON document of the same run (class tables and
// grids, verdict totals, islands, baseline and optimiser, what-if, upgrade plans).

import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  BaselineDoc,
  IslandsDoc,
  MatrixDoc,
  UpgradeDoc,
  WhatIfDoc,
} from "../sim/fleet/doc.ts";
import { VERDICT_NAMES, type VerdictName } from "../sim/fleet/engine.ts";
import { SYMBOL } from "../sim/fleet/text.ts";
import { simIn, treeEnv } from "./in-process.ts";
import { MIXED_FLEET, ROOT, tempDir } from "./sim-support.ts";

const DC = join(ROOT, "sim/fleets/datacenter.yaml");
const tmp = tempDir("fleet-text-");
afterAll(() => tmp.remove());

const env = treeEnv("");

/** `vzcptsim fleet CMD ARGS` text and the --json document of the same run. */
async function both<T>(
  cmd: string,
  ...args: string[]
): Promise<{ text: string; doc: T; code: number }> {
  const t = await simIn(["fleet", cmd, ...args], env);
  const j = await simIn(["fleet", cmd, ...args, "--json"], env);
  expect(t.stderr).toBe("");
  expect(j.code).toBe(t.code);
  return { text: t.stdout, doc: JSON.parse(j.stdout) as T, code: t.code };
}

const lines = (s: string): string[] => s.split("\n");
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`;
const hex = (n: number) => `0x${n.toString(16)}`;

/** The block of lines after the line starting with `head`, up to a blank line. */
function block(text: string, head: string): string[] {
  const ls = lines(text);
  const at = ls.findIndex((l) => l.startsWith(head));
  expect(at).toBeGreaterThanOrEqual(0);
  const end = ls.findIndex((l, i) => i > at && l === "");
  return ls.slice(at + 1, end < 0 ? undefined : end);
}

describe("fleet matrix --detail class", () => {
  for (const fleet of [DC, MIXED_FLEET]) {
    test(`${fleet.split("/").pop()}: classes, verdict totals and the grid agree with --json`, async () => {
      const { text, doc } = await both<MatrixDoc>("matrix", fleet, "--detail", "class");
      expect(doc.detail).toBe("class");
      const cm = doc.classMatrix;
      if (!cm) throw new Error("no class matrix");
      // The class table: one row per class, largest first.
      const order = [...doc.classes].sort((a, b) => b.nodes - a.nodes || a.id - b.id);
      const rows = block(text, "class  nodes  kernel").map((l) => l.split(/\s{2,}/));
      expect(rows).toEqual(
        order.map((c) => [
          `c${c.id}`,
          String(c.nodes),
          c.kernel,
          c.caps === null ? "-" : hex(c.caps),
          c.examples.slice(0, 3).join(", ") + (c.nodes > 3 ? ", ..." : ""),
        ]),
      );
      expect(order.reduce((n, c) => n + c.nodes, 0)).toBe(doc.fleet.nodes);
      // Verdict totals over every ordered pair of distinct nodes.
      const totals = new Map<string, number>();
      for (const row of cm.cells)
        for (const cell of row)
          for (const [v, n] of Object.entries(cell)) totals.set(v, (totals.get(v) ?? 0) + (n ?? 0));
      const all = doc.fleet.nodes * (doc.fleet.nodes - 1);
      expect(text).toContain(`\nNode pairs by verdict (${all} ordered pairs):\n`);
      const verdictLines = block(text, "Node pairs by verdict");
      expect(verdictLines).toEqual(
        VERDICT_NAMES.filter((v) => totals.get(v)).map(
          (v) =>
            `  ${v.padEnd(8)} ${String(totals.get(v)).padStart(12)}  ${pct(totals.get(v) as number, all)}`,
        ),
      );
      // The grid: each cell's most frequent verdict (first in verdict order on a tie).
      const gridAt = lines(text).findIndex((l) => /^\s+c\d+(\s+c\d+)*$/.test(l));
      expect(lines(text)[gridAt - 2]).toStartWith("e nothing running on the source");
      const grid = block(text, lines(text)[gridAt] as string);
      grid.unshift(lines(text)[gridAt] as string);
      const ids = order.map((c) => c.id);
      expect((grid[0] as string).trim().split(/\s+/)).toEqual(ids.map((i) => `c${i}`));
      ids.forEach((r, i) => {
        const cells = (grid[i + 1] as string).trim().split(/\s+/);
        expect(cells[0]).toBe(`c${r}`);
        const want = ids.map((c) => {
          const cell = cm.cells[r]?.[c] ?? {};
          let best: VerdictName | null = null;
          for (const v of VERDICT_NAMES)
            if ((cell[v] ?? 0) > (best ? (cell[best] ?? 0) : 0)) best = v;
          return best ? SYMBOL[best] : ".";
        });
        expect(cells.slice(1)).toEqual(want);
      });
      // Example refusals: one per class pair that has one.
      const ex = cm.examples.filter((e) => e.example !== null);
      expect(text).toContain(`class pair${ex.length === 1 ? "" : "s"} with refusals):\n`);
      for (const e of ex) {
        const p = e.example as NonNullable<typeof e.example>;
        expect(text).toContain(
          `[c${e.row} -> c${e.column}] ${p.source} -> ${p.destination}: ${p.verdict}`,
        );
      }
      // Stranded containers and the destination-count buckets.
      const running = doc.containers.filter((c) => c.state === "running");
      const stranded = running.filter((c) => c.destinations === 0);
      expect(stranded.length).toBe(doc.reach.stranded);
      expect(text).toContain(`\nRunning containers with no destination: ${stranded.length}\n`);
      for (const c of stranded) expect(text).toContain(`  ${c.node}/${c.id}`);
      const buckets = block(text, "Running containers by number of destinations:");
      expect(buckets.reduce((n, l) => n + Number(l.trim().split(/\s+/).pop()), 0)).toBe(
        running.length,
      );
    });
  }

  test("a refusal's block: node-level verdicts give the reason, long lists are cut", async () => {
    const { text, doc } = await both<MatrixDoc>("matrix", MIXED_FLEET, "--detail", "class");
    const version = doc.classMatrix?.examples.find(
      (e) => e.example?.verdict === "version",
    )?.example;
    if (!version) throw new Error("mixed.yaml has a version refusal");
    expect(text).toContain(
      `${version.source} -> ${version.destination}: version\n    ${version.nodeReason?.text}\n`,
    );
    const cut = doc.classMatrix?.examples.find(
      (e) => (e.example?.containersOmitted ?? 0) > 0,
    )?.example;
    if (!cut) throw new Error("mixed.yaml has a pair with omitted containers");
    expect(text).toContain(
      `    ... ${cut.containersOmitted} more refused (see --node ${cut.source})\n`,
    );
  });
});

describe("fleet islands text", () => {
  for (const fleet of [DC, MIXED_FLEET]) {
    test(`${fleet.split("/").pop()}: the islands and edges of --json`, async () => {
      const { text, doc } = await both<IslandsDoc>("islands", fleet);
      const multi = doc.islands.filter((i) => i.size > 1).length;
      expect(lines(text)[1]).toStartWith(
        `${doc.islands.length} island${doc.islands.length === 1 ? "" : "s"} (${multi} of two or more nodes, ${doc.lone} lone nodes) in `,
      );
      for (const i of doc.islands) {
        const head = `island ${i.id}${i.split ? "*" : ""} (${i.size} node${i.size === 1 ? "" : "s"}): ${i.nodes.slice(0, 8).join(", ")}`;
        expect(text).toContain(`\n${head}`);
        for (const k of Object.keys(i.kernels).slice(0, 3)) expect(text).toContain(k);
      }
      const oneWay = doc.edges.filter((e) => e.oneWay);
      expect(text).toContain(`One-way edges between islands (${oneWay.length}`);
      for (const e of oneWay.slice(0, 40)) {
        expect(text).toContain(
          `  island ${e.from} -> island ${e.to}: ${e.pairs} of ${e.of} node pairs take everything\n`,
        );
      }
      const split = doc.islands.some((i) => i.split);
      expect(text.includes("Islands marked * were cut from a larger reach group")).toBe(split);
      const both2 = doc.edges.filter((e) => !e.oneWay && e.from < e.to);
      expect(text.includes("Partial both ways")).toBe(both2.length > 0);
    });
  }
});

describe("fleet baseline text", () => {
  test("the mask, what each node loses, before and after", async () => {
    const { text, doc } = await both<BaselineDoc>("baseline", DC);
    expect(text).toContain(`\nBaseline mask hides: ${doc.hide.join(" ") || "nothing"}\n`);
    expect(text).toContain(`\nUnder it every node reports at least: ${doc.common.join(" ")}\n`);
    for (const n of doc.nodes.filter((x) => x.loses.length > 0)) {
      expect(text).toContain(`  ${n.name} (${n.kernel}): loses ${n.loses.join(" ")}`);
    }
    const b = doc.before;
    expect(text).toContain(
      `\nBefore: ${b.reachable}/${b.running} running CTs reach another node (${pct(b.reachable, b.running)}), ${b.fullPairs} node pairs take everything`,
    );
    expect(doc.optimised).toBeNull();
    expect(text).not.toContain("Optimiser");
  });

  test("the optimiser: a mask found, none needed, or the target out of reach", async () => {
    const found = await both<BaselineDoc>("baseline", DC, "--min-reach", "80");
    const o = found.doc.optimised;
    expect(o?.met).toBe(true);
    expect(found.text).toContain(`\n  hide: ${o?.hide.join(" ")}\n`);
    expect(found.text).toContain(
      `  reach: ${o?.reachable}/${o?.running} (${o?.reachPercent.toFixed(1)}%;`,
    );
    expect(found.text).toContain(`  (${o?.evaluations} fleet evaluation`);
    const free = await both<BaselineDoc>("baseline", DC, "--min-reach", "10");
    expect(free.doc.optimised?.hide).toEqual([]);
    expect(free.text).toContain(
      `  no mask needed: ${free.doc.optimised?.reachWithoutMask.toFixed(1)}% without one\n`,
    );
    const far = await both<BaselineDoc>("baseline", MIXED_FLEET, "--min-reach", "90");
    expect(far.code).toBe(2);
    expect(far.doc.optimised?.met).toBe(false);
    expect(far.text).toContain(
      `  not reachable: best found ${far.doc.optimised?.reachPercent.toFixed(1)}% (no mask `,
    );
  });

  test("a fleet of one kind of node: nobody loses anything", async () => {
    const same = join(tmp.dir, "same.yaml");
    writeFileSync(
      same,
      "name: same\nnodes:\n  - { name: a, kernel: 042stab109, cpu: intel-westmere-x5670 }\n" +
        "  - { name: b, kernel: 042stab109, cpu: intel-westmere-x5670 }\n",
    );
    const { text, doc } = await both<BaselineDoc>("baseline", same);
    expect(doc.hide).toEqual([]);
    expect(text).toContain("\nBaseline mask hides: nothing\n");
    expect(text).toContain("\nNo node loses anything.\n");
  });
});

describe("fleet what-if text", () => {
  test("changes, transitions and changed pairs of --json", async () => {
    const { text, doc } = await both<WhatIfDoc>(
      "what-if",
      MIXED_FLEET,
      "upgrade",
      "early-061",
      "042stab109",
      "remove-node",
      "haswell-108",
    );
    expect(text).toStartWith(`Before: Fleet mixed: 7 nodes`);
    expect(text).toContain("\nAfter:  Fleet mixed: 6 nodes");
    for (const c of doc.changes) expect(text).toContain(`\n  ${c.text}\n`);
    expect(text).toContain(`\nNodes removed: ${doc.nodesRemoved.join(", ")}\n`);
    expect(text).toContain(`\nNode pairs changed: ${doc.pairsChanged} of ${doc.pairsCompared}\n`);
    for (const t of doc.transitions)
      expect(text).toContain(`\n  ${t.before} -> ${t.after}: ${t.pairs}\n`);
    for (const e of doc.examples.slice(0, 40))
      expect(text).toContain(`\n  ${e.source} -> ${e.destination}: ${e.before} -> ${e.after}\n`);
    expect(doc.examples.length).toBeGreaterThan(0);
    for (const c of doc.stranded)
      expect(text).toContain(`\n  ${c.node}/${c.id} (had ${c.before})\n`);
    for (const c of doc.rescued) expect(text).toContain(`\n  ${c.node}/${c.id} (now ${c.after})\n`);
    // haswell-108 was the only destination of mid-093's 32-bit container.
    expect(doc.stranded.map((c) => `${c.node}/${c.id}`)).toContain("mid-093/302");
  });
});

describe("fleet upgrade-plan text", () => {
  test("a plan: every step of --json, in order", async () => {
    const { text, doc, code } = await both<UpgradeDoc>("upgrade-plan", DC);
    expect(code).toBe(0);
    expect(text).toContain(`\nTarget kernel: ${doc.target}\n`);
    expect(text).toContain(
      `\nAlready there (or newer): ${doc.skipped.map((s) => s.node).join(", ")}\n`,
    );
    const steps = lines(text).filter((l) => /^\s+\d+\. /.test(l));
    expect(
      steps.map(
        (l) =>
          l
            .trim()
            .replace(/^\d+\. /, "")
            .split(":")[0],
      ),
    ).toEqual(doc.steps.map((s) => s.node));
    doc.steps.forEach((s, i) => {
      expect(steps[i]).toContain(
        `${s.node}: ${s.from} -> ${s.to} (evacuate ${s.evacuate} running;`,
      );
    });
    expect(text).toEndWith(
      `(${doc.explored} fleet state${doc.explored === 1 ? "" : "s"} evaluated)\n`,
    );
  });

  test("two nodes that block each other: the deadlock explained", async () => {
    const stuck = join(tmp.dir, "stuck.yaml");
    writeFileSync(
      stuck,
      [
        "name: stuck",
        "nodes:",
        "  - { name: p, kernel: 042stab061, cpu: intel-westmere-x5670, containers: [{ id: 1, tasks: [{ usedFpu: true }] }] }",
        "  - { name: q, kernel: 042stab061, cpu: intel-westmere-x5670, containers: [{ id: 2, tasks: [{ usedFpu: true }] }] }",
        "",
      ].join("\n"),
    );
    const { text, doc, code } = await both<UpgradeDoc>("upgrade-plan", stuck, "--to", "042stab093");
    expect(code).toBe(2);
    expect(doc.feasible).toBe(false);
    expect(text).toContain(
      "\nNo order of single-node upgrades keeps every running container movable.\n",
    );
    const d = doc.deadlock;
    if (d) {
      expect(text).toContain(`${d.nodes[0]} and ${d.nodes[1]} block each other`);
      expect(text).toContain(
        `  ${d.nodes[0]} first strands ${d.first.node}/${d.first.id}: ${d.first.why}\n`,
      );
    }
    const b = doc.blocked;
    if (!b) throw new Error("a stuck plan names what blocks it");
    expect(text).toContain(
      b.upgraded.length > 0 ? "Stuck after upgrading: " : "Stuck at the first step:\n",
    );
    for (const c of b.candidates)
      expect(text).toContain(
        `  upgrading ${c.node} next strands ${c.strands.node}/${c.strands.id}: ${c.strands.why}\n`,
      );
  });

  test("containers the target itself strands; nothing left to upgrade", async () => {
    // An AMD container that used sse4a: on 042stab061 (raw CPUID, no sse4a
    // check?) vs the target: whatever the engine says, the text lists it.
    const { text, doc } = await both<UpgradeDoc>("upgrade-plan", MIXED_FLEET);
    if (doc.strandedByTarget.length > 0) {
      expect(text).toContain(
        `\nNo complete plan: ${doc.strandedByTarget.length} running container`,
      );
      for (const c of doc.strandedByTarget.slice(0, 20))
        expect(text).toContain(`\n  ${c.node}/${c.id}: ${c.why}\n`);
    }
    if (doc.strandedAtStart.length > 0) {
      expect(text).toContain(
        `their node's step needs downtime): ${doc.strandedAtStart.map((c) => `${c.node}/${c.id}`).join(", ")}\n`,
      );
    }
    const done = join(tmp.dir, "done.yaml");
    writeFileSync(
      done,
      "name: done\nnodes:\n  - { name: a, kernel: 042stab109, cpu: intel-westmere-x5670 }\n",
    );
    const nothing = await both<UpgradeDoc>("upgrade-plan", done);
    expect(nothing.doc.steps).toEqual([]);
    expect(nothing.text).toContain("Nothing to upgrade.\n");
  });
});
