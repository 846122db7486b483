// A fleet file turned into what the migration checks need: every node's kernel
// profile, CPT flags and the answers of `vzcptcheck version` / `vzcptcheck
// caps` on it, and every container's flags and messages as the kernel model
// computes them on its node. Built once; matrix, islands, what-if and the
// pair-by-pair baseline all read these facts.

import type { NodeFacts } from "../kernel/container-flags.ts";
import { containerFlags } from "../kernel/model.ts";
import type { ProfileSet } from "../kernel/profiles.ts";
import { NodeModel } from "../node.ts";
import type { Container, FleetSpec, NodeSpec } from "../types.ts";

/** What the checks read of a node: the kernel model's NodeFacts plus its modules. */
export interface NodeBasics extends NodeFacts {
  readonly modules: { readonly cpt: boolean; readonly rst: boolean };
}

export interface NodeFact {
  readonly index: number;
  readonly name: string;
  readonly spec: NodeSpec;
  readonly model: NodeBasics;
  /**
   * What `vzcptcheck version` prints on this node (cpt CPT_TEST_VERSION > 0),
   * or null when it fails and vzmigrate skips the version test.
   */
  readonly version: number | null;
  /**
   * What `vzcptcheck caps` prints on this node (rst CPT_TEST_CAPS > 0), or null
   * when it fails and vzmigrate skips the capability test.
   */
  readonly caps: number | null;
}

export interface ContainerFact {
  readonly index: number;
  /** Index of the node it lives on. */
  readonly node: number;
  readonly ct: Container;
  /** Container flags on its node (meaningful for running containers). */
  readonly flags: number;
  readonly messages: readonly string[];
}

export interface FleetFacts {
  readonly name: string;
  readonly nodes: readonly NodeFact[];
  readonly containers: readonly ContainerFact[];
  /** Container indices per node, in file order. */
  readonly byNode: readonly (readonly number[])[];
  readonly profiles: ProfileSet | undefined;
}

/** `vzcptcheck version` on a node: the kernel's image version, if it answers > 0. */
export function versionOf(model: NodeBasics): number | null {
  const p = model.profile;
  if (!model.modules.cpt || !p.knowsTestVersion) return null;
  const v = p.currentVersion ?? 0;
  return v > 0 ? v : null;
}

/** `vzcptcheck caps` on a node: the node flags as the int printed, if > 0. */
export function capsOf(model: NodeBasics): number | null {
  if (!model.modules.rst) return null;
  return (model.flags | 0) > 0 ? model.flags >>> 0 : null;
}

// A node's flags depend only on its kernel, CPU, mask, arch, IPv6 and SLM:
// fleets repeat a few hundred such combinations over thousands of nodes, so
// the kernel model (NodeModel) is built once per combination. And what-if /
// upgrade-plan rebuild fleets sharing most node specs: reuse per spec object.
interface FlagsOf {
  readonly flags: number;
  readonly messages: readonly string[];
}
interface Parts {
  readonly model: NodeBasics;
  readonly cts: FlagsOf[];
  readonly profiles: unknown;
}
const nodeCache = new WeakMap<NodeSpec, Parts>();
const hardwareCache = new WeakMap<object, Map<string, NodeBasics>>();
const NO_PROFILES = {};

function hardware(spec: NodeSpec, profiles: ProfileSet | undefined): NodeBasics {
  const scope = (profiles as object | undefined) ?? NO_PROFILES;
  let memo = hardwareCache.get(scope);
  if (!memo) {
    memo = new Map();
    hardwareCache.set(scope, memo);
  }
  const key = JSON.stringify([
    spec.kernel,
    spec.cpu,
    spec.cpuidMask ?? null,
    spec.arch64,
    spec.ipv6,
    spec.slmWithoutDmprst,
  ]);
  let hw = memo.get(key);
  if (!hw) {
    const m = new NodeModel({ ...spec, containers: [] }, profiles ? { profiles } : {});
    hw = {
      profile: m.profile,
      flags: m.flags,
      intel: m.intel,
      arch64: m.arch64,
      modules: { cpt: true, rst: true },
    };
    memo.set(key, hw);
  }
  return hw;
}

function nodeParts(spec: NodeSpec, profiles: ProfileSet | undefined): Parts {
  const hit = nodeCache.get(spec);
  if (hit && hit.profiles === profiles) return hit;
  const model: NodeBasics = { ...hardware(spec, profiles), modules: spec.modules };
  const cts = spec.containers.map((ct) => containerFlags(model, ct));
  const parts = { model, cts, profiles };
  nodeCache.set(spec, parts);
  return parts;
}

/** Build the facts; throws an Error naming the node for an unknown kernel or CPU. */
export function buildFacts(fleet: FleetSpec, profiles?: ProfileSet): FleetFacts {
  const nodes: NodeFact[] = [];
  const containers: ContainerFact[] = [];
  const byNode: number[][] = [];
  fleet.nodes.forEach((spec, index) => {
    const { model, cts } = nodeParts(spec, profiles);
    nodes.push({
      index,
      name: spec.name,
      spec,
      model,
      version: versionOf(model),
      caps: capsOf(model),
    });
    const mine: number[] = [];
    spec.containers.forEach((ct, i) => {
      const f = cts[i] as FlagsOf;
      mine.push(containers.length);
      containers.push({
        index: containers.length,
        node: index,
        ct,
        flags: f.flags,
        messages: f.messages,
      });
    });
    byNode.push(mine);
  });
  return { name: fleet.name, nodes, containers, byNode, profiles };
}

export const isRunning = (c: ContainerFact): boolean => c.ct.state === "running";

/** "101" or "101 (web1)". */
export const ctLabel = (ct: Container): string =>
  ct.name ? `${ct.id} (${ct.name})` : String(ct.id);
