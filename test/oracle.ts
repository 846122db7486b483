// The test oracle: what vzcptcheck and vzmigrate's check should do for a
// source node, a container and a destination node, re-derived on its own from
// ../shared/spec (cli-contract.md, usage.txt, kernel-cpt.md). It deliberately
// imports nothing from sim/ (types aside) nor src/cpt/generations.ts,
// nodeflags.ts, modes.ts or grammar.ts: it is the second, independent opinion
// the properties compare the simulator and the real executable against.
// Allowed imports: glibc atoi, errno numbers/texts, request numbers.
//
// Decisions taken where the spec is silent, following what the kernel and
// CPU helpers documented (sim/kernel/*.ts headers, src/cpt/nodeflags.ts):
//  1. Generation ids and their ranges are the simulator's (028stab056,
//     2.6.32-pre, 042stab061/088/092/093/101/108/109); 042stab101 stands for
//     101.5-107.x, whose cpt CPT_TEST_CAPS answers EAGAIN.
//  2. The 061.9 IPv6 quirk applies to the whole 042stab061 entry (061.9-088.3).
//  3. "kernel caps" (2.6.18, 2.6.32-pre) honour the node's CPUID mask, like
//     108.1+; 061.9-107.x read raw CPUID and ignore it.
//  4. 32-bit kernel: sse2 from the CPU, no emt64, no syscall32; syscall only on
//     non-Intel CPUs; sysenter+sep32 from SEP for any vendor.
//  5. 2.6.32-pre follows the 042stab vendor rules; 2.6.18's sysenter does not.
//  6. Only the bits a generation defines survive in its node flags: 2.6.18
//     0-9 and 16-23, 2.6.32-pre 0-12 and 16-24, 042stab 0-28 (0-29 with rdrand).
//  7. Legacy VECAPS lists: 2.6.18 cmov..sysenter, emt64, ia64; 2.6.32-pre adds
//     syscall, syscall32. Legacy results: CPU shortfall 1; 2.6.32-pre with a
//     destination SLM bit 1; any unsupported bit 2, which wins. Their texts go
//     to the kernel log only: nothing reaches the error pipe from the checks.
//  8. Container-flag messages exist on every generation; one per unsupported
//     use of a task; netdev: the first only; filesystems: every such mount.
//     Messages are buffered in one page: at most 4095 bytes per request.
//  9. rst CPT_TEST_VERSION reads its argument as unsigned 32-bit.
// 10. CPT_SET_VEID stores the id as unsigned; VECAPS on id 0 is EINVAL.
// 11. A node whose flags are 0 makes `caps` fail with errno 0 ("Success").
// 12. vzmigrate aborts when `caps [ID] CAPS` exits non-zero, like the version
//     test (the spec only says so for the latter).
// 13. The exact texts of the scheduler-policy, ptrace and unsupported-use
//     messages are not in the spec: they are matched by pattern only.

import type { Container, CpuidMask, CpuidWords, NodeSpec } from "../sim/types.ts";
import { atoi } from "../src/atoi.ts";
import {
  EACCES,
  EAGAIN,
  EBUSY,
  EINVAL,
  ENOENT,
  ENOSYS,
  ESRCH,
  strerrorC,
} from "../src/cpt/errno.ts";

// ---------------------------------------------------------------- facts ----

/** usage.txt, byte for byte. */
export const SPEC_USAGE = [
  "Usage:\tvzcptcheck <command> [argument ...]",
  " [S]\tvzcptcheck version\t\tshow cpt in-kernel version",
  " [D]\tvzcptcheck version <ver>\ttest if <ver> version is supported",
  " [D]\tvzcptcheck caps\t\t\tshow CPU capabilities",
  " [S]\tvzcptcheck caps <caps>\t\ttest if <caps> work",
  " [S]\tvzcptcheck caps <veid> <caps>\ttest if <caps> work for running <veid>",
  "",
  "[S] -- run this on source node",
  "[D] -- run on destination node",
  "",
].join("\n");

