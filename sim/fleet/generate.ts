// Synthetic fleets for `vzcptsim fleet generate` and the benchmarks: nodes with
// catalog CPUs and kernel generations in plausible proportions, containers
// with a mix of workloads (most ordinary, a few with the things that block a
// migration: real-time tasks, vzctl enter sessions, tun devices...). The same
// seed always gives the same fleet. Output is a fleet document (the file
// schema, defaults left out) that sim/schema.ts loads like any fleet file.

import { CPU_CATALOG } from "../cpu/catalog.ts";
import { maskFromFeatures } from "../cpu/mask.ts";
import { fleetFromValue, type SchemaContext, SchemaPath } from "../schema.ts";
import type { FleetSpec } from "../types.ts";

export interface GenerateOptions {
  readonly nodes: number;
  readonly containers: number;
  readonly seed: number;
  readonly name?: string;
}

/** mulberry32: small, fast, good enough to spread choices; deterministic per seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pickWeighted = <T>(rand: Rand, items: readonly (readonly [T, number])[]): T => {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return (items[items.length - 1] as readonly [T, number])[0];
};

/** Kernel generations in an OpenVZ 6 era fleet: mostly recent 042stab. */
const KERNELS: readonly (readonly [string, number])[] = [
  ["042stab109", 40],
  ["042stab108", 5],
  ["042stab101", 4],
  ["042stab093", 14],
  ["042stab092", 5],
  ["042stab088", 10],
  ["042stab061", 10],
  ["2.6.32-pre", 5],
  ["028stab056", 7],
];

/** 64-bit CPUs of the catalog (a 2.6.18 node on a Pentium 4 is not in a bench fleet). */
const CPUS: readonly string[] = CPU_CATALOG.filter((c) => c.features.includes("lm")).map(
  (c) => c.id,
);

/** Features a node's CPUID mask sometimes hides (operators hiding AVX/AES-NI). */
const MASKABLE: readonly string[] = ["avx", "aes", "sse4_2", "rdrand", "xsave"];

type Doc = Record<string, unknown>;

/** Container workloads: tasks and extras, with weights. */
const WORKLOADS: readonly (readonly [(id: number, rand: Rand) => Doc, number])[] = [
  [(id) => ({ id, tasks: [{ comm: "init" }, { comm: "nginx", usedFpu: true }] }), 50],
  [(id) => ({ id, tasks: [{ comm: "init" }] }), 14],
  [
    (id) => ({
      id,
      tasks: [{ comm: "init" }, { comm: "mysqld", usedFpu: true }],
      mounts: [{ fs: "nfs", target: "/data" }],
    }),
    10,
  ],
  [(id) => ({ id, tasks: [{ comm: "init" }, { comm: "legacy", abi: 32, usedFpu: true }] }), 8],
  [(id) => ({ id, tasks: [{ comm: "init" }, { comm: "chronyd", policy: "fifo" }] }), 0.3],
  [
    (id, r) => ({
      id,
      tasks: [
        { comm: "init" },
        { pid: 200, comm: "bash", external: true, hostPid: 20000 + Math.floor(r() * 9000) },
      ],
    }),
    0.5,
  ],
  [
    (id) => ({
      id,
      tasks: [{ comm: "init" }, { comm: "unshare", ownMountNamespace: true, usedFpu: true }],
    }),
    4,
  ],
  [
    (id) => ({
      id,
      tasks: [{ comm: "init" }, { comm: "openvpn", usedFpu: true }],
      netdevs: [{ name: "venet0" }, { name: "tun0" }],
    }),
    0.5,
  ],
  [(id) => ({ id, tasks: [{ comm: "init" }], mounts: [{ fs: "fuse", target: "/mnt/s3" }] }), 0.3],
  [
    (id) => ({
      id,
      tasks: [{ comm: "init" }, { comm: "app", usedFpu: true, ptracedFromHost: true }],
    }),
    0.1,
  ],
  [
    (id) => ({
      id,
      tasks: [{ comm: "init" }, { comm: "worker", usedFpu: true, unsupportedUse: ["splice"] }],
    }),
    0.2,
  ],
];

const STATES: readonly (readonly [string, number])[] = [
  ["running", 89],
  ["stopped", 10],
  ["locked", 1],
];

/** The fleet document (the file schema, defaults omitted). */
export function generateDocument(opts: GenerateOptions): Doc {
  const rand = prng(opts.seed);
  const width = String(opts.nodes).length;
  let nextId = 101;
  const nodes: Doc[] = [];
  for (let i = 0; i < opts.nodes; i++) {
    const node: Doc = {
      name: `node-${String(i + 1).padStart(width, "0")}`,
      kernel: pickWeighted(rand, KERNELS),
      cpu: CPUS[Math.floor(rand() * CPUS.length)],
    };
    if (rand() < 0.04) {
      const f = MASKABLE[Math.floor(rand() * MASKABLE.length)] as string;
      node.cpuidMask = Object.fromEntries(
        Object.entries(maskFromFeatures([f])).map(([k, v]) => [
          k,
          `0x${(v as number).toString(16)}`,
        ]),
      );
    }
    if (rand() < 0.04) node.ipv6 = false;
    if (rand() < 0.005) node.slmWithoutDmprst = true;
    if (rand() < 0.005) node.modules = { cpt: true, rst: false };
    const cts: Doc[] = [];
    for (let j = 0; j < opts.containers; j++) {
      const make = pickWeighted(rand, WORKLOADS);
      const ct = make(nextId++, rand);
      const state = pickWeighted(rand, STATES);
      if (state !== "running") ct.state = state;
      cts.push(ct);
    }
    node.containers = cts;
    nodes.push(node);
  }
  return {
    name: opts.name ?? `generated-${opts.nodes}x${opts.containers}-seed${opts.seed}`,
    nodes,
  };
}

/** The generated fleet, loaded through the same schema as a file. */
export function generateFleet(opts: GenerateOptions, ctx: SchemaContext): FleetSpec {
  return fleetFromValue(generateDocument(opts), new SchemaPath("generated fleet", ""), ctx);
}

/**
 * YAML text of a document: block style down to each container, which is one
 * JSON flow mapping (JSON is YAML), so 200,000 containers stay fast to write.
 */
export function documentYaml(doc: Doc): string {
  const out: string[] = [`# ${String(doc.name)}: generated by vzcptsim fleet generate`];
  out.push(`name: ${JSON.stringify(doc.name)}`, "nodes:");
  for (const node of doc.nodes as Doc[]) {
    let first = true;
    for (const [k, v] of Object.entries(node)) {
      const lead = first ? "  - " : "    ";
      first = false;
      if (k === "containers" && (v as Doc[]).length > 0) {
        out.push(`${lead}containers:`);
        for (const ct of v as Doc[]) out.push(`      - ${JSON.stringify(ct)}`);
      } else out.push(`${lead}${k}: ${JSON.stringify(v)}`);
    }
  }
  return `${out.join("\n")}\n`;
}
