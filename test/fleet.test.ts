// Fleet matrix, islands, baseline, what-if and upgrade-plan on small fleets
// whose answers are worked out by hand from the spec (kernel-cpt.md and
// cli-contract.md's vzmigrate sequence). The derivations are in the comments.

import { describe, expect, test } from "bun:test";
import { computeBaseline, optimiseMask } from "../sim/fleet/baseline.ts";
import { diffAnalyses } from "../sim/fleet/diff.ts";
import { matrixDoc, pairDetail } from "../sim/fleet/doc.ts";
import { acceptingNodes, nodeGoCount, nodeVerdict, VERDICT_NAMES } from "../sim/fleet/engine.ts";
import { findIslands } from "../sim/fleet/islands.ts";
import { classReasons } from "../sim/fleet/reasons.ts";
import { planUpgrades } from "../sim/fleet/upgrade.ts";
import { applyChanges, parseChanges } from "../sim/fleet/whatif.ts";
import type { FleetSpec } from "../sim/types.ts";
import {
  fpuCt,
  HASWELL,
  IVY,
  K10,
  node,
  plainCt,
  type Run,
  run,
  SANDY,
  T1,
  T2,
  WESTMERE,
} from "./fleet-fixtures.ts";

const verdict = (r: Run, src: string, dst: string): string =>
  VERDICT_NAMES[nodeVerdict(r.a, r.at(src), r.at(dst))] as string;
const reasonsOf = (r: Run, src: string, dst: string) =>
  pairDetail(r.a, classReasons(r.a), r.at(src), r.at(dst));
const names = (r: Run, nodes: readonly number[]): string[] =>
  nodes.map((n) => (r.facts.nodes[n] as { name: string }).name);

