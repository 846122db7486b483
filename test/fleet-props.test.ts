// Properties of the fleet tools on random small fleets: the grouped engine
// equals the pair-by-pair implementation (and the independent test oracle's
// vzmigrate decision), islands are a partition whose pairs pass both ways,
// the baseline mask equalises what it says it does, the optimiser meets its
// target, and an upgrade plan never strands a running container.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import YAML from "yaml";
import { CPU_CATALOG, cpuById, cpuWords } from "../sim/cpu/catalog.ts";
import { maskFromFeatures } from "../sim/cpu/mask.ts";
import { computeBaseline, maskFleet, optimiseMask } from "../sim/fleet/baseline.ts";
import { analyse, nodeGoCount, nodeVerdict, passes, vecapsFast } from "../sim/fleet/engine.ts";
import { buildFacts, type FleetFacts } from "../sim/fleet/facts.ts";
import { documentYaml, generateDocument, generateFleet } from "../sim/fleet/generate.ts";
import { findIslands } from "../sim/fleet/islands.ts";
import { naiveIslands, naiveRows } from "../sim/fleet/naive.ts";
import { isGo, pairCode } from "../sim/fleet/pair.ts";
import { planUpgrades } from "../sim/fleet/upgrade.ts";
import { missingCpuLabels, vecapsCheck } from "../sim/kernel/checks.ts";
import { BUILTIN_PROFILES } from "../sim/kernel/profiles.ts";
import { makeContainer, makeNodeSpec, makeTask } from "../sim/node.ts";
import { fleetFromText } from "../sim/schema.ts";
import type { Container, FleetSpec, NodeSpec, Task } from "../sim/types.ts";
import { CTX } from "./fleet-fixtures.ts";
import { oracleMigration } from "./oracle.ts";

const KERNELS = BUILTIN_PROFILES.map((p) => p.id);
const CPUS = CPU_CATALOG.map((c) => c.id);
const MASKABLE = [
  "avx",
  "aes",
  "sse4_1",
  "sse4_2",
  "rdrand",
  "xsave",
  "3dnow",
  "sse4a",
  "sep",
  "syscall",
];
/** What the baseline itself may hide: a node's own SEP/SYSCALL mask is beyond it. */
const ISA_ONLY = MASKABLE.filter((f) => f !== "sep" && f !== "syscall");

const taskArb: fc.Arbitrary<Task> = fc
  .record({
    usedFpu: fc.boolean(),
    abi: fc.constantFrom<64 | 32>(64, 64, 32),
    vdso: fc.boolean(),
    policy: fc.constantFrom("other", "other", "other", "batch", "fifo", "rr"),
    rare: fc.integer({ min: 0, max: 19 }),
    kernelThread: fc.constantFrom(false, false, false, true),
  })
  .map((t) =>
    makeTask({
      usedFpu: t.usedFpu,
      abi: t.abi,
      vdso: t.vdso,
      policy: t.policy as Task["policy"],
      kernelThread: t.kernelThread,
      ptracedFromHost: t.rare === 1,
      external: t.rare === 2,
      ownMountNamespace: t.rare === 3 || t.rare === 4,
      unsupportedUse: t.rare === 5 ? ["splice"] : [],
    }),
  );

const containerArb = (id: number): fc.Arbitrary<Container> =>
  fc
    .record({
      state: fc.constantFrom("running", "running", "running", "stopped", "locked"),
      tasks: fc.array(taskArb, { minLength: 1, maxLength: 2 }),
      extra: fc.integer({ min: 0, max: 9 }),
    })
    .map((c) =>
      makeContainer({
        id,
        state: c.state as Container["state"],
        tasks: c.tasks.map((t, i) => ({ ...t, pid: i + 1, hostPid: 1000 + i + 1 })),
        mounts: c.extra === 1 ? [{ fs: "fuse", target: "/m" }] : [{ fs: "simfs", target: "/" }],
        netdevs:
          c.extra === 2
            ? [{ name: "tun0", checkpointable: false }]
            : [{ name: "venet0", checkpointable: true }],
      }),
    );

