// Properties of the kernel model and the flows, in process (runInProcess and
// the model's pure functions): cheap, so they run the full FC_RUNS.

import { describe, expect, setDefaultTimeout, test } from "bun:test";
import fc from "fast-check";
import { cpuWords } from "../../sim/cpu/catalog.ts";
import { runInProcess } from "../../sim/device.ts";
import { containerFlags, restoreAccepts, vecapsCheck } from "../../sim/kernel/model.ts";
import { type KernelProfile, profileById } from "../../sim/kernel/profiles.ts";
import { NodeModel } from "../../sim/node.ts";
import type { Container, CpuidMask, CpuidWords, NodeSpec, Task } from "../../sim/types.ts";
import { GENERATIONS } from "../../src/cpt/generations.ts";
import { USAGE } from "../../src/usage.ts";
import * as A from "../arbitraries.ts";
import {
  compareRun,
  FPU_BITS,
  ORACLE_GEN_IDS,
  oracleGen,
  oracleMigration,
  oracleNodeFlags,
  oracleRun,
  oracleVecaps,
  SPEC_USAGE,
} from "../oracle.ts";
import { ORACLE_ENV, prop, runs, timeoutFor } from "./harness.ts";

const FILE = import.meta.path;
// In process a case costs at most a few ms; scale the limit with FC_RUNS.
setDefaultTimeout(timeoutFor(runs(5), 10));
const dec = new TextDecoder();
const run = (n: NodeModel, args: string[]) => {
  const r = runInProcess(n, args, 0);
  return { exit: r.exit, stdout: r.stdout, stderr: dec.decode(r.stderr) };
};
const profile = (id: string): KernelProfile => profileById(id) as KernelProfile;
const bit = (n: number): number => (1 << n) >>> 0;
const NS = bit(17);
const SLM = bit(24);
const NO_IPV6 = bit(28);

/** vzmigrate's sequence over two models, without the oracle: [exit codes], go. */
function migrate(src: NodeModel, ctId: number | null, dst: NodeModel) {
  const v = run(src, ["version"]);
  const ver = v.stdout.trimEnd();
  const vt = v.exit === 0 && ver !== "" ? run(dst, ["version", ver]) : null;
  const c = run(dst, ["caps"]);
  const caps = c.stdout.trimEnd();
  const ct =
    c.exit === 0 && caps !== ""
      ? run(src, ctId === null ? ["caps", caps] : ["caps", String(ctId), caps])
      : null;
  return { vt, ct, go: (vt === null || vt.exit === 0) && (ct === null || ct.exit === 0) };
}

describe("oracle and simulator share the same generation ids", () => {
  test("every generation of src/cpt/generations.ts is known to the oracle, and no other", () => {
    expect([...ORACLE_GEN_IDS].sort()).toEqual(GENERATIONS.map((g) => g.id).sort());
  });
  test("the oracle's usage text (from usage.txt) is the CLI's", () => {
    expect(SPEC_USAGE).toBe(USAGE);
  });
});

describe("version matrix", () => {
  // Exhaustive: every ordered pair of generations, through the flows.
  for (const s of GENERATIONS) {
    for (const d of GENERATIONS) {
      test(`${s.id} -> ${d.id}`, () => {
        const spec = (kernel: string, name: string): NodeSpec => ({
          name,
          kernel,
          cpu: "intel-westmere-x5670",
          arch64: true,
          ipv6: true,
          slmWithoutDmprst: false,
          modules: { cpt: true, rst: true },
          containers: [],
        });
        const src = new NodeModel(spec(s.id, "src"));
        const dst = new NodeModel(spec(d.id, "dst"));
        const shown = run(src, ["version"]);
        const dg = oracleGen(d.id);
        if (oracleGen(s.id).version === null) {
          // The source lacks the request: vzmigrate skips the version test.
          expect(shown.exit).toBe(1);
          expect(shown.stdout).toBe("");
          return;
        }
        const v = Number(shown.stdout.trim());
        const tested = run(dst, ["version", String(v)]);
        // Passes exactly when the destination's rule accepts it or it lacks the request.
        const u = v >>> 0;
        const accepts =
          dg.version === null ||
          ((u & 0xff00) === 0x300 && u >= 0x303) ||
          ((u & 0xff00) === 0x800 && (u & 0xf) <= (dg.version & 0xf));
        expect(tested.exit).toBe(accepts ? 0 : 2);
      });
    }
  }

  prop(
    FILE,
    "rst CPT_TEST_VERSION: the model's rule equals the spec's for any 32-bit image version",
    () =>
      fc.property(A.genId(), A.imageVersion(), (g, v) => {
        const og = oracleGen(g);
        const want =
          og.version === null
            ? -22
            : ((v >>> 0) & 0xff00) === 0x300 && v >>> 0 >= 0x303
              ? 1
              : ((v >>> 0) & 0xff00) === 0x800 && (v & 0xf) <= (og.version & 0xf)
                ? 1
                : 0;
        expect(restoreAccepts(profile(g), v)).toBe(want);
      }),
    { numRuns: runs(3) },
  );
});

