// Readable tables for `vzcptsim fleet ...` (the default output), rendered
// from the JSON documents of doc.ts. Long lists are cut with a note pointing
// at --json / --node, so a 10,000-node fleet still prints a page, not a book.

import type {
  BaselineDoc,
  CellCounts,
  FleetInfo,
  IslandsDoc,
  MatrixDoc,
  NodeDoc,
  PairDetail,
  UpgradeDoc,
  WhatIfDoc,
} from "./doc.ts";
import { VERDICT_NAMES, type VerdictName } from "./engine.ts";
import { hex } from "./pair.ts";

export const SYMBOL: Readonly<Record<VerdictName, string>> = {
  self: ".",
  all: "A",
  some: "s",
  none: "x",
  version: "V",
  module: "M",
  empty: "e",
};

const LEGEND =
  "A all running CTs can go   s some   x none   V image version refused   M vzcpt/vzrst missing\n" +
  "e nothing running on the source   . the node itself\n";

const plural = (n: number, word: string): string =>
  `${n} ${word}${n === 1 ? "" : word.endsWith("s") ? "es" : "s"}`;
const pctOf = (a: number, b: number): string =>
  b === 0 ? "100%" : `${((100 * a) / b).toFixed(1)}%`;

export function fleetLine(f: FleetInfo): string {
  const c = f.containers;
  return `Fleet ${f.name}: ${plural(f.nodes, "node")}, ${plural(c.total, "container")} (${c.running} running, ${c.stopped} stopped, ${c.locked} locked)\n`;
}

function table(
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number> = new Set(),
): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((r) =>
      r
        .map((cell, i) =>
          right.has(i) ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number),
        )
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
    .concat("\n");
}

function cut<T>(items: readonly T[], max: number, render: (t: T) => string, hint: string): string {
  const shown = items.slice(0, max).map(render).join("");
  return items.length > max ? `${shown}  ... ${items.length - max} more (${hint})\n` : shown;
}

function pairBlock(p: PairDetail): string {
  const head =
    p.verdict === "version" || p.verdict === "module"
      ? `${p.source} -> ${p.destination}: ${p.verdict}`
      : `${p.source} -> ${p.destination}: ${p.verdict} (${p.go} of ${p.running} running can go)`;
  const lines = [head];
  if (p.verdict === "version" || p.verdict === "module") {
    if (p.nodeReason) lines.push(`    ${p.nodeReason.text}`);
    return `${lines.join("\n")}\n`;
  }
  for (const c of p.containers) {
    const name = c.name ? ` (${c.name})` : "";
    const how =
      c.vecapsResult !== null
        ? ` [VECAPS ${c.vecapsResult}]`
        : c.state !== "running"
          ? ` [${c.state}]`
          : "";
    const why = c.reasons.map((r) => r.text).join("; ") || "refused";
    lines.push(`    CT ${c.id}${name}: ${why}${how}`);
  }
  if (p.containersOmitted)
    lines.push(`    ... ${p.containersOmitted} more refused (see --node ${p.source})`);
  return `${lines.join("\n")}\n`;
}

