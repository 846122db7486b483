// fast-check arbitraries for the property tests: kernel generations, CPUs
// (catalog entries and raw CPUID words), masks, tasks, containers, nodes,
// fleets and hostile argv. Sizes stay small so that a scenario runs fast and
// its kernel messages fit in one page; the shrinker then finds small cases.

import fc from "fast-check";
import { CPU_CATALOG, cpuWords } from "../sim/cpu/catalog.ts";
import type {
  Container,
  CpuidMask,
  CpuidWords,
  FleetSpec,
  Mount,
  NetDevice,
  NodeSpec,
  SchedPolicy,
  Task,
} from "../sim/types.ts";
import { hasFeature } from "../src/cpt/cpuid.ts";
import { GENERATIONS } from "../src/cpt/generations.ts";
import { cpuidBitOf, ORACLE_FEATURES, type OracleFeature, SUPPORTED_FS } from "./oracle.ts";

// ------------------------------------------------------------ numbers ----

export const u32 = (): fc.Arbitrary<number> => fc.integer({ min: 0, max: 0xffffffff });
export const i32 = (): fc.Arbitrary<number> => fc.integer({ min: -0x80000000, max: 0x7fffffff });

// ------------------------------------------------------- generations ----

export const GEN_IDS: readonly string[] = GENERATIONS.map((g) => g.id);
export const genId = (): fc.Arbitrary<string> => fc.constantFrom(...GEN_IDS);

/** Image versions: the known ones, near misses, and anything 32-bit. */
export const imageVersion = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(0x300, 0x301, 0x302, 0x303, 0x304, 0x400, 0x500, 0x600, 0x700, 0x703),
    fc.constantFrom(
      0x800,
      0x801,
      0x802,
      0x803,
      0x804,
      0x80f,
      0x8f3,
      0x810,
      0x10803,
      0x303 | 0x80000000,
    ),
    fc.integer({ min: 0, max: 0xffff }),
    i32(),
  );

// --------------------------------------------------------------- CPUs ----

export const VENDORS = ["GenuineIntel", "AuthenticAMD", "CentaurHauls", "HygonGenuine"] as const;
export const WORD_KEYS = [
  "leaf1Ecx",
  "leaf1Edx",
  "leaf7Ebx",
  "leaf7Ecx",
  "leaf7Edx",
  "ext1Ecx",
  "ext1Edx",
] as const;
export type WordKey = (typeof WORD_KEYS)[number];

export const catalogCpu = () => fc.constantFrom(...CPU_CATALOG);
export const catalogId = (): fc.Arbitrary<string> =>
  fc.constantFrom(...CPU_CATALOG.map((c) => c.id));

/** Raw CPUID words: random, or a catalog CPU with a few bits flipped, or a catalog CPU. */
export const cpuidWords = (): fc.Arbitrary<CpuidWords> =>
  fc.oneof(
    fc.record({
      vendor: fc.constantFrom(...VENDORS),
      family: fc.integer({ min: 0, max: 0xfff }),
      model: fc.integer({ min: 0, max: 0xfff }),
      leaf1Ecx: u32(),
      leaf1Edx: u32(),
      leaf7Ebx: u32(),
      leaf7Ecx: u32(),
      leaf7Edx: u32(),
      ext1Ecx: u32(),
      ext1Edx: u32(),
    }),
    fc
      .tuple(
        catalogCpu(),
        fc.array(fc.constantFrom(...ORACLE_FEATURES), { maxLength: 4 }),
        fc.constantFrom(...VENDORS),
      )
      .map(([c, flips, vendor]) => {
        const w: Record<string, number | string> = { ...c.words };
        for (const f of flips) {
          const [k, bit] = cpuidBitOf(f);
          w[k] = ((w[k] as number) ^ (1 << bit)) >>> 0;
        }
        if (flips.length % 2 === 1) w.vendor = vendor;
        return w as unknown as CpuidWords;
      }),
    catalogCpu().map((c) => c.words),
  );

/** A node's `cpu`: a catalog id (resolved by the simulator) or raw words. */
export const nodeCpu = (): fc.Arbitrary<string | CpuidWords> =>
  fc.oneof({ weight: 3, arbitrary: catalogId() }, { weight: 1, arbitrary: cpuidWords() });

