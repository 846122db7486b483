// `make coverage`'s last step: line coverage of src/ and sim/ from Bun's
// lcov report. Bun only reports files some test loaded, so every src/ or sim/
// module no test imports is added as entirely uncovered (its executable lines
// estimated as the non-blank lines of its type-stripped JavaScript); without
// that the figure would flatter us.
//
//   bun test/coverage-summary.ts [coverage/lcov.info]

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const lcovPath = resolve(process.argv[2] ?? join(ROOT, "coverage/lcov.info"));
const DIRS = ["src", "sim"];

interface FileCov {
  found: number;
  hit: number;
  loaded: boolean;
}

function readLcov(path: string): Map<string, FileCov> {
  const out = new Map<string, FileCov>();
  let file: string | null = null;
  let found = 0;
  let hit = 0;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.startsWith("SF:")) {
      file = relative(ROOT, resolve(ROOT, line.slice(3)));
      found = 0;
      hit = 0;
    } else if (line.startsWith("LF:")) found = Number(line.slice(3));
    else if (line.startsWith("LH:")) hit = Number(line.slice(3));
    else if (line === "end_of_record" && file !== null) {
      out.set(file, { found, hit, loaded: true });
      file = null;
    }
  }
  return out;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Executable lines of a module nobody loaded: its JS without types, imports and blanks. */
function estimateLines(file: string): number {
  let js: string;
  try {
    js = transpiler.transformSync(readFileSync(join(ROOT, file), "utf8"));
  } catch {
    return 0;
  }
  return js
    .split("\n")
    .map((l) => l.trim())
    .filter(
      (l) => l !== "" && !l.startsWith("import ") && !l.startsWith("//") && l !== "}" && l !== "};",
    ).length;
}

let lcov: Map<string, FileCov>;
try {
  lcov = readLcov(lcovPath);
} catch {
  console.error(
    `coverage-summary: cannot read ${lcovPath} (run bun test --coverage --coverage-reporter=lcov first)`,
  );
  process.exit(1);
}

const rows: [string, FileCov][] = [];
for (const dir of DIRS) {
  for (const f of sources(dir).sort()) {
    const c = lcov.get(f) ?? { found: estimateLines(f), hit: 0, loaded: false };
    if (c.found > 0) rows.push([f, c]);
  }
}

const pct = (hit: number, found: number): string =>
  found === 0 ? "100.00" : ((100 * hit) / found).toFixed(2);
const sum = (rs: [string, FileCov][]) =>
  rs.reduce((a, [, c]) => ({ found: a.found + c.found, hit: a.hit + c.hit }), { found: 0, hit: 0 });

const low = rows
  .filter(([, c]) => c.hit / c.found < 0.9)
  .sort((a, b) => a[1].hit / a[1].found - b[1].hit / b[1].found);
if (low.length > 0) {
  console.log("\nFiles under 90% line coverage:");
  for (const [f, c] of low) {
    const note = c.loaded ? "" : "  (no test loads it: counted as uncovered)";
    console.log(`  ${pct(c.hit, c.found).padStart(6)}%  ${f}  ${c.hit}/${c.found}${note}`);
  }
}
console.log("");
for (const dir of DIRS) {
  const t = sum(rows.filter(([f]) => f.startsWith(`${dir}/`)));
  console.log(`Line coverage of ${dir}/: ${pct(t.hit, t.found)}% (${t.hit}/${t.found} lines)`);
}
const all = sum(rows);
const unloaded = rows.filter(([, c]) => !c.loaded).length;
console.log(
  `Line coverage of src/ and sim/: ${pct(all.hit, all.found)}% (${all.hit}/${all.found} lines; ` +
    `${unloaded} module(s) no test loads are counted as uncovered)`,
);