/** Bit numbers of the capability word (kernel-cpt.md). */
export const BIT = {
  cmov: 0,
  fxsr: 1,
  sse: 2,
  sse2: 3,
  mmx: 4,
  "3dnow": 5,
  "3dnowext": 6,
  sysenter: 7,
  emt64: 8,
  ia64: 9,
  syscall: 10,
  syscall32: 11,
  sep32: 12,
  sse4_1: 13,
  sse4_2: 14,
  sse4a: 15,
  external: 16,
  namespaces: 17,
  sched: 18,
  ptraced: 19,
  fs: 20,
  bind: 21,
  netdev: 22,
  misc: 23,
  slm: 24,
  xsave: 25,
  avx: 26,
  aesni: 27,
  noIpv6: 28,
  rdrand: 29,
} as const;
export type BitName = keyof typeof BIT;

const m = (...names: BitName[]): number => names.reduce((w, n) => (w | (1 << BIT[n])) >>> 0, 0);
const span = (lo: number, hi: number): number => {
  let w = 0;
  for (let i = lo; i <= hi; i++) w = (w | (1 << i)) >>> 0;
  return w;
};
const has = (w: number, bit: number): boolean => ((w >>> bit) & 1) === 1;

/** Bits a task that used the FPU takes from the node (rdrand only 108.1+). */
export const FPU_BITS = m(
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
);

type Check = readonly [label: string, bit: number];
const checks = (...names: BitName[]): Check[] => names.map((n) => [n, BIT[n]] as const);

const LEGACY_EIGHT = checks("cmov", "fxsr", "sse", "sse2", "mmx", "3dnow", "3dnowext", "sysenter");

function list042(bug: boolean, rdrand: boolean): Check[] {
  const l = checks(
    "cmov",
    "fxsr",
    "sse",
    "sse2",
    "sse4_1",
    "sse4_2",
    "mmx",
    "3dnow",
    "3dnowext",
    "sse4a",
  );
  if (bug) l[5] = ["sse4_2", BIT.sse4_1]; // the label bug: sse4_1's bit under sse4_2's name
  l.push(...checks("sysenter", "emt64", "ia64", "syscall", "syscall32", "xsave", "avx", "aesni"));
  if (rdrand) l.push(["rdrand", BIT.rdrand]);
  return l;
}

export interface OracleGen {
  readonly id: string;
  /** "2.6.18", "2.6.32-pre" or null for 042stab. */
  readonly legacy: "2.6.18" | "2.6.32-pre" | null;
  /** cpt CPT_TEST_VERSION's answer; null: no such request (-EINVAL), rst too. */
  readonly version: number | null;
  /** cpt CPT_TEST_CAPS: run the check, or fail with this errno. */
  readonly cptCaps: "check" | typeof ENOSYS | typeof EAGAIN;
  readonly cptList: readonly Check[];
  readonly vecapsList: readonly Check[];
  readonly unsupported: number;
  readonly defined: number;
  /** The node's CPU flags honour its CPUID mask. */
  readonly masked: boolean;
  readonly rdrand: boolean;
  /** Container flags start with the node's no-IPv6 bit (not 061.9). */
  readonly ctNoIpv6: boolean;
}

const gen042 = (
  id: string,
  version: number,
  bug: boolean,
  rdrand: boolean,
  cptCaps: OracleGen["cptCaps"],
  ctNoIpv6 = true,
): OracleGen => ({
  id,
  legacy: null,
  version,
  cptCaps,
  cptList: list042(bug, rdrand),
  vecapsList: list042(bug, rdrand),
  unsupported: rdrand ? 0xc1fd0000 : 0xe1fd0000,
  defined: span(0, rdrand ? 29 : 28),
  masked: rdrand, // 108.1+ read masked caps; 061.9-107.x raw CPUID
  rdrand,
  ctNoIpv6,
});

export const ORACLE_GENS: readonly OracleGen[] = [
  {
    id: "028stab056",
    legacy: "2.6.18",
    version: null,
    cptCaps: "check",
    cptList: LEGACY_EIGHT,
    vecapsList: [...LEGACY_EIGHT, ...checks("emt64", "ia64")],
    unsupported: 0xffff0000,
    defined: (span(0, 9) | span(16, 23)) >>> 0,
    masked: true,
    rdrand: false,
    ctNoIpv6: false,
  },
  {
    id: "2.6.32-pre",
    legacy: "2.6.32-pre",
    version: null,
    cptCaps: "check",
    cptList: LEGACY_EIGHT,
    vecapsList: [...LEGACY_EIGHT, ...checks("emt64", "ia64", "syscall", "syscall32")],
    unsupported: 0xffff0000,
    defined: (span(0, 12) | span(16, 24)) >>> 0,
    masked: true,
    rdrand: false,
    ctNoIpv6: false,
  },
  gen042("042stab061", 0x801, true, false, "check", false),
  gen042("042stab088", 0x803, true, false, "check"),
  gen042("042stab092", 0x803, true, false, "check"),
  gen042("042stab093", 0x803, false, false, "check"),
  gen042("042stab101", 0x803, false, false, EAGAIN),
  gen042("042stab108", 0x803, false, true, ENOSYS),
  gen042("042stab109", 0x803, false, true, "check"),
];