interface NodeOpts {
  readonly kernels?: readonly string[];
  readonly cpus?: readonly string[];
  readonly rareOs?: boolean;
  /** CPU features a node's own mask may hide. */
  readonly hides?: readonly string[];
}

const nodeArb = (i: number, o: NodeOpts = {}): fc.Arbitrary<NodeSpec> =>
  fc
    .record({
      kernel: fc.constantFrom(...(o.kernels ?? KERNELS)),
      cpu: fc.constantFrom(...(o.cpus ?? CPUS)),
      arch64:
        o.rareOs === false ? fc.constant(true) : fc.constantFrom(true, true, true, true, false),
      ipv6: o.rareOs === false ? fc.constant(true) : fc.constantFrom(true, true, true, false),
      slm:
        o.rareOs === false
          ? fc.constant(false)
          : fc.constantFrom(false, false, false, false, false, true),
      cpt:
        o.rareOs === false
          ? fc.constant(true)
          : fc.constantFrom(true, true, true, true, true, true, false),
      rst:
        o.rareOs === false
          ? fc.constant(true)
          : fc.constantFrom(true, true, true, true, true, true, false),
      hide: fc.subarray([...(o.hides ?? MASKABLE)], { maxLength: 3 }),
      n: fc.integer({ min: 0, max: 3 }),
    })
    .chain((r) =>
      fc.tuple(...Array.from({ length: r.n }, (_, j) => containerArb(j + 1))).map((cts) =>
        makeNodeSpec({
          name: `n${i}`,
          kernel: r.kernel,
          cpu: r.cpu,
          arch64: r.arch64,
          ipv6: r.ipv6,
          slmWithoutDmprst: r.slm,
          modules: { cpt: r.cpt, rst: r.rst },
          ...(r.hide.length > 0 ? { cpuidMask: maskFromFeatures(r.hide) } : {}),
          containers: cts,
        }),
      ),
    );

const fleetArb = (min: number, max: number, o: NodeOpts = {}): fc.Arbitrary<FleetSpec> =>
  fc
    .integer({ min, max })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodeArb(i, o))))
    .map((nodes) => ({ name: "random", nodes }));

/** Every ordered pair's verdict, grouped and pair by pair, must agree, and so must everything derived. */
function compare(facts: FleetFacts): void {
  const a = analyse(facts);
  const N = facts.nodes.length;
  const nv = naiveRows(facts);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      expect(nodeVerdict(a, i, j)).toBe(nv.verdict[i * N + j] as number);
      if (i !== j) expect(nodeGoCount(a, i, j)).toBe(nv.goCount[i * N + j] as number);
    }
  }
  expect(Array.from(a.destinations)).toEqual(Array.from(nv.destinations));
  expect(findIslands(a).islands.map((x) => x.nodes)).toEqual(naiveIslands(nv, N).islands);
}