describe("T1: one kernel, four Intel generations", () => {
  const r = run(T1);

  // CT flags on 042stab109: node & (cmov|no_ipv6|syscall) plus, for an FPU task,
  // node & {fxsr sse sse2 sse4_1 sse4_2 mmx 3dnow 3dnowext sse4a xsave avx aesni rdrand},
  // plus emt64 (64-bit task). Ivy Bridge has xsave avx aesni rdrand; Sandy Bridge
  // lacks rdrand; Westmere lacks xsave, avx and rdrand; Haswell has all.
  test("matrix verdicts", () => {
    const expected: Record<string, string[]> = {
      n1: ["self", "none", "all", "none"], // 101 -> n2: xsave avx rdrand; -> n4: rdrand
      n2: ["all", "self", "all", "all"], // 201 uses cmov syscall emt64 only
      n3: ["all", "none", "self", "none"],
      n4: ["all", "none", "all", "self"], // 401 -> n2: xsave avx
    };
    for (const [src, row] of Object.entries(expected)) {
      row.forEach((v, j) => {
        expect(`${src}->n${j + 1}: ${verdict(r, src, `n${j + 1}`)}`).toBe(
          `${src}->n${j + 1}: ${v}`,
        );
      });
    }
  });

  test("reasons name the missing features in the kernel's check order, with VECAPS 1", () => {
    const d = reasonsOf(r, "n1", "n2");
    expect(d.running).toBe(1);
    expect(d.go).toBe(0);
    expect(d.containers).toHaveLength(1);
    const c = d.containers[0];
    expect(c?.id).toBe(101);
    expect(c?.vecapsResult).toBe(1);
    expect(c?.reasons).toEqual([
      {
        kind: "cpu",
        text: "missing xsave, avx, rdrand",
        features: ["xsave", "avx", "rdrand"],
        decisive: true,
      },
    ]);
    expect(reasonsOf(r, "n1", "n4").containers[0]?.reasons[0]?.features).toEqual(["rdrand"]);
  });

  test("per-container destinations (own node excluded); the stopped one gets the suspended check", () => {
    const dest = (id: number) => names(r, acceptingNodes(r.a, r.ct(id)));
    expect(dest(101)).toEqual(["n3"]);
    expect(dest(201)).toEqual(["n1", "n3", "n4"]);
    expect(dest(301)).toEqual(["n1"]);
    expect(dest(401)).toEqual(["n1", "n3"]);
    // 402 is stopped: cpt CPT_TEST_CAPS compares n4's node flags with the
    // destination's: Westmere lacks xsave and avx; Ivy and Haswell have all.
    expect(dest(402)).toEqual(["n1", "n3"]);
    expect(r.a.destinations[r.ct(402)]).toBe(2);
    const stopped = reasonsOf(r, "n4", "n2").containers.find((c) => c.id === 402);
    expect(stopped?.check).toBe("suspended");
    expect(stopped?.reasons[0]).toMatchObject({
      kind: "suspended-cpu",
      features: ["xsave", "avx"],
    });
    // Only running containers count in the node verdict: n4 -> n2 is 0 of 1.
    expect(nodeGoCount(r.a, r.at("n4"), r.at("n2"))).toBe(0);
  });

  // Edges (all): n1->n3, n2->n1/n3/n4, n3->n1, n4->n1/n3. Only n1 and n3 reach
  // each other; nothing reaches n2, and n4 is reached only from n2.
  test("islands and one-way edges", () => {
    const isl = r.islands.islands.map((i) => names(r, i.nodes));
    expect(isl).toEqual(expect.arrayContaining([["n1", "n3"], ["n2"], ["n4"]]));
    expect(isl).toHaveLength(3);
    const id = (n: string) => r.islands.islandOf[r.at(n)] as number;
    const edge = (a: string, b: string) =>
      r.islands.edges.find((e) => e.from === id(a) && e.to === id(b));
    expect(edge("n2", "n1")).toMatchObject({ pairs: 2, of: 2, back: 0 });
    expect(edge("n2", "n4")).toMatchObject({ pairs: 1, of: 1, back: 0 });
    expect(edge("n4", "n1")).toMatchObject({ pairs: 2, of: 2, back: 0 });
    expect(edge("n1", "n4")).toBeUndefined();
    expect(r.islands.edgeCount).toBe(3);
  });

  // Common CPU bits: Westmere's (cmov fxsr sse sse2 mmx sse4_1 sse4_2 sysenter
  // emt64 syscall aesni); the mask hides xsave, avx, rdrand; 042stab109 reads
  // masked CPUID, so afterwards every node reports the same CPU bits.
  test("baseline", () => {
    const b = computeBaseline(T1);
    expect(b.hide).toEqual(["xsave", "avx", "rdrand"]);
    expect(b.common).toEqual([
      "cmov",
      "fxsr",
      "sse",
      "sse2",
      "mmx",
      "sysenter",
      "emt64",
      "syscall",
      "sse4_1",
      "sse4_2",
      "aesni",
    ]);
    const loses = Object.fromEntries(b.nodes.map((n) => [n.name, n.loses]));
    expect(loses).toEqual({
      n1: ["xsave", "avx", "rdrand"],
      n2: [],
      n3: ["xsave", "avx", "rdrand"],
      n4: ["xsave", "avx"],
    });
    expect(b.nodes.every((n) => n.residual.length === 0 && n.honoursMask)).toBe(true);
    // Before: 7 full pairs (see the matrix); after: all 12, one island.
    expect(b.before).toEqual({ running: 4, reachable: 4, islands: 3, fullPairs: 7 });
    expect(b.after).toEqual({ running: 4, reachable: 4, islands: 1, fullPairs: 12 });
  });

  // Hiding avx, xsave and rdrand everywhere leaves every CT's flags inside
  // Westmere's: n1->n2, n1->n4, n3->n2, n3->n4 and n4->n2 turn from none to all.
  test("what-if mask all avx,xsave,rdrand", () => {
    const changes = parseChanges(["mask", "all", "avx,xsave,rdrand"]);
    const after = applyChanges(T1, changes, {
      kernelIds: [],
      loadNode: () => {
        throw new Error("no");
      },
    });
    const r2 = run(after);
    const d = diffAnalyses(r.a, r2.a, r.islands, r2.islands);
    expect(d.pairsCompared).toBe(12);
    expect(d.pairsChanged).toBe(5);
    expect(d.transitions).toEqual([{ before: "none", after: "all", pairs: 5 }]);
    expect(d.examples.map((e) => `${e.source}->${e.destination}`)).toEqual([
      "n1->n2",
      "n1->n4",
      "n3->n2",
      "n3->n4",
      "n4->n2",
    ]);
    expect(d.islands).toEqual({ before: 3, after: 1, pairsSeparated: 0, pairsJoined: 5 });
    expect(d.stranded).toEqual([]);
  });
});