describe("self-compatibility", () => {
  prop(
    FILE,
    "a node's own `caps` passes `caps CAPS` on itself",
    () =>
      fc.property(A.node({ modulesLoaded: true }), (spec) => {
        const n = new NodeModel(spec);
        const shown = run(n, ["caps"]);
        fc.pre(shown.exit === 0);
        const r = run(n, ["caps", shown.stdout.trim()]);
        expect(r.exit).toBe(0);
        expect(r.stdout).toBe("");
      }),
    { numRuns: runs(2) },
  );

  prop(
    FILE,
    "a container never lacks a CPU feature of its own node, and a clean one passes",
    () =>
      fc.property(
        A.node({ modulesLoaded: true, containers: fc.constant([]) }),
        A.container({ clean: true, state: fc.constant("running") }),
        A.container({ state: fc.constant("running") }),
        (spec, clean, dirty) => {
          const n = new NodeModel({
            ...spec,
            containers: clean.id === dirty.id ? [clean] : [clean, dirty],
          });
          const caps = run(n, ["caps"]);
          fc.pre(caps.exit === 0);
          for (const ct of n.containers) {
            const r = run(n, ["caps", String(ct.id), caps.stdout.trim()]);
            expect(r.stderr).not.toContain("Destination cpu does not have");
          }
          // Clean: no unsupported bit; SLM and the 061.9 IPv6 quirk are node facts that fail anyway.
          // (2.6.18 has no SLM bit at all.)
          const slm = spec.slmWithoutDmprst && spec.kernel !== "028stab056";
          const quirk = slm || (spec.kernel === "042stab061" && !spec.ipv6);
          const r = run(n, ["caps", String(clean.id), caps.stdout.trim()]);
          expect(r.exit).toBe(quirk ? 2 : 0);
        },
      ),
    { numRuns: runs(2) },
  );
});

// ---------------------------------------------------------- monotonicity ----

const WORDS = A.WORD_KEYS;

/** The destination with more: extra CPUID bits, a looser mask, IPv6 loaded, no SLM. */
const richer = (dst: NodeSpec) =>
  fc
    .record({
      extra: fc.record(
        Object.fromEntries(WORDS.map((k) => [k, A.u32()])) as Record<
          (typeof WORDS)[number],
          fc.Arbitrary<number>
        >,
      ),
      density: fc.integer({ min: 0, max: 3 }),
      loosen: fc.boolean(),
      ipv6: fc.boolean(),
      noSlm: fc.boolean(),
    })
    .map(({ extra, density, loosen, ipv6, noSlm }): NodeSpec => {
      const base = cpuWords(dst.cpu);
      const w: Record<string, number | string> = { ...base };
      for (const k of WORDS) {
        // Sparse extras: AND a few random words together so that only some bits get added.
        let e = extra[k];
        for (let i = 0; i < density; i++) e = (e & Math.imul(e, 2654435761)) >>> 0;
        w[k] = ((base[k] as number) | e) >>> 0;
      }
      let mask: CpuidMask | undefined = dst.cpuidMask;
      if (mask && loosen) {
        const m: Record<string, number> = {};
        for (const [k, v] of Object.entries(mask))
          m[k] = ((v as number) | extra[k as (typeof WORDS)[number]]) >>> 0;
        mask = m;
      }
      const { cpuidMask: _drop, ...rest } = dst;
      return {
        ...rest,
        ...(mask ? { cpuidMask: mask } : {}),
        cpu: w as unknown as CpuidWords,
        ipv6: dst.ipv6 || ipv6,
        slmWithoutDmprst: dst.slmWithoutDmprst && !noSlm,
      };
    });