export function matrixText(doc: MatrixDoc, maxPairs = 60): string {
  let out = fleetLine(doc.fleet);
  const r = doc.reach;
  out += `Running containers with at least one destination: ${r.reachable} of ${r.running} (${pctOf(r.reachable, r.running)}); stranded: ${r.stranded}\n\n`;
  if (doc.detail === "node" && doc.matrix) {
    const N = doc.nodes.length;
    const w = String(N).length;
    out += "Verdict of every source node (row) -> destination node (column):\n";
    out += LEGEND;
    const nameW = Math.max(...doc.nodes.map((n) => n.name.length));
    const head = `${"".padStart(w)}  ${"".padEnd(nameW)}  ${doc.nodes.map((_, j) => String(j + 1).padStart(w)).join(" ")}`;
    out += `\n${head.trimEnd()}\n`;
    doc.matrix.verdict.forEach((row, i) => {
      const node = doc.nodes[i] as MatrixDoc["nodes"][number];
      out += `${String(i + 1).padStart(w)}  ${node.name.padEnd(nameW)}  ${row.map((v) => SYMBOL[v].padStart(w)).join(" ")}\n`;
    });
    out += "\nNodes:\n";
    out += table(
      doc.nodes.map((n, i) => [
        String(i + 1),
        n.name,
        n.kernel,
        n.cpu,
        n.version === null ? "-" : hex(n.version),
        `${n.running} running`,
        n.stopped > 0 ? `${n.stopped} stopped` : "",
        n.locked > 0 ? `${n.locked} locked` : "",
      ]),
    );
    const pairs = doc.pairs ?? [];
    out +=
      pairs.length === 0
        ? "\nNo refusals.\n"
        : `\nRefusals (${plural(pairs.length, "node pair")}):\n`;
    out += cut(pairs, maxPairs, pairBlock, "see --json, or --node NODE");
    out += "\nRunning containers and their destinations:\n";
    const running = doc.containers.filter((c) => c.state === "running");
    out += cut(
      running,
      200,
      (c) =>
        `  ${c.node}/${c.id}${c.name ? ` (${c.name})` : ""}: ${c.destinations === 0 ? "no destination" : `${plural(c.destinations, "destination")}: ${(c.accepting ?? []).join(", ")}`}\n`,
      "see --json",
    );
    const other = doc.containers.filter((c) => c.state !== "running");
    if (other.length > 0) {
      out +=
        "Not running (not counted in node verdicts; stopped: vzmigrate's suspended check, locked: refused):\n";
      out += cut(
        other,
        100,
        (c) => `  ${c.node}/${c.id} [${c.state}]: ${plural(c.destinations, "destination")}\n`,
        "see --json",
      );
    }
    return out;
  }
  return out + classMatrixText(doc, maxPairs);
}

const dominant = (cell: CellCounts): VerdictName | null => {
  let best: VerdictName | null = null;
  for (const v of VERDICT_NAMES) if ((cell[v] ?? 0) > (best ? (cell[best] ?? 0) : 0)) best = v;
  return best;
};

function classMatrixText(doc: MatrixDoc, maxPairs: number): string {
  const cm = doc.classMatrix;
  if (!cm) return "";
  let out = `${plural(doc.classes.length, "node class")} (nodes of a class answer every check alike: kernel, reported caps, vzrst):\n`;
  const byNodes = [...doc.classes].sort((a, b) => b.nodes - a.nodes || a.id - b.id);
  const shown = byNodes.slice(0, 40);
  out += table(
    [
      ["class", "nodes", "kernel", "caps", "examples"],
      ...shown.map((c) => [
        `c${c.id}`,
        String(c.nodes),
        c.kernel,
        c.caps === null ? "-" : hex(c.caps),
        c.examples.slice(0, 3).join(", ") + (c.nodes > 3 ? ", ..." : ""),
      ]),
    ],
    new Set([1]),
  );
  if (byNodes.length > shown.length)
    out += `  ... ${byNodes.length - shown.length} more classes (see --json)\n`;
  const totals: Record<string, number> = {};
  for (const row of cm.cells)
    for (const cell of row)
      for (const [v, n] of Object.entries(cell)) totals[v] = (totals[v] ?? 0) + (n ?? 0);
  const all = Object.values(totals).reduce((s, n) => s + n, 0);
  out += `\nNode pairs by verdict (${all} ordered pairs):\n`;
  for (const v of VERDICT_NAMES)
    if (totals[v])
      out += `  ${v.padEnd(8)} ${String(totals[v]).padStart(12)}  ${pctOf(totals[v] as number, all)}\n`;
  out += `\nMost common verdict between the ${shown.length} largest classes (rows: source class, columns: destination class):\n${LEGEND}\n`;
  const ids = shown.map((c) => c.id);
  const w = Math.max(3, ...ids.map((i) => `c${i}`.length));
  out += `${"".padEnd(w)} ${ids.map((i) => `c${i}`.padStart(w)).join(" ")}\n`;
  for (const r of ids) {
    const row = cm.cells[r] as CellCounts[];
    out += `${`c${r}`.padEnd(w)} ${ids
      .map((c) => {
        const d = dominant(row[c] as CellCounts);
        return (d ? SYMBOL[d] : ".").padStart(w);
      })
      .join(" ")}\n`;
  }
  const ex = cm.examples.filter((e) => e.example !== null);
  out += `\nExample refusals per class pair (${plural(ex.length, "class pair")} with refusals):\n`;
  out += cut(
    ex,
    maxPairs,
    (e) => `[c${e.row} -> c${e.column}] ${pairBlock(e.example as PairDetail)}`,
    "see --json, or --node NODE",
  );
  const stranded = doc.containers.filter((c) => c.state === "running" && c.destinations === 0);
  out += `\nRunning containers with no destination: ${stranded.length}\n`;
  out += cut(
    stranded,
    20,
    (c) => `  ${c.node}/${c.id}${c.messages.length > 0 ? `: ${c.messages[0]}` : ""}\n`,
    "see --json, or --node NODE",
  );
  const buckets = [0, 1, 10, 100, 1000, 10000, Number.POSITIVE_INFINITY];
  const running = doc.containers.filter((c) => c.state === "running");
  out += "Running containers by number of destinations:\n";
  for (let i = 0; i + 1 < buckets.length; i++) {
    const lo = buckets[i] as number;
    const hi = (buckets[i + 1] as number) - 1;
    const n = running.filter((c) => c.destinations >= lo && c.destinations <= hi).length;
    if (n > 0)
      out +=
        `  ${lo === hi ? String(lo) : `${lo}-${Number.isFinite(hi) ? hi : "..."}`}`.padEnd(14) +
        `${n}\n`;
  }
  return out;
}

