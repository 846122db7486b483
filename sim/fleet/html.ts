// `fleet report --html FILE` (and `fleet matrix --html FILE`): one
// self-contained page, no external resources. The heatmap is a table (rows
// source nodes or classes, columns destinations) coloured by verdict; hovering
// a cell shows its reasons, clicking pins them. The islands follow. The data
// the tooltips need is embedded as JSON and read by a few lines of script.

import type { CellCounts, IslandsDoc, MatrixDoc, PairDetail } from "./doc.ts";
import { VERDICT_NAMES, type VerdictName } from "./engine.ts";
import { hex } from "./pair.ts";

export const VERDICT_COLOURS: Readonly<Record<VerdictName, string>> = {
  self: "#e0e0e0",
  all: "#2e7d32",
  some: "#f9a825",
  none: "#c62828",
  version: "#6a1b9a",
  module: "#37474f",
  empty: "#a5d6a7",
};

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JSON safe inside <script>. */
const scriptJson = (v: unknown): string =>
  JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");

/** The tooltip lines of a pair (same words as the text output). */
export function pairLines(p: PairDetail): string[] {
  const lines =
    p.verdict === "version" || p.verdict === "module"
      ? [`${p.source} -> ${p.destination}: ${p.verdict}`]
      : [`${p.source} -> ${p.destination}: ${p.verdict} (${p.go} of ${p.running} running can go)`];
  if (p.verdict === "version" || p.verdict === "module") {
    if (p.nodeReason) lines.push(p.nodeReason.text);
    return lines;
  }
  for (const c of p.containers) {
    const why = c.reasons.map((r) => r.text).join("; ") || "refused";
    lines.push(
      `CT ${c.id}${c.name ? ` (${c.name})` : ""}${c.state !== "running" ? ` [${c.state}]` : ""}: ${why}`,
    );
  }
  if (p.containersOmitted) lines.push(`... ${p.containersOmitted} more refused`);
  return lines;
}