/** A mask word that hides the given features (all other bits set). */
export function maskHiding(features: readonly OracleFeature[]): CpuidMask {
  const out: Partial<Record<WordKey, number>> = {};
  for (const f of features) {
    const [k, bit] = cpuidBitOf(f);
    out[k] = ((out[k] ?? 0xffffffff) & ~(1 << bit)) >>> 0;
  }
  return out;
}

/** CPUID masks: hiding a few named features, or arbitrary words in some places. */
export const cpuidMask = (): fc.Arbitrary<CpuidMask> =>
  fc.oneof(
    fc.array(fc.constantFrom(...ORACLE_FEATURES), { maxLength: 5 }).map(maskHiding),
    fc.record(
      {
        leaf1Ecx: u32(),
        leaf1Edx: u32(),
        leaf7Ebx: u32(),
        leaf7Ecx: u32(),
        leaf7Edx: u32(),
        ext1Ecx: u32(),
        ext1Edx: u32(),
      },
      { requiredKeys: [] },
    ),
  );

// ------------------------------------------------------ containers ----

const COMM_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/[]() ";
/** A task's comm: at most 15 bytes (TASK_COMM_LEN - 1), printable, no newline. */
export const comm = (): fc.Arbitrary<string> =>
  fc
    .string({ unit: fc.constantFrom(...COMM_CHARS), minLength: 1, maxLength: 15 })
    .filter((s) => s.trim() !== "");

export const UNSUPPORTED_USES = ["splice", "keys", "mempolicy", "inotify-on-fuse", "aio"] as const;
export const OTHER_FS = [
  "fuse",
  "btrfs",
  "xfs",
  "cifs",
  "overlay",
  "reiserfs",
  "9p",
  "ceph",
] as const;
export const NETDEV_NAMES = [
  "lo",
  "venet0",
  "veth101.0",
  "eth0",
  "tun0",
  "tap1",
  "macvlan0",
  "ppp0",
];

export interface TaskOptions {
  /** No unsupported feature (bits 16-23): only CPU/ABI use varies. */
  readonly clean?: boolean;
}

export const task = (pid: number, opts: TaskOptions = {}): fc.Arbitrary<Task> => {
  const dirty = (a: fc.Arbitrary<boolean>) => (opts.clean ? fc.constant(false) : a);
  const rare = fc.integer({ min: 0, max: 7 }).map((n) => n === 0); // true 1 in 8
  return fc.record({
    pid: fc.constant(pid),
    comm: comm(),
    kernelThread: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))),
    usedFpu: fc.boolean(),
    abi: fc.constantFrom<64 | 32>(64, 32),
    vdso: fc.boolean(),
    policy: opts.clean
      ? fc.constantFrom<SchedPolicy>("other", "batch", "idle")
      : fc.constantFrom<SchedPolicy>("other", "other", "other", "batch", "idle", "fifo", "rr"),
    ptracedFromHost: dirty(rare),
    external: dirty(rare),
    hostPid: fc.integer({ min: 1, max: 4194304 }),
    ownMountNamespace: dirty(rare),
    unsupportedUse: opts.clean
      ? fc.constant([])
      : fc.oneof(
          { weight: 6, arbitrary: fc.constant([]) },
          {
            weight: 1,
            arbitrary: fc.array(fc.constantFrom(...UNSUPPORTED_USES), {
              minLength: 1,
              maxLength: 2,
            }),
          },
        ),
  });
};

export const mount = (clean = false): fc.Arbitrary<Mount> =>
  fc.record({
    fs: clean ? fc.constantFrom(...SUPPORTED_FS) : fc.constantFrom(...SUPPORTED_FS, ...OTHER_FS),
    target: fc.constantFrom("/", "/proc", "/sys", "/mnt/data", "/dev/pts", "/run"),
  });

export const netdev = (clean = false): fc.Arbitrary<NetDevice> =>
  fc.record({
    name: fc.constantFrom(...NETDEV_NAMES),
    checkpointable: clean ? fc.constant(true) : fc.boolean(),
  });

export const containerId = (): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 1000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 0xffffffff }) },
  );

export interface ContainerOptions extends TaskOptions {
  readonly id?: fc.Arbitrary<number>;
  readonly state?: fc.Arbitrary<Container["state"]>;
  readonly maxTasks?: number;
}

/** A container; without `clean` set, half of them are clean. */
export const container = (opts: ContainerOptions = {}): fc.Arbitrary<Container> =>
  opts.clean === undefined
    ? fc.oneof(containerOf({ ...opts, clean: true }), containerOf({ ...opts, clean: false }))
    : containerOf(opts);