export function nodeText(doc: NodeDoc): string {
  const n = doc.node;
  let out = fleetLine(doc.fleet);
  out += `Node ${n.name}: ${n.kernel}, ${n.cpu}, version ${n.version === null ? "-" : hex(n.version)}, caps ${n.caps ?? "-"}\n`;
  out += `  flags: ${n.flagNames.join(" ")}\n\nAs the source:\n`;
  out += table(
    doc.outgoing.map((p) => [
      `  -> ${p.destination}`,
      p.verdict,
      p.verdict === "version" || p.verdict === "module" ? "" : `${p.go}/${p.running} can go`,
    ]),
  );
  const refusing = doc.outgoing.filter((p) => p.containers.length > 0);
  if (refusing.length > 0) out += `\nRefusals:\n${cut(refusing, 200, pairBlock, "see --json")}`;
  out += "\nAs the destination:\n";
  out += table(
    doc.incoming.map((p) => [
      `  <- ${p.source}`,
      p.verdict,
      p.verdict === "version" || p.verdict === "module" ? "" : `${p.go}/${p.running} can go`,
    ]),
  );
  out += "\nContainers:\n";
  for (const c of doc.containers) {
    out += `  ${c.id}${c.name ? ` (${c.name})` : ""} [${c.state}, ${c.check}]: ${plural(c.destinations, "destination")}${c.accepting && c.accepting.length > 0 ? `: ${c.accepting.join(", ")}` : ""}\n`;
    for (const m of c.messages) out += `      kernel: ${m}\n`;
    out += cut(c.refusedBy, 20, (r) => `      refused by ${r.node}: ${r.text}\n`, "see --json");
  }
  return out;
}

export function islandsText(doc: IslandsDoc, maxIslands = 40): string {
  let out = fleetLine(doc.fleet);
  const multi = doc.islands.filter((i) => i.size > 1);
  out += `${plural(doc.islands.length, "island")} (${multi.length} of two or more nodes, ${doc.lone} lone nodes) in ${plural(doc.groups, "reach group")}.\n`;
  out +=
    "Inside an island every running container of every node can go to every other node, both ways.\n";
  if (doc.islands.some((i) => i.split)) {
    out +=
      "Islands marked * were cut from a larger reach group (nodes that reach each other only through a third node).\n";
  }
  out += "\n";
  const summary = (rec: Record<string, number>): string =>
    Object.entries(rec)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, n]) => `${k} x${n}`)
      .join(", ") + (Object.keys(rec).length > 3 ? ", ..." : "");
  out += cut(
    doc.islands,
    maxIslands,
    (i) =>
      `island ${i.id}${i.split ? "*" : ""} (${plural(i.size, "node")}): ${i.nodes.slice(0, 8).join(", ")}${i.size > 8 ? ", ..." : ""}\n    kernels: ${summary(i.kernels)}; cpus: ${summary(i.cpus)}\n`,
    "see --json",
  );
  const oneWay = doc.edges.filter((e) => e.oneWay);
  out += `\nOne-way edges between islands (${oneWay.length}${doc.edgesComplete ? "" : "+, counting stopped early"}): containers can go from -> to, never back:\n`;
  out += cut(
    oneWay,
    40,
    (e) =>
      `  island ${e.from} -> island ${e.to}: ${e.pairs} of ${e.of} node pairs take everything\n`,
    "see --json",
  );
  const both = doc.edges.filter((e) => !e.oneWay && e.from < e.to);
  if (both.length > 0) {
    out += `Partial both ways (split reach groups): ${both.length}\n`;
    out += cut(
      both,
      20,
      (e) =>
        `  island ${e.from} <-> island ${e.to}: ${e.pairs} of ${e.of} node pairs forward, ${e.back} back\n`,
      "see --json",
    );
  }
  return out;
}