export const ORACLE_GEN_IDS: readonly string[] = ORACLE_GENS.map((g) => g.id);

export function oracleGen(id: string): OracleGen {
  const g = ORACLE_GENS.find((x) => x.id === id);
  if (!g) throw new Error(`oracle: unknown generation ${id}`);
  return g;
}

/** rst CPT_TEST_VERSION: 1 accept, 0 reject, null no such request. */
export function oracleRestoreAccepts(g: OracleGen, v: number): 1 | 0 | null {
  if (g.version === null) return null;
  const u = v >>> 0;
  const major = u & 0xff00;
  if (major === 0x300 && u >= 0x303) return 1;
  if (major === 0x800 && (u & 0xf) <= (g.version & 0xf)) return 1;
  return 0;
}

// ---------------------------------------------------------- node flags ----

// CPUID bit positions (Intel SDM Vol. 2A, AMD APM Vol. 3).
const CPUID = {
  cmov: ["leaf1Edx", 15],
  mmx: ["leaf1Edx", 23],
  fxsr: ["leaf1Edx", 24],
  sse: ["leaf1Edx", 25],
  sse2: ["leaf1Edx", 26],
  sep: ["leaf1Edx", 11],
  sse4_1: ["leaf1Ecx", 19],
  sse4_2: ["leaf1Ecx", 20],
  aes: ["leaf1Ecx", 25],
  xsave: ["leaf1Ecx", 26],
  avx: ["leaf1Ecx", 28],
  rdrand: ["leaf1Ecx", 30],
  syscall: ["ext1Edx", 11],
  "3dnowext": ["ext1Edx", 30],
  "3dnow": ["ext1Edx", 31],
  sse4a: ["ext1Ecx", 6],
} as const satisfies Record<string, readonly [keyof CpuidMask, number]>;
export type OracleFeature = keyof typeof CPUID;
export const ORACLE_FEATURES = Object.keys(CPUID) as OracleFeature[];

/** The CPUID word and bit of a feature the node flags depend on. */
export const cpuidBitOf = (f: OracleFeature): readonly [keyof CpuidMask, number] => CPUID[f];

/** A node's CPU: resolves a catalog id (injected: the oracle does not import sim/). */
export type CpuResolver = (cpu: string | CpuidWords) => CpuidWords;

function cpuHas(w: CpuidWords, f: OracleFeature): boolean {
  const [key, bit] = CPUID[f];
  return has(w[key], bit);
}

function masked(w: CpuidWords, mask: CpuidMask | undefined): CpuidWords {
  if (!mask) return w;
  const out: Record<string, number | string> = { ...w };
  for (const [k, v] of Object.entries(mask)) {
    if (v !== undefined) out[k] = ((w[k as keyof CpuidMask] & v) >>> 0) as number;
  }
  return out as unknown as CpuidWords;
}

/** What rst's CPT_TEST_CAPS returns on `node` (unsigned). */
export function oracleNodeFlags(node: NodeSpec, resolve: CpuResolver): number {
  const g = oracleGen(node.kernel);
  const raw = resolve(node.cpu);
  const w = g.masked ? masked(raw, node.cpuidMask) : raw;
  const intel = raw.vendor === "GenuineIntel";
  let f = 0;
  const set = (n: BitName, on: boolean): void => {
    if (on) f = (f | (1 << BIT[n])) >>> 0;
  };
  for (const n of [
    "cmov",
    "fxsr",
    "sse",
    "mmx",
    "3dnow",
    "3dnowext",
    "sse4_1",
    "sse4_2",
    "sse4a",
    "xsave",
    "avx",
  ] as const) {
    set(n, cpuHas(w, n));
  }
  set("aesni", cpuHas(w, "aes"));
  set("rdrand", g.rdrand && cpuHas(w, "rdrand"));
  set("sse2", node.arch64 || cpuHas(w, "sse2"));
  set("emt64", node.arch64);
  const syscall = cpuHas(w, "syscall") && (node.arch64 || !intel);
  set("syscall", syscall);
  set("syscall32", syscall && node.arch64 && !intel);
  const sep = cpuHas(w, "sep") && (intel || g.legacy === "2.6.18" || !node.arch64);
  set("sysenter", sep);
  set("sep32", sep);
  if (g.legacy === null) {
    set("namespaces", true);
    set("noIpv6", !node.ipv6);
  }
  set("slm", node.slmWithoutDmprst);
  return (f & g.defined) >>> 0;
}

