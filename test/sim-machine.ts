// A whole machine for code that asks "this machine" (vzcptcheck profile,
// vzcptsim node host): a ProfileHost whose CPUID instruction answers as a
// given CPU would, whose uname names a given release and whose /proc/cpt and
// /proc/rst are a simulated kernel (or absent, for a kernel that is not OpenVZ).

import { cpuById } from "../sim/cpu/catalog.ts";
import { cpuidFor as simCpuidFor } from "../sim/cpu/instruction.ts";
import { simBackend } from "../sim/device.ts";
import { nodeKernel } from "../sim/kernel/model.ts";
import { buildNode } from "../sim/node.ts";
import type { CpuidWords, NodeSpec } from "../sim/types.ts";
import type { CpuidFn } from "../src/cpt/cpuid.ts";
import { generationFromRelease } from "../src/cpt/generations.ts";
import type { ProfileHost } from "../src/profile.ts";

/** A CPUID instruction for a CPU with these words (stepping 4 unless given). */
export const cpuidFor = (w: CpuidWords, brand: string | null, stepping = 4): CpuidFn =>
  simCpuidFor(w, brand, stepping);

export interface Machine {
  /** `uname -r`; an OpenVZ release gets a simulated kernel of its generation. */
  readonly release: string;
  /** A catalog CPU id or raw words; null: a machine without CPUID. */
  readonly cpu: string | CpuidWords | null;
  readonly hostname?: string;
  readonly machine?: string;
  readonly ipv6?: boolean;
  readonly brand?: string | null;
  /** Overrides for the simulated kernel's node (a CPUID mask, SLM...). */
  readonly node?: Partial<NodeSpec>;
}

export const wordsOf = (cpu: string | CpuidWords): CpuidWords =>
  typeof cpu === "string" ? (cpuById(cpu)?.words as CpuidWords) : cpu;

/** A ProfileHost for a simulated machine. */
export function machineHost(m: Machine): ProfileHost {
  const gen = generationFromRelease(m.release);
  const words = m.cpu === null ? null : wordsOf(m.cpu);
  const node = buildNode({
    name: "kernel",
    kernel: gen?.id ?? "042stab109",
    cpu: words ?? "intel-westmere-x5670",
    arch64: (m.machine ?? "x86_64") === "x86_64",
    ipv6: m.ipv6 ?? true,
    slmWithoutDmprst: false,
    // Not OpenVZ: no cpt/rst modules, so the devices do not exist.
    modules: { cpt: gen !== null, rst: gen !== null },
    containers: [],
    ...m.node,
  });
  return {
    uname: () => ({
      sysname: "Linux",
      release: m.release,
      version: "#1 SMP",
      machine: m.machine ?? "x86_64",
    }),
    hostname: () => m.hostname ?? "node1.example",
    cpuid: () => (words === null ? null : cpuidFor(words, m.brand ?? "Simulated CPU @ 2.00GHz")),
    backend: () => simBackend(nodeKernel(node)),
    exists: (p) => (m.ipv6 ?? true) && p === "/proc/sys/net/ipv6",
  };
}