export function baselineText(doc: BaselineDoc): string {
  let out = fleetLine(doc.fleet);
  out += `CPU features (CPT flags) every node has today: ${doc.commonNow.join(" ") || "-"}\n`;
  out += `Baseline mask hides: ${doc.hide.join(" ") || "nothing"}\n`;
  out += `Under it every node reports at least: ${doc.common.join(" ")}\n\n`;
  const rows = doc.nodes.filter((n) => n.loses.length > 0 || n.residual.length > 0);
  out +=
    rows.length === 0
      ? "No node loses anything.\n"
      : "What each node loses (and what stays different):\n";
  out += cut(
    rows,
    60,
    (n) =>
      `  ${n.name} (${n.kernel}): loses ${n.loses.join(" ") || "-"}${n.residual.length > 0 ? `; still has ${n.residual.join(" ")}: ${n.residualWhy}` : ""}\n`,
    "see --json",
  );
  const s = (x: BaselineDoc["before"]) =>
    `${x.reachable}/${x.running} running CTs reach another node (${pctOf(x.reachable, x.running)}), ${x.fullPairs} node pairs take everything, ${plural(x.islands, "island")}`;
  out += `\nBefore: ${s(doc.before)}\nAfter:  ${s(doc.after)}\n`;
  const o = doc.optimised;
  if (o) {
    out += `\nOptimiser (at least ${o.minReachPercent}% of running containers reach another node):\n`;
    if (!o.met) {
      out += `  not reachable: best found ${o.reachPercent.toFixed(1)}% (no mask ${o.reachWithoutMask.toFixed(1)}%, baseline mask ${o.reachWithBaseline.toFixed(1)}%); what blocks the rest is not only the CPU: see fleet matrix\n`;
    } else if (o.hide.length === 0) {
      out += `  no mask needed: ${o.reachWithoutMask.toFixed(1)}% without one\n`;
    } else {
      out += `  hide: ${o.hide.join(" ")}\n  keeps (beyond the baseline): ${o.keep.join(" ") || "-"}\n`;
      out += `  reach: ${o.reachable}/${o.running} (${o.reachPercent.toFixed(1)}%; no mask ${o.reachWithoutMask.toFixed(1)}%, baseline ${o.reachWithBaseline.toFixed(1)}%)\n`;
      out += `  mask: ${JSON.stringify(Object.fromEntries(Object.entries(o.mask).map(([k, v]) => [k, hex(v as number)])))}\n`;
    }
    out += `  (${plural(o.evaluations, "fleet evaluation")})\n`;
  }
  return out;
}