const dominant = (cell: CellCounts): VerdictName => {
  let best: VerdictName = "self";
  let n = 0;
  for (const v of VERDICT_NAMES) if ((cell[v] ?? 0) > n) [best, n] = [v, cell[v] ?? 0];
  return best;
};

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#212121}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table.heatmap{border-collapse:collapse}
table.heatmap td.cell{width:14px;height:14px;padding:0;border:1px solid #fff;cursor:pointer}
table.heatmap th{font-weight:normal;font-size:11px;padding:0 4px;white-space:nowrap}
table.heatmap th.col{writing-mode:vertical-rl;transform:rotate(180deg);height:auto}
.legend span{display:inline-block;margin-right:1em}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
#tip{position:fixed;display:none;max-width:40em;background:#fffde7;border:1px solid #999;padding:6px 8px;font-size:12px;white-space:pre-wrap;box-shadow:2px 2px 6px rgba(0,0,0,.3);z-index:10}
#tip.pinned{border-color:#000}
.island{margin:.4em 0}
.island b{display:inline-block;min-width:6em}
`;

const SCRIPT = `
(function(){
  var data=JSON.parse(document.getElementById('fleet-data').textContent);
  var tip=document.getElementById('tip');var pinned=null;
  function text(td){var k=td.getAttribute('data-key');var lines=data.tips[k];
    if(!lines){lines=[td.getAttribute('data-label')];}return lines.join('\\n');}
  function show(td,x,y){tip.textContent=text(td);tip.style.display='block';
    tip.style.left=Math.min(x+12,window.innerWidth-420)+'px';tip.style.top=(y+12)+'px';}
  var hm=document.getElementById('heatmap');
  hm.addEventListener('mouseover',function(e){var td=e.target.closest('td.cell');if(!td||pinned)return;show(td,e.clientX,e.clientY);});
  hm.addEventListener('mouseout',function(e){if(!pinned)tip.style.display='none';});
  hm.addEventListener('click',function(e){var td=e.target.closest('td.cell');if(!td)return;
    if(pinned===td){pinned=null;tip.classList.remove('pinned');tip.style.display='none';return;}
    pinned=td;show(td,e.clientX,e.clientY);tip.classList.add('pinned');});
})();
`;

function legend(): string {
  return `<p class="legend">${VERDICT_NAMES.map(
    (v) => `<span data-verdict="${v}"><i style="background:${VERDICT_COLOURS[v]}"></i>${v}</span>`,
  ).join("")}</p>`;
}

function nodeHeatmap(doc: MatrixDoc, tips: Record<string, string[]>): string {
  const m = doc.matrix;
  if (!m) return "";
  const pairs = new Map((doc.pairs ?? []).map((p) => [`${p.source}\u0000${p.destination}`, p]));
  const names = doc.nodes.map((n) => n.name);
  let h = `<table class="heatmap" id="heatmap"><thead><tr><th></th>${names.map((n) => `<th class="col">${esc(n)}</th>`).join("")}</tr></thead><tbody>`;
  m.verdict.forEach((row, i) => {
    const src = names[i] as string;
    h += `<tr><th class="row">${esc(src)}</th>`;
    row.forEach((v, j) => {
      const dst = names[j] as string;
      const key = `${i},${j}`;
      const p = pairs.get(`${src}\u0000${dst}`);
      const go = (m.go[i] as number[])[j] as number;
      const running = (doc.nodes[i] as { running: number }).running;
      const label =
        v === "self"
          ? `${src}: the node itself`
          : `${src} -> ${dst}: ${v}${v === "all" ? ` (${go} of ${running} running can go)` : ""}`;
      if (p) tips[key] = pairLines(p);
      h += `<td class="cell v-${v}" data-key="${key}" data-verdict="${v}" data-label="${esc(label)}" style="background:${VERDICT_COLOURS[v]}"></td>`;
    });
    h += "</tr>";
  });
  return `${h}</tbody></table>`;
}

function classHeatmap(doc: MatrixDoc, tips: Record<string, string[]>): string {
  const cm = doc.classMatrix;
  if (!cm) return "";
  const examples = new Map(cm.examples.map((e) => [`${e.row},${e.column}`, e.example]));
  const label = (c: MatrixDoc["classes"][number]) => `c${c.id} ${c.kernel} x${c.nodes}`;
  let h = `<table class="heatmap" id="heatmap"><thead><tr><th></th>${doc.classes.map((c) => `<th class="col">${esc(label(c))}</th>`).join("")}</tr></thead><tbody>`;
  cm.cells.forEach((row, r) => {
    h += `<tr><th class="row">${esc(label(doc.classes[r] as MatrixDoc["classes"][number]))}</th>`;
    row.forEach((cell, c) => {
      const key = `${r},${c}`;
      const v = Object.keys(cell).length === 0 ? "self" : dominant(cell);
      const counts = VERDICT_NAMES.filter((x) => cell[x])
        .map((x) => `${x}: ${cell[x]}`)
        .join(", ");
      const lines = [`class c${r} -> class c${c}: ${counts || "no pair"} (node pairs)`];
      const ex = examples.get(key);
      if (ex) lines.push("example:", ...pairLines(ex));
      tips[key] = lines;
      h += `<td class="cell v-${v}" data-key="${key}" data-verdict="${v}" data-label="${esc(lines[0] as string)}" style="background:${VERDICT_COLOURS[v]}"></td>`;
    });
    h += "</tr>";
  });
  return `${h}</tbody></table>`;
}

function islandsHtml(doc: IslandsDoc): string {
  const shown = doc.islands.slice(0, 200);
  let h = `<p>${doc.islands.length} islands (${doc.lone} lone nodes) in ${doc.groups} reach groups. Inside an island every running container of every node can go to every other node, both ways.</p><div id="islands">`;
  for (const i of shown) {
    const nodes = i.nodes.slice(0, 40).map(esc).join(", ") + (i.size > 40 ? ", ..." : "");
    h += `<div class="island" data-island="${i.id}" data-size="${i.size}"><b>island ${i.id}${i.split ? "*" : ""}</b> ${i.size} node${i.size === 1 ? "" : "s"}: ${nodes}</div>`;
  }
  if (doc.islands.length > shown.length)
    h += `<p>... ${doc.islands.length - shown.length} more</p>`;
  const oneWay = doc.edges.filter((e) => e.oneWay).slice(0, 200);
  if (oneWay.length > 0) {
    h += `<h3>One-way edges</h3><ul id="edges">${oneWay.map((e) => `<li>island ${e.from} &rarr; island ${e.to}: ${e.pairs} of ${e.of} node pairs take everything</li>`).join("")}</ul>`;
  }
  return `${h}</div>`;
}

export function reportHtml(matrix: MatrixDoc, islands: IslandsDoc | null): string {
  const tips: Record<string, string[]> = {};
  const heat = matrix.detail === "node" ? nodeHeatmap(matrix, tips) : classHeatmap(matrix, tips);
  const f = matrix.fleet;
  const r = matrix.reach;
  const nodesTable =
    matrix.detail === "node"
      ? `<h2>Nodes</h2><table id="nodes"><tr><th>node</th><th>kernel</th><th>cpu</th><th>version</th><th>running</th></tr>${matrix.nodes
          .map(
            (n) =>
              `<tr><td>${esc(n.name)}</td><td>${esc(n.kernel)}</td><td>${esc(n.cpu)}</td><td>${n.version === null ? "-" : hex(n.version)}</td><td>${n.running}</td></tr>`,
          )
          .join("")}</table>`
      : "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Fleet ${esc(f.name)}: migration matrix</title>
<style>${STYLE}</style></head><body>
<h1>Fleet ${esc(f.name)}</h1>
<p id="summary">${f.nodes} nodes, ${f.containers.total} containers (${f.containers.running} running, ${f.containers.stopped} stopped, ${f.containers.locked} locked). Running containers with at least one destination: ${r.reachable} of ${r.running}.</p>
<h2>Who can take whose containers</h2>
<p>Rows: source ${matrix.detail === "node" ? "nodes" : "node classes"}; columns: destination ${matrix.detail === "node" ? "nodes" : "node classes"}. Hover a cell for the reasons, click to pin them.${matrix.detail === "class" ? " Each cell is coloured by the most common verdict among its node pairs." : ""}</p>
${legend()}
${heat}
${islands ? `<h2>Islands</h2>${islandsHtml(islands)}` : ""}
${nodesTable}
<p><small>${matrix.notes.map(esc).join(" ")}</small></p>
<div id="tip"></div>
<script type="application/json" id="fleet-data">${scriptJson({ tips })}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
