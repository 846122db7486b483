// A simulated node: its kernel profile, CPU, CPT flags (computed once) and
// containers by id. The ioctl model (sim/kernel/model.ts) reads it; the node
// server mutates containers through the methods below.

import { nodeFlags } from "../src/cpt/nodeflags.ts";
import { cpuWords } from "./cpu/catalog.ts";
import type { NodeFacts } from "./kernel/container-flags.ts";
import {
  type KernelProfile,
  knownProfileIds,
  type ProfileSet,
  profileById,
} from "./kernel/profiles.ts";
import type { Container, ContainerState, CpuidWords, NodeSpec, Task } from "./types.ts";

export interface NodeOptions {
  /** Custom kernel profiles (from profile files) that NodeSpec.kernel may name. */
  readonly profiles?: ProfileSet;
}

/** How many kernel-log lines a node keeps (the oldest go first). */
export const KERNEL_LOG_LINES = 1000;

const validId = (id: number): boolean => Number.isInteger(id) && id > 0 && id <= 0xffffffff;

export class NodeModel implements NodeFacts {
  readonly name: string;
  readonly spec: NodeSpec;
  readonly profile: KernelProfile;
  readonly cpu: CpuidWords;
  readonly flags: number;
  readonly intel: boolean;
  readonly arch64: boolean;
  readonly modules: { readonly cpt: boolean; readonly rst: boolean };
  /** Kernel log (printk) lines: every context message, and the warnings nobody sees. */
  readonly kernelLog: string[] = [];
  readonly #containers = new Map<number, Container>();

  /** Throws an Error naming the node for an unknown kernel or CPU, or a bad container id. */
  constructor(spec: NodeSpec, opts: NodeOptions = {}) {
    this.name = spec.name;
    this.spec = spec;
    const profile = profileById(spec.kernel, opts.profiles);
    if (!profile) {
      const known = knownProfileIds(opts.profiles).join(", ");
      throw new Error(`node ${spec.name}: unknown kernel "${spec.kernel}" (known: ${known})`);
    }
    this.profile = profile;
    try {
      this.cpu = cpuWords(spec.cpu);
    } catch (e) {
      throw new Error(`node ${spec.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.intel = this.cpu.vendor === "GenuineIntel";
    this.arch64 = spec.arch64;
    this.modules = spec.modules;
    this.flags =
      nodeFlags({
        cpuid: this.cpu,
        mask: spec.cpuidMask,
        generation: profile,
        arch64: spec.arch64,
        ipv6: spec.ipv6,
        slmWithoutDmprst: spec.slmWithoutDmprst,
      }) >>> 0;
    for (const ct of spec.containers) this.addContainer(ct);
  }

  container(id: number): Container | undefined {
    return this.#containers.get(id);
  }

  /** Containers in the order they were added. */
  get containers(): readonly Container[] {
    return [...this.#containers.values()];
  }

  /** Add a container; throws on an id outside 1..2^32-1 or one already in use. */
  addContainer(ct: Container): void {
    if (!validId(ct.id))
      throw new Error(`node ${this.name}: container id ${ct.id} is not in 1..4294967295`);
    if (this.#containers.has(ct.id))
      throw new Error(`node ${this.name}: container ${ct.id} already exists`);
    this.#containers.set(ct.id, ct);
  }

  /** false when there is no such container. */
  removeContainer(id: number): boolean {
    return this.#containers.delete(id);
  }

  /** Start, stop or lock a container; false when there is no such container. */
  setContainerState(id: number, state: ContainerState): boolean {
    const ct = this.#containers.get(id);
    if (!ct) return false;
    this.#containers.set(id, { ...ct, state });
    return true;
  }

  /** printk: append a line to the kernel log. */
  log(line: string): void {
    this.kernelLog.push(line);
    if (this.kernelLog.length > KERNEL_LOG_LINES)
      this.kernelLog.splice(0, this.kernelLog.length - KERNEL_LOG_LINES);
  }
}

/** Build a node model from its spec (same as `new NodeModel(spec, opts)`). */
export const buildNode = (spec: NodeSpec, opts?: NodeOptions): NodeModel =>
  new NodeModel(spec, opts);

// ---- builders with the defaults of sim/types.ts (tests, loaders, what-ifs) ----

/** A user task with nothing unusual (the file schema's defaults): 64-bit, no FPU use, SCHED_OTHER; hostPid = pid + 1000. */
export function makeTask(p: Partial<Task> = {}): Task {
  const pid = p.pid ?? 1;
  return {
    pid,
    comm: "init",
    kernelThread: false,
    usedFpu: false,
    abi: 64,
    vdso: true,
    policy: "other",
    ptracedFromHost: false,
    external: false,
    hostPid: pid + 1000,
    ownMountNamespace: false,
    unsupportedUse: [],
    ...p,
  };
}

/** A running container with one ordinary task, a simfs root and venet0. */
export function makeContainer(p: Partial<Container> & { readonly id: number }): Container {
  return {
    state: "running",
    tasks: [makeTask()],
    mounts: [{ fs: "simfs", target: "/" }],
    netdevs: [{ name: "venet0", checkpointable: true }],
    ...p,
  };
}

/** A node spec: 64-bit kernel, IPv6 loaded, no SLM, both modules loaded, no containers. */
export function makeNodeSpec(p: Partial<NodeSpec> & Pick<NodeSpec, "kernel" | "cpu">): NodeSpec {
  return {
    name: "node",
    arch64: true,
    ipv6: true,
    slmWithoutDmprst: false,
    modules: { cpt: true, rst: true },
    containers: [],
    ...p,
  };
}
