// The simulator's data model: what a node and its containers are made of.
// Node and fleet files (YAML/JSON, see man/vzcptsim.1) load into these types.

// CPUID words and OpenVZ's per-node CPUID masks are x86 facts that the
// production CLI needs too, so they are defined once, in src/cpt/cpuid.ts.
import type { CpuidMask, CpuidWords } from "../src/cpt/cpuid.ts";

export type { CpuidMask, CpuidWords };

export type SchedPolicy = "other" | "batch" | "idle" | "fifo" | "rr";

export interface Task {
  readonly pid: number;
  readonly comm: string;
  readonly kernelThread: boolean;
  readonly usedFpu: boolean;
  /** 64-bit task, or 32-bit (with `vdso` saying whether it has a vdso mapped). */
  readonly abi: 64 | 32;
  readonly vdso: boolean;
  readonly policy: SchedPolicy;
  readonly ptracedFromHost: boolean;
  /** Entered from the host (vzctl enter/exec); `hostPid` is its pid on the host. */
  readonly external: boolean;
  readonly hostPid: number;
  readonly ownMountNamespace: boolean;
  /** Names of unsupported kernel features in use ("splice", "keys", "mempolicy"...). */
  readonly unsupportedUse: readonly string[];
}

export interface Mount {
  readonly fs: string;
  readonly target: string;
}

export interface NetDevice {
  readonly name: string;
  /** Can the kernel checkpoint it (venet, veth, lo: yes; tun/tap, macvlan...: no)? */
  readonly checkpointable: boolean;
}

export type ContainerState = "running" | "stopped" | "locked";

export interface Container {
  readonly id: number;
  readonly name?: string;
  readonly state: ContainerState;
  readonly tasks: readonly Task[];
  readonly mounts: readonly Mount[];
  readonly netdevs: readonly NetDevice[];
}

export interface NodeSpec {
  readonly name: string;
  /** Kernel generation id (src/cpt/generations.ts) or a custom profile's id. */
  readonly kernel: string;
  /** The CPU: a catalog id (sim/cpu/catalog.ts) or raw words. */
  readonly cpu: string | CpuidWords;
  readonly cpuidMask?: CpuidMask;
  readonly arch64: boolean; // 64-bit kernel (default true)
  readonly ipv6: boolean; // IPv6 loaded (default true)
  readonly slmWithoutDmprst: boolean; // SLM enabled but slm_dmprst not loaded (default false)
  /** Which CPT modules are loaded (a missing one: open fails with ENOENT). */
  readonly modules: { readonly cpt: boolean; readonly rst: boolean };
  readonly containers: readonly Container[];
}

export interface FleetSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
}