describe("T2: versions, IPv6, namespaces, modules, locked", () => {
  const r = run(T2);

  test("matrix verdicts", () => {
    const expected: Record<string, string[]> = {
      // a (061, 0x801): -> b IPv6 (061 does not carry no_ipv6 into CT flags, b has it);
      // -> c: no version test on 2.6.18, and c has no syscall bit; -> d: vzrst missing.
      a: ["self", "none", "none", "module"],
      // b (109, 0x803): -> a refused (minor 3 > 1); -> c missing syscall; -> d vzrst missing.
      b: ["version", "self", "none", "module"],
      // c runs nothing; its version test is skipped (no CPT_TEST_VERSION); d gives no caps.
      c: ["empty", "empty", "self", "empty"],
      // d: -> a version; -> b IPv6 (b lacks IPv6, d's CT carries no no_ipv6);
      // -> c: syscall missing and namespaces (last failure wins: 5).
      d: ["version", "none", "none", "self"],
    };
    for (const [src, row] of Object.entries(expected)) {
      ["a", "b", "c", "d"].forEach((dst, j) => {
        expect(`${src}->${dst}: ${verdict(r, src, dst)}`).toBe(`${src}->${dst}: ${row[j]}`);
      });
    }
  });

  test("reasons", () => {
    const ab = reasonsOf(r, "a", "b").containers[0];
    expect(ab?.vecapsResult).toBe(3);
    expect(ab?.reasons.map((x) => x.kind)).toEqual(["ipv6"]);
    expect(reasonsOf(r, "a", "c").containers[0]?.reasons).toEqual([
      { kind: "cpu", text: "missing syscall", features: ["syscall"], decisive: true },
    ]);
    expect(reasonsOf(r, "b", "a").nodeReason).toMatchObject({ kind: "version", version: 0x803 });
    expect(reasonsOf(r, "a", "d").nodeReason?.text).toBe("vzrst not loaded on the destination");
    const dc = reasonsOf(r, "d", "c");
    const ct41 = dc.containers.find((c) => c.id === 41);
    expect(ct41?.vecapsResult).toBe(5);
    expect(ct41?.reasons.map((x) => [x.kind, x.decisive])).toEqual([
      ["cpu", false],
      ["namespaces", true],
    ]);
    const ct42 = dc.containers.find((c) => c.id === 42);
    expect(ct42?.reasons.map((x) => x.kind)).toEqual(["locked"]);
    expect(dc.running).toBe(1); // the locked CT does not count
  });

  test("every running container is stranded; islands are single nodes", () => {
    for (const id of [11, 21, 41, 42]) expect(r.a.destinations[r.ct(id)]).toBe(0);
    expect(r.islands.islands).toHaveLength(4);
    expect(r.islands.groups).toBe(4);
    // c -> a, b, d are the only full edges: all one-way.
    expect(
      r.islands.edges.every((e) => e.back === 0 && e.from === r.islands.islandOf[r.at("c")]),
    ).toBe(true);
    expect(r.islands.edgeCount).toBe(3);
  });

  test("matrix document: node detail, counts", () => {
    const doc = matrixDoc(r.a);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.detail).toBe("node");
    expect(doc.fleet.containers).toEqual({ total: 4, running: 3, stopped: 0, locked: 1 });
    expect(doc.reach).toEqual({ running: 3, reachable: 0, stranded: 3 });
    expect(doc.matrix?.verdict[1]).toEqual(["version", "self", "none", "module"]);
    // version/module pairs carry the node-wide reason even without containers.
    expect(doc.pairs?.find((p) => p.source === "c")).toBeUndefined();
  });
});