// ----------------------------------------------------- container flags ----

/** One expected line of the error pipe, without "Error: " and "\n". */
export type KernelLine = { readonly exact: string } | { readonly pattern: RegExp };

const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** 042stab141.3's list of filesystems the kernel can checkpoint. */
export const SUPPORTED_FS: readonly string[] = [
  "rootfs",
  "ext2",
  "ext3",
  "ext4",
  "simfs",
  "unionfs",
  "tmpfs",
  "devtmpfs",
  "nfs",
  "nfs4",
  "autofs",
  "devpts",
  "proc",
  "sysfs",
  "binfmt_misc",
  "vzfs",
  "rpc_pipefs",
  "mqueue",
  "cgroup",
];

export interface OracleContainerFlags {
  readonly flags: number;
  readonly lines: KernelLine[];
}

export function oracleContainerFlags(
  node: NodeSpec,
  ct: Container,
  resolve: CpuResolver,
): OracleContainerFlags {
  const g = oracleGen(node.kernel);
  const nf = oracleNodeFlags(node, resolve);
  const intel = resolve(node.cpu).vendor === "GenuineIntel";
  const old = g.legacy === "2.6.18";
  const start = m("cmov") | (g.ctNoIpv6 ? m("noIpv6") : 0) | (node.arch64 ? m("syscall") : 0);
  let flags = (nf & start) >>> 0;
  const lines: KernelLine[] = [];
  const add = (w: number): void => {
    flags = (flags | w) >>> 0;
  };
  for (const t of ct.tasks) {
    if (t.kernelThread) continue;
    if (t.usedFpu) add(old ? nf : nf & (FPU_BITS | (g.rdrand ? m("rdrand") : 0)));
    if (t.abi === 64) add(nf & m("emt64"));
    else if (t.vdso) add(nf & (old || intel ? m("sysenter") : m("syscall32")));
    if (t.external) {
      add(m("external"));
      lines.push({
        exact: `external process ${t.pid}/${t.hostPid}(${t.comm}) inside CT (e.g. vzctl enter or vzctl exec).`,
      });
    }
    if (t.ownMountNamespace) add(m("namespaces"));
    if (t.policy === "fifo" || t.policy === "rr") {
      add(m("sched"));
      lines.push({ pattern: /^scheduler policy is not supported\b/ });
    }
    if (t.ptracedFromHost) {
      add(m("ptraced"));
      lines.push({ pattern: /^task .+ is ptraced from host system$/ });
    }
    if (t.unsupportedUse.length > 0) {
      add(m("misc"));
      for (const use of t.unsupportedUse) lines.push({ pattern: new RegExp(reEscape(use)) });
    }
  }
  const dev = ct.netdevs.find((d) => !d.checkpointable);
  if (dev) {
    add(m("netdev"));
    lines.push({ exact: `unsupported netdevice ${dev.name}` });
  }
  for (const mt of ct.mounts) {
    if (SUPPORTED_FS.includes(mt.fs)) continue;
    add(m("fs"));
    lines.push({ exact: `Unsupported filesystem ${mt.fs}` });
  }
  return { flags, lines };
}

// -------------------------------------------------------------- VECAPS ----

export interface OracleVecaps {
  readonly result: number;
  /** The check messages (to the error pipe), in order. */
  readonly lines: string[];
  /** Which of the five checks failed (1-5 in kernel order), for explanations. */
  readonly failed: number[];
}