/** The container using less: features switched off, tasks dropped or turned into kernel threads. */
const poorer = (ct: Container) =>
  fc
    .record({
      cuts: fc.array(fc.integer({ min: 0, max: 10 }), {
        minLength: ct.tasks.length,
        maxLength: ct.tasks.length,
      }),
      dropMounts: fc.boolean(),
      dropNetdevs: fc.boolean(),
    })
    .map(({ cuts, dropMounts, dropNetdevs }): Container => {
      const tasks: Task[] = [];
      ct.tasks.forEach((t, i) => {
        const c = cuts[i] as number;
        if (c === 0) return; // dropped
        const u: Task = {
          ...t,
          usedFpu: t.usedFpu && c !== 1,
          vdso: t.vdso && c !== 2,
          external: t.external && c !== 3,
          ownMountNamespace: t.ownMountNamespace && c !== 4,
          policy: c === 5 ? "other" : t.policy,
          ptracedFromHost: t.ptracedFromHost && c !== 6,
          unsupportedUse: c === 7 ? [] : t.unsupportedUse,
          kernelThread: t.kernelThread || c === 8,
        };
        tasks.push(
          c === 9
            ? { ...u, usedFpu: false, external: false, ptracedFromHost: false, unsupportedUse: [] }
            : u,
        );
      });
      return {
        ...ct,
        tasks,
        mounts: dropMounts ? [] : ct.mounts,
        netdevs: dropNetdevs ? [] : ct.netdevs,
      };
    });

describe("monotonicity", () => {
  prop(
    FILE,
    "more destination features never turn a pass into a failure",
    () =>
      fc.property(
        A.node({ modulesLoaded: true }),
        A.node({ modulesLoaded: true, containers: fc.constant([]) }).chain((d) =>
          fc.tuple(fc.constant(d), richer(d)),
        ),
        fc.boolean(),
        (src, [dst, dst2], suspended) => {
          const s = new NodeModel(src);
          const ids = src.containers.map((c) => c.id);
          const id = suspended || ids.length === 0 ? null : (ids[0] as number);
          const before = migrate(s, id, new NodeModel(dst));
          fc.pre(before.go && before.ct !== null);
          const after = migrate(s, id, new NodeModel(dst2));
          expect(after.ct?.exit ?? 0).toBe(0);
          expect(after.go).toBe(true);
        },
      ),
    { numRuns: runs(2) },
  );

  prop(
    FILE,
    "fewer features used by the container never turn a pass into a failure",
    () =>
      fc.property(
        A.node({ modulesLoaded: true, containers: fc.constant([]) }),
        A.container({ state: fc.constant("running") }).chain((c) =>
          fc.tuple(fc.constant(c), poorer(c)),
        ),
        A.node({ modulesLoaded: true, containers: fc.constant([]) }),
        (src, [ct, ct2], dst) => {
          const d = new NodeModel(dst);
          const before = migrate(new NodeModel({ ...src, containers: [ct] }), ct.id, d);
          fc.pre(before.ct !== null && before.ct.exit === 0);
          const after = migrate(new NodeModel({ ...src, containers: [ct2] }), ct2.id, d);
          expect(after.ct?.exit).toBe(0);
        },
      ),
    { numRuns: runs(3) },
  );
});

// ------------------------------------------------------------------ FPU ----

const FPU_LABELS = [
  "fxsr",
  "sse",
  "sse2",
  "sse4_1",
  "sse4_2",
  "mmx",
  "3dnow",
  "3dnowext",
  "sse4a",
  "xsave",
  "avx",
  "aesni",
  "rdrand",
];

