// What-if changes over a fleet spec (pure: a new FleetSpec, untouched nodes
// shared), and their grammar:
//   upgrade SEL GEN            run kernel profile GEN on the selected nodes
//   mask SEL FEATURE[,FEATURE] hide CPU features with the CPUID mask (added to any mask there)
//   add-node FILE              add a node from a node file (or FLEET_FILE:NODE)
//   remove-node SEL            take the selected nodes out
//   replace-cpu SEL CPU        put a catalog CPU in the selected nodes
// SEL is a node name, `all`, a glob over names (`web-*`, `db-?`), `kernel=GEN`
// or `cpu=CPU` (groups of nodes stand in for tags: fleet files have none).

import { featureInfo } from "../../src/cpt/cpuid.ts";
import { cpuById } from "../cpu/catalog.ts";
import { combineMasks, maskFromFeatures } from "../cpu/mask.ts";
import type { FleetSpec, NodeSpec } from "../types.ts";

export type Change =
  | { readonly op: "upgrade"; readonly select: string; readonly kernel: string }
  | { readonly op: "mask"; readonly select: string; readonly features: readonly string[] }
  | { readonly op: "add-node"; readonly file: string }
  | { readonly op: "remove-node"; readonly select: string }
  | { readonly op: "replace-cpu"; readonly select: string; readonly cpu: string };

export class ChangeError extends Error {
  override readonly name = "ChangeError";
}

const ARITY: Readonly<Record<Change["op"], number>> = {
  upgrade: 2,
  mask: 2,
  "add-node": 1,
  "remove-node": 1,
  "replace-cpu": 2,
};

export const CHANGE_SYNTAX =
  "upgrade SEL GEN | mask SEL FEATURE[,FEATURE...] | add-node FILE | remove-node SEL | replace-cpu SEL CPU";

/** Parse words into changes ("upgrade n1 042stab109 mask all avx"); quoted groups are split too. */
export function parseChanges(args: readonly string[]): Change[] {
  const words = args.flatMap((a) => a.split(/[\s;]+/)).filter((w) => w !== "");
  const out: Change[] = [];
  for (let i = 0; i < words.length; ) {
    const op = words[i] as string;
    const n = ARITY[op as Change["op"]];
    if (n === undefined)
      throw new ChangeError(`unknown change "${op}" (expected ${CHANGE_SYNTAX})`);
    const a = words.slice(i + 1, i + 1 + n);
    if (a.length < n)
      throw new ChangeError(
        `change "${op}" needs ${n} argument${n > 1 ? "s" : ""} (${CHANGE_SYNTAX})`,
      );
    const [x, y] = a as [string, string];
    switch (op) {
      case "upgrade":
        out.push({ op, select: x, kernel: y });
        break;
      case "mask": {
        const features = y.split(",").filter((f) => f !== "");
        for (const f of features) {
          try {
            featureInfo(f);
          } catch (e) {
            throw new ChangeError(`mask: ${(e as Error).message}`);
          }
        }
        out.push({ op, select: x, features });
        break;
      }
      case "add-node":
        out.push({ op, file: x });
        break;
      case "remove-node":
        out.push({ op, select: x });
        break;
      default:
        out.push({ op: "replace-cpu", select: x, cpu: y });
    }
    i += 1 + n;
  }
  if (out.length === 0) throw new ChangeError(`no change given (expected ${CHANGE_SYNTAX})`);
  return out;
}

const globRe = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );

/** Node names a selector picks; an error when it picks none. */
export function selectNodes(fleet: FleetSpec, sel: string): Set<string> {
  let pick: (n: NodeSpec) => boolean;
  if (sel === "all") pick = () => true;
  else if (sel.startsWith("kernel=")) pick = (n) => n.kernel === sel.slice(7);
  else if (sel.startsWith("cpu=")) pick = (n) => n.cpu === sel.slice(4);
  else if (/[*?]/.test(sel)) {
    const re = globRe(sel);
    pick = (n) => re.test(n.name);
  } else pick = (n) => n.name === sel;
  const names = new Set(fleet.nodes.filter(pick).map((n) => n.name));
  if (names.size === 0) {
    const known = fleet.nodes.slice(0, 8).map((n) => n.name);
    const more = fleet.nodes.length > 8 ? `, ... (${fleet.nodes.length} nodes)` : "";
    throw new ChangeError(`no node matches "${sel}" (nodes: ${known.join(", ")}${more})`);
  }
  return names;
}

export interface ChangeContext {
  readonly kernelIds: readonly string[];
  /** Load a node file (add-node). */
  readonly loadNode: (file: string) => NodeSpec;
}

/** Apply changes in order. Unchanged nodes keep their spec objects. */
export function applyChanges(
  fleet: FleetSpec,
  changes: readonly Change[],
  ctx: ChangeContext,
): FleetSpec {
  let nodes = [...fleet.nodes];
  const current = (): FleetSpec => ({ name: fleet.name, nodes });
  for (const c of changes) {
    switch (c.op) {
      case "upgrade": {
        if (!ctx.kernelIds.includes(c.kernel)) {
          throw new ChangeError(
            `upgrade: unknown kernel "${c.kernel}" (known: ${ctx.kernelIds.join(", ")})`,
          );
        }
        const names = selectNodes(current(), c.select);
        nodes = nodes.map((n) =>
          names.has(n.name) && n.kernel !== c.kernel ? { ...n, kernel: c.kernel } : n,
        );
        break;
      }
      case "mask": {
        const names = selectNodes(current(), c.select);
        const m = maskFromFeatures(c.features);
        nodes = nodes.map((n) =>
          names.has(n.name) ? { ...n, cpuidMask: combineMasks(n.cpuidMask, m) } : n,
        );
        break;
      }
      case "replace-cpu": {
        if (!cpuById(c.cpu))
          throw new ChangeError(`replace-cpu: unknown CPU "${c.cpu}" (see vzcptsim cpus)`);
        const names = selectNodes(current(), c.select);
        nodes = nodes.map((n) => (names.has(n.name) ? { ...n, cpu: c.cpu } : n));
        break;
      }
      case "remove-node": {
        const names = selectNodes(current(), c.select);
        nodes = nodes.filter((n) => !names.has(n.name));
        if (nodes.length === 0) throw new ChangeError("remove-node: that would leave no node");
        break;
      }
      default: {
        const node = ctx.loadNode(c.file);
        if (nodes.some((n) => n.name === node.name)) {
          throw new ChangeError(`add-node: the fleet already has a node named "${node.name}"`);
        }
        nodes = [...nodes, node];
      }
    }
  }
  return current();
}

/** One line per change, for reports. */
export function describeChange(c: Change): string {
  switch (c.op) {
    case "upgrade":
      return `upgrade ${c.select} to ${c.kernel}`;
    case "mask":
      return `mask ${c.features.join(",")} on ${c.select}`;
    case "add-node":
      return `add node from ${c.file}`;
    case "remove-node":
      return `remove ${c.select}`;
    default:
      return `replace the CPU of ${c.select} with ${c.cpu}`;
  }
}