describe("upgrade-plan", () => {
  // Three 042stab061 Westmere nodes, r empty. 042stab093 writes 0x803, which
  // 061 (minor <= 1) refuses, while 093 restores 0x801. Upgrading r first
  // gives p's and q's containers a destination that will take them after
  // their own upgrade: r, then p, then q.
  test("a plan exists when an empty node goes first", () => {
    const fleet: FleetSpec = {
      name: "up",
      nodes: [
        node("p", "042stab061", WESTMERE, [fpuCt(1)]),
        node("q", "042stab061", WESTMERE, [fpuCt(2)]),
        node("r", "042stab061", WESTMERE),
      ],
    };
    const plan = planUpgrades(fleet, "042stab093");
    expect(plan.feasible).toBe(true);
    expect(plan.steps.map((s) => s.node)).toEqual(["r", "p", "q"]);
    expect(plan.steps.map((s) => s.minDestinations)).toEqual([2, 1, 2]);
    expect(plan.strandedAtStart).toEqual([]);
  });

  // Two loaded nodes and no spare: whichever goes first, its container (now
  // 0x803) is refused by the other (061) and has nowhere to go.
  test("no plan without a spare node, with the reason", () => {
    const fleet: FleetSpec = {
      name: "stuck",
      nodes: [
        node("p", "042stab061", WESTMERE, [fpuCt(1)]),
        node("q", "042stab061", WESTMERE, [fpuCt(2)]),
      ],
    };
    const plan = planUpgrades(fleet, "042stab093");
    expect(plan.feasible).toBe(false);
    expect(plan.budgetExhausted).toBe(false);
    expect(plan.blocked?.upgraded).toEqual([]);
    expect(plan.blocked?.candidates.map((c) => [c.node, c.strands.node, c.strands.id])).toEqual([
      ["p", "p", 1],
      ["q", "q", 2],
    ]);
    expect(plan.blocked?.candidates[0]?.strands.why).toBe(
      "image version 0x803 refused by 042stab061 (1 node)",
    );
  });

  // Two 2.6.18 AMD nodes: there a task that used the FPU takes every node
  // flag, sysenter included (2.6.18 ignores the vendor). On 042stab109 an AMD
  // node has no sysenter. Upgrade either first and the other's container
  // (sysenter) has nowhere to go; with both upgraded all is well again.
  test("two nodes that must go together: a deadlock, explained", () => {
    const fleet: FleetSpec = {
      name: "deadlock",
      nodes: [node("x", "028stab056", K10, [fpuCt(1)]), node("y", "028stab056", K10, [fpuCt(2)])],
    };
    const plan = planUpgrades(fleet, "042stab109");
    expect(plan.feasible).toBe(false);
    expect(plan.strandedByTarget).toEqual([]);
    expect(plan.deadlock?.nodes).toEqual(["x", "y"]);
    expect(plan.deadlock?.first).toMatchObject({ node: "y", id: 2 });
    expect(plan.deadlock?.first.why).toBe("missing sysenter (1 node)");
    expect(plan.deadlock?.second).toMatchObject({ node: "x", id: 1 });
    expect(plan.budgetExhausted).toBe(false);
  });

  // a (2.6.18) has no CPT_TEST_VERSION and b no vzrst: vzmigrate skips both
  // tests, so a's container "can go" to b. Once a runs 042stab109 its image
  // version must be tested on b, which cannot open /proc/rst: stranded by the
  // target whatever the order; the order for the rest is still given.
  test("containers the target itself strands are reported apart", () => {
    const fleet: FleetSpec = {
      name: "target",
      nodes: [
        node("a", "028stab056", WESTMERE, [plainCt(1)]),
        node("b", "042stab109", WESTMERE, [], { modules: { cpt: true, rst: false } }),
      ],
    };
    const plan = planUpgrades(fleet, "042stab109");
    expect(plan.feasible).toBe(false);
    expect(plan.strandedByTarget).toEqual([
      { node: "a", id: 1, why: "vzrst not loaded on the destination (1 node)" },
    ]);
    expect(plan.steps.map((s) => s.node)).toEqual(["a"]);
    expect(plan.deadlock).toBeNull();
  });

  test("nodes already on the target are skipped", () => {
    const plan = planUpgrades(T1, "042stab109");
    expect(plan.feasible).toBe(true);
    expect(plan.steps).toEqual([]);
    expect(plan.skipped.map((s) => s.node)).toEqual(["n1", "n2", "n3", "n4"]);
  });
});

describe("optimiser", () => {
  // n1 Ivy (CT FPU), n2 Sandy (CT FPU), n3 Westmere (CT FPU). Without a mask
  // 1's CT is stranded (Sandy lacks rdrand, Westmere xsave/avx/rdrand): 2 of 3.
  // The baseline hides xsave, avx, rdrand (3 of 3). Giving back xsave (Ivy and
  // Sandy have it) keeps 3 of 3; then avx too; rdrand would strand 1's CT again.
  const fleet: FleetSpec = {
    name: "opt",
    nodes: [
      node("n1", "042stab109", IVY, [fpuCt(1)]),
      node("n2", "042stab109", SANDY, [fpuCt(2)]),
      node("n3", "042stab109", WESTMERE, [fpuCt(3)]),
    ],
  };
  const b = computeBaseline(fleet);

  test("keeps xsave and avx, hides rdrand for 100%", () => {
    expect(b.hide).toEqual(["xsave", "avx", "rdrand"]);
    const o = optimiseMask(fleet, 100, b);
    expect(o.met).toBe(true);
    expect(o.hide).toEqual(["rdrand"]);
    expect(o.keep).toEqual(["xsave", "avx"]);
    expect(o.steps.map((s) => s.keep)).toEqual(["xsave", "avx"]);
    expect([o.reachable, o.running]).toEqual([3, 3]);
    expect(o.reachWithoutMask).toBeCloseTo(66.667, 2);
  });

  test("no mask when the target already holds", () => {
    const o = optimiseMask(fleet, 60, b);
    expect(o.met).toBe(true);
    expect(o.hide).toEqual([]);
  });
});