describe("FPU-class bits", () => {
  prop(
    FILE,
    "a container whose tasks never used the FPU never fails on an FPU-class bit",
    () =>
      fc.property(
        A.node({ modulesLoaded: true, containers: fc.constant([]) }),
        A.container({ state: fc.constant("running") }).map((c) => ({
          ...c,
          tasks: c.tasks.map((t) => ({ ...t, usedFpu: false })),
        })),
        fc.oneof(A.u32(), fc.constant(0)),
        (spec, ct, dstWord) => {
          const n = new NodeModel({ ...spec, containers: [ct] });
          const { flags } = containerFlags(n, ct);
          expect((flags & (FPU_BITS | bit(29))) >>> 0).toBe(0);
          const r = run(n, ["caps", String(ct.id), String(dstWord | 0)]);
          for (const label of FPU_LABELS)
            expect(r.stderr).not.toContain(`Destination cpu does not have ${label}\n`);
        },
      ),
    { numRuns: runs(2) },
  );
});

// ---------------------------------------------------------------- VECAPS ----

const VECAPS_042 = GENERATIONS.filter((g) => g.vecapsStyle === "042").map((g) => g.id);

/** Words that hit the interesting bits often: the five checks' inputs. */
const word = () =>
  fc.oneof(
    A.u32(),
    fc
      .subarray([0, 1, 2, 3, 8, 13, 14, 16, 17, 18, 24, 25, 26, 27, 28, 29])
      .map((bs) => bs.reduce((w, b) => (w | bit(b)) >>> 0, 0)),
  );

describe("CPT_TEST_VECAPS priority", () => {
  prop(
    FILE,
    "the result is the last failing check: 5 > 3 > 2 > 4 > 1, else 0",
    () =>
      fc.property(fc.constantFrom(...VECAPS_042), word(), word(), (g, ct, dst) => {
        const p = profile(g);
        const fails: Record<number, boolean> = {
          1: p.vecapsChecks.some((c) => (ct >>> c.bit) & 1 && !((dst >>> c.bit) & 1)),
          4: (dst & SLM) !== 0,
          2: (ct & p.unsupportedMask) >>> 0 !== 0,
          3: (dst & NO_IPV6) !== 0 && (ct & NO_IPV6) === 0,
          5: (ct & NS) !== 0 && (dst & NS) === 0,
        };
        const want = [5, 3, 2, 4, 1].find((r) => fails[r]) ?? 0;
        expect(vecapsCheck(p, ct, dst).result).toBe(want);
        expect(oracleVecaps(oracleGen(g), ct, dst).result).toBe(want);
      }),
    { numRuns: runs(5) },
  );

  prop(
    FILE,
    "legacy kernels answer 0, 1 or 2, and 2 whenever an unsupported bit is set",
    () =>
      fc.property(fc.constantFrom("028stab056", "2.6.32-pre"), word(), word(), (g, ct, dst) => {
        const r = vecapsCheck(profile(g), ct, dst);
        expect([0, 1, 2]).toContain(r.result);
        if ((ct & 0xffff0000) >>> 0 !== 0) expect(r.result).toBe(2);
        expect(r.messages).toEqual([]);
      }),
    { numRuns: runs(2) },
  );

  prop(
    FILE,
    "`caps VEID CAPS` exits 2 exactly when the VECAPS result is non-zero",
    () =>
      fc.property(A.node({ modulesLoaded: true }), A.u32(), (spec, dst) => {
        const n = new NodeModel(spec);
        for (const ct of spec.containers.filter((c) => c.state === "running")) {
          const result = vecapsCheck(n.profile, containerFlags(n, ct).flags, dst).result;
          const r = run(n, ["caps", String(ct.id), String(dst | 0)]);
          expect(r.exit).toBe(result !== 0 ? 2 : 0);
          expect(r.stderr.endsWith("Insufficient CPU capabilities: can't migrate\n")).toBe(
            result !== 0,
          );
        }
      }),
    { numRuns: runs(2) },
  );
});

// --------------------------------------------------------------- masking ----

/** CPUID features with a CPT bit of their own, and the label a missing one prints. */
const MASKABLE: readonly (readonly [
  feature: Parameters<typeof A.maskHiding>[0][number],
  labels: string[],
])[] = [
  ["cmov", ["cmov"]],
  ["fxsr", ["fxsr"]],
  ["sse", ["sse"]],
  ["mmx", ["mmx"]],
  ["3dnow", ["3dnow"]],
  ["3dnowext", ["3dnowext"]],
  ["sse4_1", ["sse4_1"]],
  ["sse4_2", ["sse4_2"]],
  ["sse4a", ["sse4a"]],
  ["xsave", ["xsave"]],
  ["avx", ["avx"]],
  ["aes", ["aesni"]],
  ["rdrand", ["rdrand"]],
  ["sep", ["sysenter"]],
  ["syscall", ["syscall", "syscall32"]],
];