const containerOf = (opts: ContainerOptions): fc.Arbitrary<Container> =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: 4194304 }), { maxLength: opts.maxTasks ?? 5 })
    .chain((pids) =>
      fc.record({
        id: opts.id ?? containerId(),
        state:
          opts.state ??
          fc.constantFrom<Container["state"]>("running", "running", "running", "stopped", "locked"),
        tasks: fc.tuple(...pids.map((p) => task(p, opts))),
        mounts: fc.array(mount(opts.clean), { maxLength: 3 }),
        netdevs: fc.array(netdev(opts.clean), { maxLength: 3 }),
      }),
    );

// ------------------------------------------------------------ nodes ----

export const nodeName = (): fc.Arbitrary<string> => fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);

export interface NodeOptions {
  readonly kernel?: fc.Arbitrary<string>;
  readonly cpu?: fc.Arbitrary<string | CpuidWords>;
  readonly containers?: fc.Arbitrary<Container[]>;
  /** Both CPT modules loaded (no ENOENT paths). */
  readonly modulesLoaded?: boolean;
  readonly mask?: fc.Arbitrary<CpuidMask | undefined>;
  readonly slm?: fc.Arbitrary<boolean>;
  readonly ipv6?: fc.Arbitrary<boolean>;
  readonly arch64?: fc.Arbitrary<boolean>;
}

const often = (p: boolean) =>
  fc.oneof({ weight: 5, arbitrary: fc.constant(p) }, { weight: 1, arbitrary: fc.constant(!p) });

/** A 64-bit kernel needs a CPU with long mode (node files refuse the rest). */
const fitArch64 = (arch64: boolean, cpu: string | CpuidWords): boolean =>
  arch64 && hasFeature(cpuWords(cpu), "lm");

export const node = (opts: NodeOptions = {}): fc.Arbitrary<NodeSpec> =>
  fc
    .record({
      name: nodeName(),
      kernel: opts.kernel ?? genId(),
      cpu: opts.cpu ?? nodeCpu(),
      cpuidMask: opts.mask ?? fc.option(cpuidMask(), { nil: undefined, freq: 3 }),
      arch64: opts.arch64 ?? often(true),
      ipv6: opts.ipv6 ?? fc.constantFrom(true, true, false),
      slmWithoutDmprst: opts.slm ?? often(false),
      modules: opts.modulesLoaded
        ? fc.constant({ cpt: true, rst: true })
        : fc.record({ cpt: often(true), rst: often(true) }),
      containers:
        opts.containers ??
        fc.uniqueArray(container(), { minLength: 1, maxLength: 3, selector: (c) => c.id }),
    })
    .map(({ cpuidMask: mask, ...rest }) => {
      const n = { ...rest, arch64: fitArch64(rest.arch64, rest.cpu) };
      return mask === undefined ? n : { ...n, cpuidMask: mask };
    });

/**
 * A source and a destination for a migration: unrelated half of the time,
 * otherwise a destination much like the source (same CPU or kernel, IPv6 and
 * SLM varied), where the rarer rules decide the outcome.
 */
export const nodePair = (
  srcOpts: NodeOptions = {},
  dstOpts: NodeOptions = {},
): fc.Arbitrary<[NodeSpec, NodeSpec]> =>
  fc.oneof(
    {
      weight: 1,
      arbitrary: fc.tuple(node(srcOpts), node({ containers: fc.constant([]), ...dstOpts })),
    },
    {
      weight: 2,
      arbitrary: node(srcOpts).chain((src) =>
        fc
          .record({
            name: nodeName(),
            kernel: fc.oneof(fc.constant(src.kernel), dstOpts.kernel ?? genId()),
            cpu: fc.oneof(
              { weight: 2, arbitrary: fc.constant(src.cpu) },
              { weight: 1, arbitrary: nodeCpu() },
            ),
            ipv6: fc.boolean(),
            slm: often(false),
            mask: fc.oneof(fc.constant(src.cpuidMask), fc.option(cpuidMask(), { nil: undefined })),
          })
          .map(({ name, kernel, cpu, ipv6, slm, mask }): [NodeSpec, NodeSpec] => {
            const { cpuidMask: _drop, ...rest } = src;
            const dst: NodeSpec = {
              ...rest,
              name: `${name}-dst`,
              kernel,
              cpu,
              arch64: fitArch64(rest.arch64, cpu),
              ipv6,
              slmWithoutDmprst: slm,
              containers: [],
            };
            return [src, mask === undefined ? dst : { ...dst, cpuidMask: mask }];
          }),
      ),
    },
  );

