// `vzcptcheck explain CAPS [DESTCAPS] [--kernel GEN] [--json]`: argv, text and
// JSON output. The analysis itself is in explain.ts. Loaded only when the
// first argument is "explain", so the original commands never pay for it.
//
// JSON (schemaVersion 1; any change of this shape changes schemaVersion):
//   {
//     "schemaVersion": 1,
//     "command": "explain",
//     "generation": { "id": "042stab109", "title": "...",
//                     "source": "option" | "node" | "assumed",  // --kernel, uname, newest
//                     "release": "2.6.32-042stab113.11" | null }, // this node's, when read
//     "caps":     { "value": 771913119, "hex": "0x2e02759f", "bits": [Bit...] },
//     "destCaps": { "value": ..., "hex": ..., "bits": [Bit...] } | null,   // null: one word
//     "labelBug": false,               // the generation tests sse4_1 under "sse4_2"
//     "findings": [Finding...] | null, // failing checks in the kernel's order
//     "ignored":  [{ "bit", "name", "reason" }...] | null, // lacking but unchecked
//     "result":   0..5 | null,         // what CPT_TEST_VECAPS returns
//     "refused":  true | false | null  // result != 0
//   }
//   Bit     = { "bit", "name", "class" (isa|fpu|abi|os|unsupported|unknown),
//               "classTitle", "meaning", "remedy", "defined", "note" (string|null) }
//   Finding = Bit + { "check" (cpu|slm|unsupported|ipv6|namespaces),
//               "label" (string|null), "kernelMessage" (string|null), "result" }

import type { Output } from "./backend.ts";
import {
  GENERATION_BY_ID,
  GENERATIONS,
  type Generation,
  generationFromRelease,
  NEWEST_GENERATION,
} from "./cpt/generations.ts";
import {
  type BitInfo,
  type Comparison,
  compareWords,
  explainWord,
  hasLabelBug,
} from "./explain.ts";
import { hex32, parseWord, wordError } from "./numbers.ts";

/** What explain needs to know about this machine. */
export interface ExplainHost {
  /** This node's kernel release (uname -r), or null when it cannot be read. */
  release(): string | null;
}

const GEN_IDS = GENERATIONS.map((g) => g.id).join(", ");

export const EXPLAIN_HELP = `Usage: vzcptcheck explain CAPS [DESTCAPS] [--kernel GEN] [--json]

Name the bits of a CPT capability word, or say why a migration check refuses.

  CAPS            every bit set in CAPS, by name and class
  CAPS DESTCAPS   what DESTCAPS lacks that CAPS has, in the order in which the
                  kernel's running-container check (CPT_TEST_VECAPS) tests it,
                  each with its class, meaning and remedy
  --kernel GEN    read the words as kernel generation GEN (for two words: the
                  source node's kernel); default: this node's kernel, or the
                  newest generation if this node does not run OpenVZ
  --json          print one JSON object (see vzcptcheck(8)) instead of text
  -h, --help      print this help

CAPS is the source's word: a container's flags, or the source node's
\`vzcptcheck caps\` as an upper bound for any container on it. DESTCAPS is
\`vzcptcheck caps\` run on the destination node. Numbers are decimal or 0x-hex,
from 0 to 4294967295.

Generations: ${GEN_IDS}

Exit status: 0 one word explained, or nothing missing; 2 the destination
lacks something the kernel checks; 1 bad input.
`;

interface Options {
  words: string[];
  kernel: string | null;
  json: boolean;
  help: boolean;
}

class BadInput {
  constructor(readonly message: string) {}
}

function parseOptions(args: readonly string[]): Options {
  const o: Options = { words: [], kernel: null, json: false, help: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--help" || a === "-h") o.help = true;
    else if (a === "--json") o.json = true;
    else if (a === "--kernel") {
      const v = args[++i];
      if (v === undefined) throw new BadInput(`--kernel needs a generation: ${GEN_IDS}`);
      o.kernel = v;
    } else if (a.startsWith("--kernel=")) o.kernel = a.slice("--kernel=".length);
    else if (a.startsWith("-") && a.length > 1 && !/^-[0-9]/.test(a)) {
      throw new BadInput(`unknown option ${JSON.stringify(a)} (see vzcptcheck explain --help)`);
    } else o.words.push(a);
  }
  return o;
}

type GenSource = "option" | "node" | "assumed";
interface Chosen {
  gen: Generation;
  source: GenSource;
  release: string | null;
}

function chooseGeneration(kernel: string | null, host: ExplainHost): Chosen {
  if (kernel !== null) {
    const gen = GENERATION_BY_ID.get(kernel);
    if (!gen) {
      throw new BadInput(
        `unknown kernel generation ${JSON.stringify(kernel)}: valid ids are ${GEN_IDS}`,
      );
    }
    return { gen, source: "option", release: null };
  }
  let release: string | null = null;
  try {
    release = host.release();
  } catch {
    release = null; // no uname: treated like a kernel we do not recognise
  }
  const gen = release === null ? null : generationFromRelease(release);
  return gen
    ? { gen, source: "node", release }
    : { gen: NEWEST_GENERATION, source: "assumed", release };
}

function genLine(c: Chosen): string {
  const head = `${c.gen.id} (${c.gen.title})`;
  if (c.source === "option") return `${head}, chosen with --kernel`;
  if (c.source === "node") return `${head}, this node's kernel ${c.release}`;
  const why =
    c.release === null
      ? "this node's kernel release is unknown"
      : `this node's kernel ${c.release} is not OpenVZ`;
  return `${head}, assumed: ${why} (choose with --kernel GEN)`;
}