export function whatIfText(doc: WhatIfDoc): string {
  let out = `Before: ${fleetLine(doc.fleet)}After:  ${fleetLine(doc.after)}`;
  out += `Changes:\n${doc.changes.map((c) => `  ${c.text}\n`).join("")}`;
  if (doc.nodesAdded.length > 0) out += `Nodes added: ${doc.nodesAdded.join(", ")}\n`;
  if (doc.nodesRemoved.length > 0) out += `Nodes removed: ${doc.nodesRemoved.join(", ")}\n`;
  const rb = doc.reach.before;
  const ra = doc.reach.after;
  out += `\nRunning containers reaching another node: ${rb.reachable}/${rb.running} -> ${ra.reachable}/${ra.running}\n`;
  out += `Islands: ${doc.islands.before} -> ${doc.islands.after} (node pairs separated: ${doc.islands.pairsSeparated}, joined: ${doc.islands.pairsJoined})\n`;
  out += `Node pairs changed: ${doc.pairsChanged} of ${doc.pairsCompared}\n`;
  for (const t of doc.transitions) out += `  ${t.before} -> ${t.after}: ${t.pairs}\n`;
  if (doc.examples.length > 0) {
    out += "Changed pairs:\n";
    out += cut(
      doc.examples,
      40,
      (e) => `  ${e.source} -> ${e.destination}: ${e.before} -> ${e.after}\n`,
      "see --json",
    );
  }
  if (doc.stranded.length > 0) {
    out += `Containers losing their last destination (${doc.stranded.length}):\n`;
    out += cut(doc.stranded, 30, (c) => `  ${c.node}/${c.id} (had ${c.before})\n`, "see --json");
  }
  if (doc.rescued.length > 0) {
    out += `Containers gaining a first destination (${doc.rescued.length}):\n`;
    out += cut(doc.rescued, 30, (c) => `  ${c.node}/${c.id} (now ${c.after})\n`, "see --json");
  }
  return out;
}

export function upgradeText(doc: UpgradeDoc): string {
  let out = fleetLine(doc.fleet);
  out += `Target kernel: ${doc.target}\n`;
  if (doc.skipped.length > 0) {
    out += `Already there (or newer): ${doc.skipped.map((s) => s.node).join(", ")}\n`;
  }
  if (doc.strandedAtStart.length > 0) {
    const list = doc.strandedAtStart.map((c) => `${c.node}/${c.id}`);
    out += `Running containers with no destination before any upgrade (their node's step needs downtime): ${list.join(", ")}\n`;
  }
  if (doc.strandedByTarget.length > 0) {
    out += `\nNo complete plan: ${plural(doc.strandedByTarget.length, "running container")} lose every destination once all nodes run ${doc.target}, in any order:\n`;
    out += cut(doc.strandedByTarget, 20, (c) => `  ${c.node}/${c.id}: ${c.why}\n`, "see --json");
    out +=
      "Plan their downtime, or add a node that takes them (fleet what-if ... add-node FILE).\n";
  }
  const ordered = doc.steps.length > 0 || doc.feasible;
  if (ordered) {
    const who =
      doc.strandedByTarget.length > 0 ? "every other running container" : "every running container";
    out +=
      doc.steps.length === 0
        ? "Nothing to upgrade.\n"
        : `\nPlan (${plural(doc.steps.length, "step")}); after each step ${who} still has a destination:\n`;
    doc.steps.forEach((s, i) => {
      const down = s.downtime.length > 0 ? `; downtime for ${s.downtime.join(", ")}` : "";
      out += `  ${String(i + 1).padStart(3)}. ${s.node}: ${s.from} -> ${s.to} (evacuate ${s.evacuate} running; fewest destinations after: ${s.minDestinations}${down})\n`;
    });
  } else {
    out += "\nNo order of single-node upgrades keeps every running container movable.\n";
    const d = doc.deadlock;
    if (d) {
      out += `${d.nodes[0]} and ${d.nodes[1]} block each other: upgrading either first strands a container of the other\n`;
      out += `  (checked with only one of them upgraded and with every other node upgraded):\n`;
      out += `  ${d.nodes[0]} first strands ${d.first.node}/${d.first.id}: ${d.first.why}\n`;
      out += `  ${d.nodes[1]} first strands ${d.second.node}/${d.second.id}: ${d.second.why}\n`;
      out +=
        "  Upgrade them in one window (evacuate both first), or add a spare node on the target kernel.\n";
    }
    if (doc.budgetExhausted)
      out += `(search stopped after ${doc.explored} fleet states: raise --budget)\n`;
    const b = doc.blocked;
    if (b) {
      out +=
        b.upgraded.length > 0
          ? `Stuck after upgrading: ${b.upgraded.join(", ")}\n`
          : "Stuck at the first step:\n";
      out += cut(
        b.candidates,
        20,
        (c) =>
          `  upgrading ${c.node} next strands ${c.strands.node}/${c.strands.id}: ${c.strands.why}\n`,
        "see --json",
      );
      out +=
        "Options: add a spare node already on the target kernel (fleet what-if ... add-node FILE),\nor plan the stranded containers' downtime.\n";
    }
  }
  out += `(${plural(doc.explored, "fleet state")} evaluated)\n`;
  return out;
}