export const fleet = (opts: NodeOptions = {}, maxNodes = 5): fc.Arbitrary<FleetSpec> =>
  fc.record({
    name: nodeName(),
    nodes: fc.uniqueArray(node(opts), {
      minLength: 1,
      maxLength: maxNodes,
      selector: (n) => n.name,
    }),
  });

// ------------------------------------------------------------- argv ----

/** Words a shell could pass: control bytes (no NUL: argv cannot carry it), unicode, huge numbers. */
export const argWord = (): fc.Arbitrary<string> =>
  fc
    .oneof(
      fc.constantFrom(
        "version",
        "caps",
        "help",
        "",
        "-h",
        "--help",
        "HELP",
        "Version",
        "caps ",
        " caps",
      ),
      fc.constantFrom("0", "-1", "101", "2051", "0x803", "771913119", "4294967295", "99999999999"),
      fc.constantFrom(
        "9223372036854775808",
        "-9223372036854775809",
        `${"9".repeat(400)}`,
        " \t\n12abc",
      ),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
      i32().map(String),
      fc.string({ unit: "binary", maxLength: 12 }),
      fc.string({
        unit: fc.integer({ min: 1, max: 0x1f }).map((c) => String.fromCharCode(c)),
        maxLength: 6,
      }),
      fc.string({ unit: "grapheme", maxLength: 8 }),
    )
    .map((s) => s.replaceAll("\0", ""));

/** argv after the program name: mostly short, sometimes thousands of words. */
export const argv = (): fc.Arbitrary<string[]> =>
  fc
    .oneof(
      { weight: 8, arbitrary: fc.array(argWord(), { maxLength: 4 }) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom("version", "caps"), fc.array(argWord(), { maxLength: 3 }))
          .map(([a, r]) => [a, ...r]),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.array(argWord(), { maxLength: 2 }),
            argWord(),
            fc.integer({ min: 1000, max: 5000 }),
          )
          .map(([head, w, n]) => [...head, ...Array(n).fill(w)]),
      },
    )
    .map(fitArgMax);

/** Keep argv well under the kernel's ARG_MAX (execve fails with E2BIG beyond it). */
function fitArgMax(args: string[]): string[] {
  const enc = new TextEncoder();
  let total = 0;
  const out: string[] = [];
  for (const a of args) {
    total += enc.encode(a).length + 1;
    if (total > 512 * 1024) break;
    out.push(a);
  }
  return out;
}

/**
 * argv of the kernel modes only, with numbers that reach the model: `ids` are
 * containers that exist, `caps` capability words worth trying (other nodes' flags).
 */
export const modeArgv = (
  ids: readonly number[],
  caps: readonly number[] = [],
): fc.Arbitrary<string[]> => {
  const id =
    ids.length > 0
      ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids) }, containerId())
      : containerId();
  const word =
    caps.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...caps) }, u32()) : u32();
  const num = fc.oneof(
    { weight: 6, arbitrary: word.map((w) => String(w | 0)) },
    { weight: 1, arbitrary: word.map(String) },
    { weight: 1, arbitrary: argWord() },
  );
  return fc.oneof(
    fc.constant<string[]>(["version"]),
    { weight: 2, arbitrary: imageVersion().map((v) => ["version", String(v)]) },
    fc.constant<string[]>(["caps"]),
    num.map((c) => ["caps", c]),
    { weight: 3, arbitrary: fc.tuple(id.map(String), num).map(([i, c]) => ["caps", i, c]) },
  );
};

/**
 * A node and a kernel-mode argv for it, whose caps words are often its own
 * flags or another node's (`flagsOf` computes a node's flags).
 */
export const nodeWithArgv = (
  flagsOf: (n: NodeSpec) => number,
  opts: NodeOptions = {},
): fc.Arbitrary<[NodeSpec, string[]]> =>
  fc.tuple(node(opts), node({ containers: fc.constant([]) })).chain(([n, other]) =>
    fc.tuple(
      fc.constant(n),
      modeArgv(
        n.containers.map((c) => c.id),
        [flagsOf(n), flagsOf(other)],
      ),
    ),
  );