const pad = (s: string, n: number): string => (s.length >= n ? `${s} ` : s.padEnd(n));
const wordText = (w: number): string => `${hex32(w)} (${w})`;

function bitsTable(bits: readonly BitInfo[]): string {
  if (bits.length === 0) return "  (no bits set)\n";
  let text = `  ${pad("bit", 5)}${pad("name", 20)}${pad("class", 31)}meaning\n`;
  for (const b of bits) {
    text += `  ${pad(String(b.bit).padStart(3), 5)}${pad(b.name, 20)}${pad(b.classTitle, 31)}${b.meaning}\n`;
    if (b.note) text += `  ${" ".repeat(5)}note: ${b.note}\n`;
  }
  return text;
}

const RESULT_MEANING: Readonly<Record<number, string>> = {
  1: "the destination CPU lacks a feature the source uses",
  2: "the source uses something the kernel cannot migrate",
  3: "IPv6 is not loaded on the destination",
  4: "SLM without slm_dmprst on the destination",
  5: "the destination cannot migrate mount namespaces",
};

function labelBugText(g: Generation): string {
  return (
    `Note: ${g.id} has the sse4_2 label bug: it tests sse4_1 (bit 13) under the label ` +
    `"sse4_2" and never compares the real sse4_2 bit (14); fixed in 042stab093.5.\n`
  );
}

function comparisonText(caps: number, dest: number, c: Chosen, cmp: Comparison): string {
  let text = `Source       ${wordText(caps)}\nDestination  ${wordText(dest)}\nKernel       ${genLine(c)}\n\n`;
  if (cmp.labelBug) text += `${labelBugText(c.gen)}\n`;
  const n = cmp.findings.length;
  if (n === 0) {
    text += "The destination lacks nothing that the kernel checks.\n";
  } else {
    text += `CPT_TEST_VECAPS on ${c.gen.id} fails ${n === 1 ? "1 check" : `${n} checks`}, in the kernel's order:\n`;
    cmp.findings.forEach((f, i) => {
      const shown =
        f.label !== null && f.label !== f.name ? `${f.label} (tests ${f.name})` : f.name;
      text += `  ${i + 1}. ${shown}  [${f.check}; bit ${f.bit}; ${f.classTitle}]: ${f.meaning}\n`;
      const said = f.kernelMessage === null ? "no message" : `Error: ${f.kernelMessage}`;
      text += `     kernel: ${said} (result ${f.result})\n`;
      if (f.note) text += `     note: ${f.note}\n`;
      text += `     remedy: ${f.remedy}\n`;
    });
  }
  if (cmp.ignored.length > 0) {
    text += "\nLacking but not checked by the kernel:\n";
    for (const x of cmp.ignored) text += `  - ${x.name} (bit ${x.bit}): ${x.reason}\n`;
  }
  text +=
    cmp.result === 0
      ? "\nVerdict: passes: CPT_TEST_VECAPS returns 0 (vzcptcheck caps VEID DESTCAPS exits 0).\n"
      : `\nVerdict: refused: CPT_TEST_VECAPS returns ${cmp.result} (${RESULT_MEANING[cmp.result]}); ` +
        `vzcptcheck caps VEID DESTCAPS exits 2.\n`;
  return text;
}

const wordJson = (w: number, g: Generation) => ({
  value: w,
  hex: hex32(w),
  bits: explainWord(w, g),
});

function json(caps: number, dest: number | null, c: Chosen, cmp: Comparison | null): string {
  const doc = {
    schemaVersion: 1,
    command: "explain",
    generation: { id: c.gen.id, title: c.gen.title, source: c.source, release: c.release },
    caps: wordJson(caps, c.gen),
    destCaps: dest === null ? null : wordJson(dest, c.gen),
    labelBug: hasLabelBug(c.gen),
    findings: cmp ? cmp.findings : null,
    ignored: cmp ? cmp.ignored : null,
    result: cmp ? cmp.result : null,
    refused: cmp ? cmp.result !== 0 : null,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Run `vzcptcheck explain ARGS`; returns the exit code. */
export function runExplain(args: readonly string[], host: ExplainHost, out: Output): number {
  try {
    const o = parseOptions(args);
    if (o.help) {
      out.stdout(EXPLAIN_HELP);
      return 0;
    }
    if (o.words.length === 0) throw new BadInput("missing CAPS (see vzcptcheck explain --help)");
    if (o.words.length > 2) {
      throw new BadInput(`too many words: expected CAPS [DESTCAPS], got ${o.words.length}`);
    }
    const [capsText, destText] = o.words as [string, string | undefined];
    const caps = parseWord(capsText);
    if (caps === null) {
      out.stderr(wordError("explain", "CAPS", capsText));
      return 1;
    }
    const dest = destText === undefined ? null : parseWord(destText);
    if (destText !== undefined && dest === null) {
      out.stderr(wordError("explain", "DESTCAPS", destText));
      return 1;
    }
    const chosen = chooseGeneration(o.kernel, host);
    const cmp = dest === null ? null : compareWords(caps, dest, chosen.gen);
    if (o.json) out.stdout(json(caps, dest, chosen, cmp));
    else if (dest === null || cmp === null) {
      out.stdout(
        `Word ${wordText(caps)} read as ${genLine(chosen)}\n${bitsTable(explainWord(caps, chosen.gen))}`,
      );
    } else out.stdout(comparisonText(caps, dest, chosen, cmp));
    return cmp !== null && cmp.result !== 0 ? 2 : 0;
  } catch (e) {
    if (!(e instanceof BadInput)) throw e;
    out.stderr(`vzcptcheck explain: ${e.message}\n`);
    return 1;
  }
}