export function oracleVecaps(g: OracleGen, ct: number, dst: number): OracleVecaps {
  const lines: string[] = [];
  const failed: number[] = [];
  const cpuMissing = g.vecapsList.filter(([, b]) => has(ct, b) && !has(dst, b)).map(([l]) => l);
  if (g.legacy !== null) {
    let result = cpuMissing.length > 0 ? 1 : 0;
    if (cpuMissing.length > 0) failed.push(1);
    if (g.legacy === "2.6.32-pre" && has(dst, BIT.slm)) {
      result = 1;
      failed.push(2);
    }
    if ((ct & g.unsupported) >>> 0 !== 0) {
      result = 2;
      failed.push(3);
    }
    return { result, lines, failed };
  }
  let result = 0;
  for (const l of cpuMissing) lines.push(`Destination cpu does not have ${l}`);
  if (cpuMissing.length > 0) {
    result = 1;
    failed.push(1);
  }
  if (has(dst, BIT.slm)) {
    lines.push("SLM is enabled on destination node, but slm_dmprst module is not loaded");
    result = 4;
    failed.push(2);
  }
  if ((ct & g.unsupported) >>> 0 !== 0) {
    result = 2;
    failed.push(3);
  }
  if (has(dst, BIT.noIpv6) && !has(ct, BIT.noIpv6)) {
    lines.push("IPv6 not loaded or disabled on destination node");
    result = 3;
    failed.push(4);
  }
  if (has(ct, BIT.namespaces) && !has(dst, BIT.namespaces)) {
    lines.push("Mount namespaces migration support is not present on destination node");
    result = 5;
    failed.push(5);
  }
  return { result, lines, failed };
}

/** cpt CPT_TEST_CAPS on `g` with this node's flags `src` and argument `dst`. */
export function oracleCptCaps(
  g: OracleGen,
  src: number,
  dst: number,
): { ret: number; errno: number } {
  if (g.cptCaps !== "check") return { ret: -1, errno: g.cptCaps };
  const missing = g.cptList.some(([, b]) => has(src, b) && !has(dst, b));
  return { ret: missing ? 1 : 0, errno: 0 };
}

// ------------------------------------------------------- one invocation ----

export interface OracleRun {
  readonly exit: number;
  readonly stdout: string;
  /** What the kernel wrote into the error pipe (drained before the tool's own text). */
  readonly kernel: readonly KernelLine[];
  /** The tool's own stderr text (usage, error line...), after the kernel's. */
  readonly tool: string;
}

export interface OracleEnv {
  readonly resolve: CpuResolver;
  /** Effective uid of the process (default root). */
  readonly euid?: number;
}

const INSUFFICIENT = "Insufficient CPU capabilities: can't migrate\n";
const OLD_KERNEL = "vzcptcheck WARNING: old kernel, please update to kernel >= 042stab107.x\n";

const done = (exit: number, stdout = "", tool = "", kernel: KernelLine[] = []): OracleRun => ({
  exit,
  stdout,
  kernel,
  tool,
});
const ioctlError = (name: string, errno: number): OracleRun =>
  done(1, "", `Error in ioctl(${name}): ${strerrorC(errno)}\n`);

