// A whole machine for code that asks "this machine" (vzcptcheck profile,
// vzcptsim node host): a ProfileHost whose CPUID instruction answers as a
// given CPU would, whose uname names a given release and whose /proc/cpt and
// /proc/rst are a simulated kernel (or absent, for a kernel that is not OpenVZ).

import { cpuById } from "../sim/cpu/catalog.ts";
import { simBackend } from "../sim/device.ts";
import { nodeKernel } from "../sim/kernel/model.ts";
import { buildNode } from "../sim/node.ts";
import type { CpuidWords, NodeSpec } from "../sim/types.ts";
import type { CpuidFn } from "../src/cpt/cpuid.ts";
import { generationFromRelease } from "../src/cpt/generations.ts";
import type { ProfileHost } from "../src/profile.ts";

/** Four ASCII bytes as the little-endian register CPUID returns them in. */
const reg = (s: string): number =>
  [0, 1, 2, 3].reduce((n, i) => n | ((s.charCodeAt(i) & 0xff) << (8 * i)), 0) >>> 0;

/** A CPUID instruction for a CPU with these words (leaf 1 EAX encodes family and model). */
export function cpuidFor(w: CpuidWords, brand: string | null, stepping = 4): CpuidFn {
  const vendor = w.vendor.padEnd(12, "\0");
  const baseFamily = Math.min(w.family, 15);
  const eax1 =
    ((w.family >= 15 ? w.family - 15 : 0) << 20) |
    (((w.model >> 4) & 0xf) << 16) |
    (baseFamily << 8) |
    ((w.model & 0xf) << 4) |
    stepping;
  const zero = { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  const brandText = (brand ?? "").padEnd(48, "\0");
  return (leaf) => {
    switch (leaf) {
      case 0:
        return { eax: 7, ebx: reg(vendor), edx: reg(vendor.slice(4)), ecx: reg(vendor.slice(8)) };
      case 1:
        return { eax: eax1 >>> 0, ebx: 0, ecx: w.leaf1Ecx, edx: w.leaf1Edx };
      case 7:
        return { eax: 0, ebx: w.leaf7Ebx, ecx: w.leaf7Ecx, edx: w.leaf7Edx };
      case 0x80000000:
        return { ...zero, eax: brand === null ? 0x80000001 : 0x80000004 };
      case 0x80000001:
        return { ...zero, ecx: w.ext1Ecx, edx: w.ext1Edx };
    }
    if (leaf >= 0x80000002 && leaf <= 0x80000004) {
      const s = brandText.slice((leaf - 0x80000002) * 16);
      return { eax: reg(s), ebx: reg(s.slice(4)), ecx: reg(s.slice(8)), edx: reg(s.slice(12)) };
    }
    return zero;
  };
}

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
