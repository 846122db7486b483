// Container flags: the capability word CPT_TEST_VECAPS computes for a running
// container before comparing it with the destination (kernel-cpt.md,
// "Container flags"). Pure: node facts + container in, flags + messages out.
//
//   containerFlags(node, ct): { flags, messages }
//
// Message order (it is the order they reach the error fd): tasks in the
// container's task order, and within a task: external process (16),
// scheduler policy (18), ptraced from host (19), unsupported uses (23, one
// message per feature, in the task's order); then the
// first network device that cannot be checkpointed (22); then every mount of
// an unsupported filesystem (20), in mount order. Own mount namespace (17) is
// silent. Kernel threads are skipped entirely. Texts carry no "Error: "
// prefix and no newline; the context buffer adds them.

import { BIT_BY_NAME } from "../../src/cpt/bits.ts";
import type { Container, Task } from "../types.ts";
import type { KernelProfile } from "./profiles.ts";

/** What the rules need to know about the node (NodeModel has all of it). */
export interface NodeFacts {
  readonly profile: KernelProfile;
  /** The node's CPT flags (what rst CPT_TEST_CAPS returns). */
  readonly flags: number;
  /** CPU vendor is GenuineIntel. */
  readonly intel: boolean;
  /** 64-bit kernel. */
  readonly arch64: boolean;
}

export interface FlagsAndMessages {
  readonly flags: number;
  readonly messages: string[];
}

const mask = (...names: string[]): number =>
  names.reduce((m, n) => (m | (1 << (BIT_BY_NAME.get(n) as { bit: number }).bit)) >>> 0, 0);

const CMOV = mask("cmov");
const NO_IPV6 = mask("no_ipv6");
const SYSCALL = mask("syscall");
const EMT64 = mask("emt64");
const SYSENTER = mask("sysenter");
const SYSCALL32 = mask("syscall32");
const EXTERNAL = mask("external_process");
const NAMESPACES = mask("namespaces");
const SCHED = mask("sched_policy");
const PTRACED = mask("ptraced");
const UNSUPPORTED_FS = mask("unsupported_fs");
const UNSUPPORTED_NETDEV = mask("unsupported_netdev");
const UNSUPPORTED_MISC = mask("unsupported_misc");

const FPU_STATE = mask(
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
const RDRAND = mask("rdrand");

/** Filesystems the kernel can checkpoint (042stab141.3's list; used for every generation). */
export const SUPPORTED_FILESYSTEMS: ReadonlySet<string> = new Set([
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
]);

const POLICY_NAMES: Readonly<Record<string, string>> = { fifo: "SCHED_FIFO", rr: "SCHED_RR" };

/** How the kernel names a task: pid inside the CT / pid on the host (comm). */
export const taskId = (t: Task): string => `${t.pid}/${t.hostPid}(${t.comm})`;

export const msgExternal = (t: Task): string =>
  `external process ${taskId(t)} inside CT (e.g. vzctl enter or vzctl exec).`;
export const msgSched = (t: Task): string =>
  `scheduler policy is not supported: task ${taskId(t)} uses ${POLICY_NAMES[t.policy] ?? t.policy}`;
export const msgPtraced = (t: Task): string => `task ${taskId(t)} is ptraced from host system`;
export const msgUnsupportedUse = (t: Task, what: string): string =>
  `task ${taskId(t)} uses ${what}, which cannot be checkpointed`;
export const msgNetdev = (name: string): string => `unsupported netdevice ${name}`;
export const msgFilesystem = (fs: string): string => `Unsupported filesystem ${fs}`;

/** The FPU/extended-state bits a task that used the FPU takes from the node. */
export function fpuBits(p: KernelProfile): number {
  return p.hasRdrand ? (FPU_STATE | RDRAND) >>> 0 : FPU_STATE;
}

/** Flags a container starts from, before looking at its tasks. */
export function baseFlags(node: NodeFacts): number {
  const start = node.profile.containerCarriesNoIpv6 ? CMOV | NO_IPV6 : CMOV;
  const sys = node.arch64 ? SYSCALL : 0;
  return (node.flags & (start | sys)) >>> 0;
}

/** One task's contribution: flags and messages (none for a kernel thread). */
export function taskFlags(node: NodeFacts, t: Task): FlagsAndMessages {
  if (t.kernelThread) return { flags: 0, messages: [] };
  const p = node.profile;
  let flags = 0;
  const messages: string[] = [];
  if (t.usedFpu) flags |= p.oldTaskRules ? node.flags : node.flags & fpuBits(p);
  if (t.abi === 64) flags |= node.flags & EMT64;
  else if (t.vdso) flags |= node.flags & (p.oldTaskRules || node.intel ? SYSENTER : SYSCALL32);
  if (t.external) {
    flags |= EXTERNAL;
    messages.push(msgExternal(t));
  }
  if (t.ownMountNamespace) flags |= NAMESPACES;
  if (t.policy === "fifo" || t.policy === "rr") {
    flags |= SCHED;
    messages.push(msgSched(t));
  }
  if (t.ptracedFromHost) {
    flags |= PTRACED;
    messages.push(msgPtraced(t));
  }
  if (t.unsupportedUse.length > 0) {
    flags |= UNSUPPORTED_MISC;
    for (const what of t.unsupportedUse) messages.push(msgUnsupportedUse(t, what));
  }
  return { flags: flags >>> 0, messages };
}

/** The container's capability word and the messages computing it printed. */
export function containerFlags(node: NodeFacts, ct: Container): FlagsAndMessages {
  let flags = baseFlags(node);
  const messages: string[] = [];
  for (const t of ct.tasks) {
    const r = taskFlags(node, t);
    flags |= r.flags;
    messages.push(...r.messages);
  }
  const netdev = ct.netdevs.find((d) => !d.checkpointable);
  if (netdev) {
    flags |= UNSUPPORTED_NETDEV;
    messages.push(msgNetdev(netdev.name));
  }
  for (const m of ct.mounts) {
    if (SUPPORTED_FILESYSTEMS.has(m.fs)) continue;
    flags |= UNSUPPORTED_FS;
    messages.push(msgFilesystem(m.fs));
  }
  return { flags: flags >>> 0, messages };
}