const MASK_HONOURED = GENERATIONS.filter((g) => g.flagSource !== "raw-cpuid").map((g) => g.id);

describe("fleet-wide masking", () => {
  prop(
    FILE,
    "masking a feature on every node never makes a migration between two of them fail on it",
    () =>
      fc.property(
        fc.constantFrom(...MASKABLE),
        A.fleet({ modulesLoaded: true }, 4),
        fc.constantFrom(...MASK_HONOURED),
        ([feature, labels], fleet, srcKernel) => {
          const hide = A.maskHiding([feature]);
          const nodes = fleet.nodes.map((n, i) => {
            const mask: Record<string, number> = { ...(n.cpuidMask ?? {}) };
            for (const [k, v] of Object.entries(hide))
              mask[k] = ((mask[k] ?? 0xffffffff) & (v as number)) >>> 0;
            // The source must run a kernel that honours masks (061.9-107.x read raw CPUID).
            return new NodeModel({
              ...n,
              cpuidMask: mask,
              ...(i === 0 ? { kernel: srcKernel } : {}),
            });
          });
          const src = nodes[0] as NodeModel;
          for (const dst of nodes) {
            const caps = run(dst, ["caps"]);
            if (caps.exit !== 0) continue;
            for (const ct of src.containers) {
              const r = run(src, ["caps", String(ct.id), caps.stdout.trim()]);
              for (const l of labels)
                expect(r.stderr).not.toContain(`Destination cpu does not have ${l}\n`);
            }
          }
        },
      ),
    { numRuns: runs(1) },
  );
});

// ----------------------------------------------------- model vs oracle ----

describe("model and oracle agree (in process)", () => {
  const agreeOnRun = ([spec, args]: [NodeSpec, string[]]) => {
    const got = run(new NodeModel(spec), args);
    expect(compareRun(oracleRun(spec, args, ORACLE_ENV), got)).toBeNull();
  };
  const flagsOf = (n: NodeSpec): number => oracleNodeFlags(n, cpuWords);
  prop(
    FILE,
    "any kernel-mode argv on any node",
    () => fc.property(A.nodeWithArgv(flagsOf), agreeOnRun),
    {
      numRuns: runs(10),
    },
  );
  for (const g of GENERATIONS) {
    prop(
      FILE,
      `any kernel-mode argv on a ${g.id} node`,
      () => fc.property(A.nodeWithArgv(flagsOf, { kernel: fc.constant(g.id) }), agreeOnRun),
      { numRuns: runs(2) },
    );
  }

  const agreeOnMigration = ([src, dst]: [NodeSpec, NodeSpec], suspended: boolean, pick: number) => {
    const ids = src.containers.map((c) => c.id);
    const id = suspended || ids.length === 0 ? null : (ids[pick % ids.length] as number);
    const want = oracleMigration(src, id, dst, ORACLE_ENV);
    const got = migrate(new NodeModel(src), id, new NodeModel(dst));
    expect(got.go).toBe(want.go);
    expect(got.vt?.exit ?? null).toBe(want.calls[1].ran ? want.calls[1].exit : null);
    expect(got.ct?.exit ?? null).toBe(want.calls[3].ran ? want.calls[3].exit : null);
  };
  prop(
    FILE,
    "vzmigrate's go/no-go for any source, container and destination",
    () => fc.property(A.nodePair(), fc.boolean(), fc.nat(), agreeOnMigration),
    { numRuns: runs(10) },
  );
  // Each source generation on its own, so that its rare rules get their share.
  for (const g of GENERATIONS) {
    prop(
      FILE,
      `vzmigrate's go/no-go from a ${g.id} source`,
      () =>
        fc.property(
          A.nodePair({ kernel: fc.constant(g.id) }),
          fc.boolean(),
          fc.nat(),
          agreeOnMigration,
        ),
      { numRuns: runs(2) },
    );
  }
});