/** `vzcptcheck ARGV...` on `node`, per cli-contract.md. */
export function oracleRun(node: NodeSpec, argv: readonly string[], env: OracleEnv): OracleRun {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help") return done(0, SPEC_USAGE);
  const usageError = done(1, "", SPEC_USAGE);
  if (cmd !== "version" && cmd !== "caps") return usageError;
  if ((cmd === "version" && rest.length > 1) || (cmd === "caps" && rest.length > 2))
    return usageError;

  const g = oracleGen(node.kernel);
  const euid = env.euid ?? 0;
  const openFails = (side: "cpt" | "rst"): OracleRun | null => {
    const errno = !node.modules[side] ? ENOENT : euid !== 0 ? EACCES : 0;
    if (errno === 0) return null;
    const mod = side === "cpt" ? "vzcpt" : "vzrst";
    return done(
      1,
      "",
      `Can't open /proc/${side}: ${strerrorC(errno)}\nKernel module ${mod} not loaded\n`,
    );
  };

  if (cmd === "version") {
    if (rest.length === 0) {
      const bad = openFails("cpt");
      if (bad) return bad;
      if (g.version === null) return ioctlError("CPT_TEST_VERSION", EINVAL);
      return done(0, `${g.version}\n`);
    }
    const v = atoi(rest[0] as string);
    const bad = openFails("rst");
    if (bad) return bad;
    const r = oracleRestoreAccepts(g, v);
    if (r === null || r === 1) return done(0); // EINVAL: an old kernel, silent pass
    return done(2, "", `CPT version ${v} rejected: can't migrate\n`);
  }

  if (rest.length === 0) {
    const bad = openFails("rst");
    if (bad) return bad;
    const flags = oracleNodeFlags(node, env.resolve) | 0;
    if (flags > 0) return done(0, `${flags}\n`);
    return ioctlError("CPT_TEST_CAPS", 0); // decision 11
  }

  const bad = openFails("cpt");
  if (bad) return bad;
  if (rest.length === 1) {
    const caps = atoi(rest[0] as string);
    const r = oracleCptCaps(g, oracleNodeFlags(node, env.resolve), caps >>> 0);
    if (r.ret < 0) return done(0, "", OLD_KERNEL);
    return r.ret > 0 ? done(2, "", INSUFFICIENT) : done(0);
  }

  const veid = atoi(rest[0] as string) >>> 0;
  const caps = atoi(rest[1] as string) >>> 0;
  if (veid === 0) return ioctlError("CPT_TEST_VECAPS", EINVAL);
  const ct = node.containers.find((c) => c.id === veid);
  if (!ct) return ioctlError("CPT_TEST_VECAPS", ESRCH);
  if (ct.state === "stopped")
    return { ...ioctlError("CPT_TEST_VECAPS", ESRCH), kernel: [{ exact: "CT is not running" }] };
  if (ct.state === "locked")
    return { ...ioctlError("CPT_TEST_VECAPS", EBUSY), kernel: [{ exact: "CT is locked" }] };
  const cf = oracleContainerFlags(node, ct, env.resolve);
  const v = oracleVecaps(g, cf.flags, caps);
  const kernel = [...cf.lines, ...v.lines.map((exact) => ({ exact }))];
  return v.result > 0 ? done(2, "", INSUFFICIENT, kernel) : done(0, "", "", kernel);
}

// ------------------------------------------------------ vzmigrate's check ----

export interface OracleCall extends OracleRun {
  readonly node: "source" | "destination";
  readonly argv: readonly string[];
  /** false: vzmigrate skipped this call (its input was unavailable). */
  readonly ran: boolean;
}

export interface OracleMigration {
  /** version (src), version N (dst), caps (dst), caps [ID] CAPS (src). */
  readonly calls: readonly [OracleCall, OracleCall, OracleCall, OracleCall];
  readonly go: boolean;
}

const SKIPPED: OracleRun = done(0);
/** `$(cmd)`: the shell drops trailing newlines. */
const captured = (s: string): string => s.replace(/\n+$/, "");

/**
 * vzmigrate's check_cpt_props for a container `ctId` on `src` (null: a
 * suspended container, `$id` empty) moving to `dst`.
 */
export function oracleMigration(
  src: NodeSpec,
  ctId: number | null,
  dst: NodeSpec,
  env: OracleEnv,
): OracleMigration {
  const call = (node: "source" | "destination", argv: string[], run: boolean): OracleCall => ({
    ...(run ? oracleRun(node === "source" ? src : dst, argv, env) : SKIPPED),
    node,
    argv,
    ran: run,
  });
  const c1 = call("source", ["version"], true);
  const version = captured(c1.stdout);
  const c2 = call("destination", ["version", version], c1.exit === 0 && version !== "");
  const c3 = call("destination", ["caps"], true);
  const caps = captured(c3.stdout);
  const c4argv = ctId === null ? ["caps", caps] : ["caps", String(ctId), caps];
  const c4 = call("source", c4argv, c3.exit === 0 && caps !== "");
  const go = !(c2.ran && c2.exit !== 0) && !(c4.ran && c4.exit !== 0);
  return { calls: [c1, c2, c3, c4], go };
}

// ------------------------------------------------------------- matching ----

/** One page minus the C string's NUL: the most a request can flush. */
export const MESSAGE_BUFFER_BYTES = 4095;

const matches = (line: string, k: KernelLine): boolean =>
  "exact" in k ? line === k.exact : k.pattern.test(line);

/**
 * Does an actual run match the oracle's? Returns null when it does, else a
 * one-line description of the first difference. Kernel lines are compared as
 * a multiset for the container-flag messages (the spec fixes no order between
 * tasks, devices and mounts) and in order for the trailing check messages;
 * when the page limit cut the messages, only the complete lines are checked.
 */
