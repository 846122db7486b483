// Small hand-worked fleets for the fleet tests (expected verdicts are derived
// by hand from ../shared/spec/kernel-cpt.md in the tests' comments) and the
// helpers to analyse them.

import { CPU_CATALOG } from "../sim/cpu/catalog.ts";
import { type Analysis, analyse } from "../sim/fleet/engine.ts";
import { buildFacts, type FleetFacts } from "../sim/fleet/facts.ts";
import { findIslands, type IslandMap } from "../sim/fleet/islands.ts";
import { knownProfileIds } from "../sim/kernel/profiles.ts";
import { makeContainer, makeNodeSpec, makeTask } from "../sim/node.ts";
import type { SchemaContext } from "../sim/schema.ts";
import type { Container, FleetSpec, NodeSpec } from "../sim/types.ts";

export const CTX: SchemaContext = {
  kernelIds: knownProfileIds(),
  cpuIds: CPU_CATALOG.map((c) => c.id),
};

export const IVY = "intel-ivybridge-e5-2650v2";
export const WESTMERE = "intel-westmere-x5670";
export const HASWELL = "intel-haswell-e5-2680v3";
export const SANDY = "intel-sandybridge-e5-2670";
export const PENRYN = "intel-penryn-e5450";
export const K10 = "amd-k10-opteron-2435";

/** A running container whose one task used the FPU (64-bit). */
export const fpuCt = (id: number, p: Partial<Container> = {}): Container =>
  makeContainer({ id, tasks: [makeTask({ comm: "app", usedFpu: true })], ...p });

/** A running container with one task that never used the FPU. */
export const plainCt = (id: number, p: Partial<Container> = {}): Container =>
  makeContainer({ id, tasks: [makeTask({ comm: "init", usedFpu: false })], ...p });

export const node = (
  name: string,
  kernel: string,
  cpu: string,
  containers: Container[] = [],
  p: Partial<NodeSpec> = {},
): NodeSpec => makeNodeSpec({ name, kernel, cpu, containers, ...p });

/**
 * T1: four 042stab109 Intel nodes of growing CPUs.
 *   n1 Ivy Bridge  CT 101 used the FPU (xsave avx aesni rdrand ...)
 *   n2 Westmere    CT 201 never used the FPU
 *   n3 Haswell     CT 301 used the FPU
 *   n4 Sandy Bridge CT 401 used the FPU, CT 402 stopped
 */
export const T1: FleetSpec = {
  name: "t1",
  nodes: [
    node("n1", "042stab109", IVY, [fpuCt(101)]),
    node("n2", "042stab109", WESTMERE, [plainCt(201)]),
    node("n3", "042stab109", HASWELL, [fpuCt(301)]),
    node("n4", "042stab109", SANDY, [fpuCt(401), fpuCt(402, { state: "stopped" })]),
  ],
};

/**
 * T2: versions, IPv6, namespaces, modules, a locked container.
 *   a 042stab061 AMD K10, CT 11 plain
 *   b 042stab109 Westmere without IPv6, CT 21 plain
 *   c 028stab056 Penryn, no containers
 *   d 042stab109 Westmere, vzrst not loaded; CT 41 with its own mount namespace, CT 42 locked
 */
export const T2: FleetSpec = {
  name: "t2",
  nodes: [
    node("a", "042stab061", K10, [plainCt(11)]),
    node("b", "042stab109", WESTMERE, [plainCt(21)], { ipv6: false }),
    node("c", "028stab056", PENRYN),
    node(
      "d",
      "042stab109",
      WESTMERE,
      [
        makeContainer({
          id: 41,
          tasks: [makeTask({ comm: "unshare", usedFpu: false, ownMountNamespace: true })],
        }),
        plainCt(42, { state: "locked" }),
      ],
      { modules: { cpt: true, rst: false } },
    ),
  ],
};

export interface Run {
  readonly facts: FleetFacts;
  readonly a: Analysis;
  readonly islands: IslandMap;
  /** Node index by name. */
  readonly at: (name: string) => number;
  /** Container index by id. */
  readonly ct: (id: number) => number;
}

export function run(fleet: FleetSpec): Run {
  const facts = buildFacts(fleet);
  const a = analyse(facts);
  const islands = findIslands(a);
  return {
    facts,
    a,
    islands,
    at: (name) => {
      const i = facts.nodes.findIndex((n) => n.name === name);
      if (i < 0) throw new Error(`no node ${name}`);
      return i;
    },
    ct: (id) => {
      const i = facts.containers.findIndex((c) => c.ct.id === id);
      if (i < 0) throw new Error(`no container ${id}`);
      return i;
    },
  };
}