describe("fleet properties", () => {
  test("the grouped engine equals the pair-by-pair implementation", () => {
    fc.assert(fc.property(fleetArb(1, 7), (fleet) => compare(buildFacts(fleet))));
  });

  test("nodes sharing hardware and kernel group into classes, and still agree", () => {
    // Few kernels and CPUs: many equal classes, the case grouping exists for.
    const o = {
      kernels: ["042stab061", "042stab109"],
      cpus: ["intel-westmere-x5670", "intel-ivybridge-e5-2650v2"],
    };
    fc.assert(fc.property(fleetArb(4, 10, o), (fleet) => compare(buildFacts(fleet))));
  });

  test("pair verdicts agree with the independent oracle's vzmigrate decision", () => {
    const env = { resolve: cpuWords };
    fc.assert(
      fc.property(fleetArb(2, 4), (fleet) => {
        const facts = buildFacts(fleet);
        for (const c of facts.containers) {
          const src = facts.nodes[c.node] as FleetFacts["nodes"][number];
          for (const dst of facts.nodes) {
            if (dst.index === src.index) continue;
            const id = c.ct.state === "stopped" ? null : c.ct.id;
            const o = oracleMigration(src.spec, id, dst.spec, env);
            expect(isGo(pairCode(src, c, dst))).toBe(o.go);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  test("VECAPS by bit operations equals the kernel model's result", () => {
    const word = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(fc.constantFrom(...BUILTIN_PROFILES), word, word, (p, ct, dst) => {
        expect(vecapsFast(p, ct, dst)).toBe(vecapsCheck(p, ct, dst).result);
      }),
      { numRuns: 2000 },
    );
  });

  test("islands are a partition and every pair inside passes both ways", () => {
    fc.assert(
      fc.property(fleetArb(1, 8), (fleet) => {
        const facts = buildFacts(fleet);
        const N = facts.nodes.length;
        const m = findIslands(analyse(facts));
        const nv = naiveRows(facts);
        const seen = new Array<number>(N).fill(0);
        for (const isl of m.islands) {
          for (const v of isl.nodes) {
            seen[v] = (seen[v] ?? 0) + 1;
            expect(m.islandOf[v]).toBe(isl.id);
          }
          for (const x of isl.nodes)
            for (const y of isl.nodes)
              if (x !== y) expect(passes(nv.verdict[x * N + y] as number)).toBe(true);
        }
        expect(seen.every((s) => s === 1)).toBe(true);
      }),
    );
  });

  test("baseline: one vendor, mask-honouring kernels: every pair passes the CPU check", () => {
    const intel = CPU_CATALOG.filter(
      (c) => c.vendor === "GenuineIntel" && c.features.includes("lm"),
    ).map((c) => c.id);
    const amd = CPU_CATALOG.filter(
      (c) => c.vendor === "AuthenticAMD" && c.features.includes("lm"),
    ).map((c) => c.id);
    const sameVendor = fc.constantFrom(intel, amd).chain((cpus) =>
      fleetArb(2, 6, {
        kernels: ["042stab108", "042stab109"],
        cpus,
        rareOs: false,
        hides: ISA_ONLY,
      }),
    );
    fc.assert(
      fc.property(sameVendor, (fleet) => {
        const b = computeBaseline(fleet);
        expect(b.nodes.every((n) => n.residual.length === 0)).toBe(true);
        const facts = buildFacts(maskFleet(fleet, b.hide));
        for (const x of facts.nodes) {
          for (const y of facts.nodes) {
            expect(
              missingCpuLabels(x.model.profile.vecapsChecks, x.model.flags, y.model.flags),
            ).toEqual([]);
          }
        }
        // ... so no container is refused for its CPU.
        const a = analyse(facts);
        for (const code of a.codes) expect(code === 11 || code === 20).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  test("baseline, any fleet: a node left with nothing beyond the common set passes everyone's CPU check", () => {
    fc.assert(
      fc.property(fleetArb(2, 6), (fleet) => {
        const b = computeBaseline(fleet);
        const facts = buildFacts(maskFleet(fleet, b.hide));
        b.nodes.forEach((n, i) => {
          if (n.residual.length > 0) {
            expect(n.residualWhy).not.toBeNull();
            return;
          }
          const x = facts.nodes[i] as FleetFacts["nodes"][number];
          for (const y of facts.nodes) {
            expect(
              missingCpuLabels(x.model.profile.vecapsChecks, x.model.flags, y.model.flags),
            ).toEqual([]);
          }
        });
      }),
      { numRuns: 40 },
    );
  });

  test("the optimiser's mask meets its K% (checked pair by pair)", () => {
    fc.assert(
      fc.property(fleetArb(2, 5), fc.integer({ min: 0, max: 100 }), (fleet, k) => {
        const b = computeBaseline(fleet);
        const o = optimiseMask(fleet, k, b);
        for (const f of o.hide) expect(b.hide).toContain(f);
        const facts = buildFacts(maskFleet(fleet, o.hide));
        const nv = naiveRows(facts);
        let running = 0;
        let reachable = 0;
        for (const c of facts.containers) {
          if (c.ct.state !== "running") continue;
          running++;
          if ((nv.destinations[c.index] as number) > 0) reachable++;
        }
        expect([reachable, running]).toEqual([o.reachable, o.running]);
        if (o.met) expect(running === 0 || (100 * reachable) / running >= k).toBe(true);
        else expect(running > 0 && (100 * reachable) / running < k).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  test("an upgrade plan never strands a running container, and 'none' means none (exhaustive on small fleets)", () => {
    const old = [
      "028stab056",
      "2.6.32-pre",
      "042stab061",
      "042stab088",
      "042stab093",
      "042stab108",
      "042stab109",
    ];
    const cpus = ["intel-westmere-x5670", "intel-ivybridge-e5-2650v2", "amd-k10-opteron-2435"];
    fc.assert(
      fc.property(fleetArb(2, 4, { kernels: old, cpus, rareOs: false }), (fleet) => {
        const target = "042stab109";
        const plan = planUpgrades(fleet, target);
        const dests = (set: ReadonlySet<string>): Map<string, number> => {
          const f = buildFacts({
            ...fleet,
            nodes: fleet.nodes.map((n) => (set.has(n.name) ? { ...n, kernel: target } : n)),
          });
          const nv = naiveRows(f);
          const out = new Map<string, number>();
          for (const c of f.containers) {
            if (c.ct.state === "running")
              out.set(`${f.nodes[c.node]?.name}/${c.ct.id}`, nv.destinations[c.index] as number);
          }
          return out;
        };
        const start = dests(new Set());
        const watched = [...start].filter(([, d]) => d > 0).map(([k]) => k);
        const ok = (set: ReadonlySet<string>) => {
          const d = dests(set);
          return watched.every((k) => (d.get(k) ?? 0) > 0);
        };
        const todo = fleet.nodes
          .filter((n) => !plan.skipped.some((s) => s.node === n.name))
          .map((n) => n.name);
        if (plan.feasible) {
          expect(plan.steps.map((s) => s.node).sort()).toEqual([...todo].sort());
          const done = new Set<string>();
          for (const s of plan.steps) {
            done.add(s.node);
            expect(ok(done)).toBe(true);
          }
        } else {
          expect(plan.budgetExhausted).toBe(false);
          // No order works: try them all.
          const perms = (xs: string[]): string[][] =>
            xs.length <= 1
              ? [xs]
              : xs.flatMap((x, i) =>
                  perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]),
                );
          for (const order of perms(todo)) {
            const done = new Set<string>();
            let good = true;
            for (const x of order) {
              done.add(x);
              if (!ok(done)) {
                good = false;
                break;
              }
            }
            expect(good).toBe(false);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  test("generated fleets load through the schema, the YAML parses back, and a seed repeats", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 1e6 }),
        (nodes, containers, seed) => {
          const doc = generateDocument({ nodes, containers, seed });
          expect(YAML.parse(documentYaml(doc))).toEqual(JSON.parse(JSON.stringify(doc)));
          const fromYaml = fleetFromText(documentYaml(doc), "gen.yaml", CTX);
          expect(fromYaml).toEqual(generateFleet({ nodes, containers, seed }, CTX));
          expect(generateDocument({ nodes, containers, seed })).toEqual(doc);
          expect(fromYaml.nodes.every((n) => cpuById(n.cpu as string) !== undefined)).toBe(true);
          expect(fromYaml.nodes.reduce((s, n) => s + n.containers.length, 0)).toBe(
            nodes * containers,
          );
        },
      ),
      { numRuns: 30 },
    );
  });
});
