// `fleet matrix --csv`: node detail is the matrix itself (first row and column
// the node names, cells the verdict names); class detail is one line per
// (source class, destination class) with node-pair counts per verdict.

import type { MatrixDoc } from "./doc.ts";
import { VERDICT_NAMES } from "./engine.ts";

/** RFC 4180 quoting where needed. */
export const csvField = (s: string): string =>
  /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
const line = (fields: readonly string[]): string => `${fields.map(csvField).join(",")}\r\n`;

export function matrixCsv(doc: MatrixDoc): string {
  if (doc.detail === "node" && doc.matrix) {
    const names = doc.nodes.map((n) => n.name);
    let out = line(["source\\destination", ...names]);
    doc.matrix.verdict.forEach((row, i) => {
      out += line([names[i] as string, ...row]);
    });
    return out;
  }
  let out = line(["source_class", "destination_class", ...VERDICT_NAMES]);
  doc.classMatrix?.cells.forEach((row, r) => {
    row.forEach((cell, c) => {
      if (Object.keys(cell).length === 0) return;
      out += line([`c${r}`, `c${c}`, ...VERDICT_NAMES.map((v) => String(cell[v] ?? 0))]);
    });
  });
  return out;
}