export function compareRun(
  expected: OracleRun,
  actual: { exit: number; stdout: string; stderr: string },
): string | null {
  if (actual.exit !== expected.exit) return `exit ${actual.exit}, oracle says ${expected.exit}`;
  if (actual.stdout !== expected.stdout) {
    return `stdout ${JSON.stringify(actual.stdout)}, oracle says ${JSON.stringify(expected.stdout)}`;
  }
  if (!actual.stderr.endsWith(expected.tool)) {
    return `stderr ${JSON.stringify(actual.stderr)} does not end with the tool's ${JSON.stringify(expected.tool)}`;
  }
  const kernelText = actual.stderr.slice(0, actual.stderr.length - expected.tool.length);
  const bytes = new TextEncoder().encode(kernelText).length;
  if (bytes > MESSAGE_BUFFER_BYTES) return `kernel wrote ${bytes} bytes, more than one page`;
  const cut = bytes === MESSAGE_BUFFER_BYTES && !kernelText.endsWith("\n");
  if (!cut && kernelText !== "" && !kernelText.endsWith("\n")) {
    return `kernel text does not end in a newline: ${JSON.stringify(kernelText.slice(-80))}`;
  }
  const lines = kernelText === "" ? [] : kernelText.split("\n");
  lines.pop(); // "" after the final newline, or the partial line of a cut buffer
  for (const l of lines)
    if (!l.startsWith("Error: ")) return `kernel line without "Error: ": ${JSON.stringify(l)}`;
  const got = lines.map((l) => l.slice("Error: ".length));
  const want = expected.kernel;
  if (!cut && got.length !== want.length) {
    return `kernel lines ${JSON.stringify(got)}, oracle expects ${want.length}: ${describeLines(want)}`;
  }
  if (cut && got.length > want.length)
    return `more kernel lines than the oracle expects: ${JSON.stringify(got)}`;
  // The check messages close the list, in order: match them from the end.
  const checkCount = want.filter((k) => "exact" in k && isCheckMessage(k.exact)).length;
  const wantChecks = want.slice(want.length - checkCount);
  const wantFlags = want.slice(0, want.length - checkCount);
  if (!cut) {
    const gotChecks = got.slice(got.length - checkCount);
    for (let i = 0; i < checkCount; i++) {
      if (!matches(gotChecks[i] as string, wantChecks[i] as KernelLine)) {
        return `check messages ${JSON.stringify(gotChecks)}, oracle: ${describeLines(wantChecks)}`;
      }
    }
  }
  const gotFlags = cut ? got : got.slice(0, got.length - checkCount);
  // Multiset match: exact expectations first, then patterns (most specific first).
  const pool = [...gotFlags];
  const order = [...(cut ? want : wantFlags)].sort((a, b) => rank(a) - rank(b));
  let unmatched = 0;
  for (const k of order) {
    const i = pool.findIndex((l) => matches(l, k));
    if (i >= 0) pool.splice(i, 1);
    else unmatched++;
  }
  if (pool.length > 0)
    return `unexpected kernel lines ${JSON.stringify(pool)}; oracle: ${describeLines(want)}`;
  if (!cut && unmatched > 0)
    return `kernel lines ${JSON.stringify(got)}, oracle: ${describeLines(want)}`;
  return null;
}

const rank = (k: KernelLine): number =>
  "exact" in k ? 0 : k.pattern.source.startsWith("^") ? 1 : 2;

const CHECK_PREFIXES = [
  "Destination cpu does not have ",
  "SLM is enabled on destination node",
  "IPv6 not loaded or disabled",
  "Mount namespaces migration support",
];
const isCheckMessage = (s: string): boolean => CHECK_PREFIXES.some((p) => s.startsWith(p));

export const describeLines = (ls: readonly KernelLine[]): string =>
  JSON.stringify(ls.map((k) => ("exact" in k ? k.exact : `/${k.pattern.source}/`)));

/** The exact stderr, when every expected kernel line is exact and nothing is cut. */
export function exactStderr(r: OracleRun): string | null {
  const parts: string[] = [];
  for (const k of r.kernel) {
    if (!("exact" in k)) return null;
    parts.push(`Error: ${k.exact}\n`);
  }
  const kernel = parts.join("");
  if (new TextEncoder().encode(kernel).length > MESSAGE_BUFFER_BYTES) return null;
  return kernel + r.tool;
}