describe("what-if grammar", () => {
  const ctx = {
    kernelIds: ["042stab109", "042stab093"],
    loadNode: () => node("extra", "042stab109", HASWELL),
  };
  test("parses every change, quoted or not", () => {
    expect(
      parseChanges([
        "upgrade n1 042stab093",
        "mask",
        "n*",
        "avx,aes",
        "add-node",
        "x.yaml",
        "remove-node",
        "n2",
        "replace-cpu",
        "n3",
        HASWELL,
      ]),
    ).toEqual([
      { op: "upgrade", select: "n1", kernel: "042stab093" },
      { op: "mask", select: "n*", features: ["avx", "aes"] },
      { op: "add-node", file: "x.yaml" },
      { op: "remove-node", select: "n2" },
      { op: "replace-cpu", select: "n3", cpu: HASWELL },
    ]);
  });
  test("errors name the problem", () => {
    expect(() => parseChanges(["upgrade", "n1"])).toThrow('change "upgrade" needs 2 arguments');
    expect(() => parseChanges(["frobnicate"])).toThrow('unknown change "frobnicate"');
    expect(() => parseChanges(["mask", "all", "avx,warp"])).toThrow('unknown CPU feature "warp"');
    expect(() => applyChanges(T1, parseChanges(["upgrade", "zz", "042stab093"]), ctx)).toThrow(
      'no node matches "zz"',
    );
    expect(() => applyChanges(T1, parseChanges(["upgrade", "n1", "042stab999"]), ctx)).toThrow(
      'unknown kernel "042stab999"',
    );
    expect(() => applyChanges(T1, parseChanges(["remove-node", "all"]), ctx)).toThrow(
      "would leave no node",
    );
  });
  test("selectors and untouched nodes", () => {
    const after = applyChanges(
      T1,
      parseChanges([
        "upgrade kernel=042stab109 042stab093",
        "remove-node n4",
        "add-node f",
        `replace-cpu n? ${WESTMERE}`,
      ]),
      ctx,
    );
    expect(after.nodes.map((n) => `${n.name}:${n.kernel}:${n.cpu}`)).toEqual([
      `n1:042stab093:${WESTMERE}`,
      `n2:042stab093:${WESTMERE}`,
      `n3:042stab093:${WESTMERE}`,
      `extra:042stab109:${HASWELL}`,
    ]);
    const same = applyChanges(T1, parseChanges(["mask n1 avx"]), ctx);
    expect(same.nodes[1]).toBe(T1.nodes[1] as never); // shared, not copied
    expect(same.nodes[0]?.cpuidMask).toEqual({ leaf1Ecx: 0xefffffff });
  });
});

describe("split reach groups", () => {
  // A -> B -> C -> A where A -> C fails: A (Ivy, FPU CT) -> B (Haswell, CT
  // without FPU) -> C (Westmere, plain CT) -> A; A's CT cannot go to C
  // (xsave avx rdrand). One reach group, but A and C are not one island.
  test("islands are cut so that every pair inside passes both ways", () => {
    const fleet: FleetSpec = {
      name: "split",
      nodes: [
        node("A", "042stab109", IVY, [fpuCt(1)]),
        node("B", "042stab109", HASWELL, [plainCt(2)]),
        node("C", "042stab109", WESTMERE, [plainCt(3)]),
      ],
    };
    const r = run(fleet);
    expect(verdict(r, "A", "C")).toBe("none");
    expect(r.islands.groups).toBe(1);
    const isl = r.islands.islands.map((i) => [names(r, i.nodes), i.split]);
    expect(isl).toEqual([
      [["A", "B"], true],
      [["C"], true],
    ]);
    const again = findIslands(r.a);
    expect(again.islands.map((i) => i.nodes)).toEqual(r.islands.islands.map((i) => i.nodes));
  });
});
