// A simulated node as "this machine" for `vzcptcheck explain` and `vzcptcheck
// profile` run in-process (sim/device.ts runInProcess, `vzcptsim exec`): what
// those commands ask the native module, answered from the node.
//
//   uname      Linux, the generation's representative release (sim/kernel/
//              releases.ts; a custom profile shows its base generation's),
//              machine x86_64 when arch64, else i686
//   hostname   the node's name
//   CPUID      the node's CPU words AFTER its cpuidMask: OpenVZ's CPUID masking
//              (the CPU's masking MSRs) changes what the CPUID instruction
//              returns to every program on the node, not only what the kernel
//              reads, so profile sees the masked words. Its prediction then
//              equals the kernel's flags on generations that read masked
//              capabilities; on 042stab061-107, which read raw CPUID, a mask
//              shows up as a difference, as it would on a real node.
//              Brand string: the catalog CPU's name (none for raw words).
//   kernel     the given Backend (the node's simulated /proc/cpt, /proc/rst)
//   IPv6       /proc/net/if_inet6 and /proc/sys/net/ipv6 exist when ipv6 is on

import type { Backend } from "../src/backend.ts";
import { applyMask } from "../src/cpt/cpuid.ts";
import type { ProfileHost } from "../src/profile.ts";
import { cpuById } from "./cpu/catalog.ts";
import { cpuidFor } from "./cpu/instruction.ts";
import { releaseFor } from "./kernel/releases.ts";
import type { NodeModel } from "./node.ts";

const IPV6_PATHS: readonly string[] = ["/proc/net/if_inet6", "/proc/sys/net/ipv6"];

/** The node as the machine `vzcptcheck profile` describes; kernel calls go to `backend`. */
export function simulatedHost(node: NodeModel, backend: Backend): ProfileHost {
  const release = releaseFor(node.profile, node.arch64);
  const words = applyMask(node.cpu, node.spec.cpuidMask);
  const brand = typeof node.spec.cpu === "string" ? (cpuById(node.spec.cpu)?.name ?? null) : null;
  return {
    uname: () => ({
      sysname: "Linux",
      release,
      version: "#1 SMP (simulated by vzcptsim)",
      machine: node.arch64 ? "x86_64" : "i686",
    }),
    hostname: () => node.name,
    cpuid: () => cpuidFor(words, brand),
    backend: () => backend,
    exists: (path) => node.spec.ipv6 && IPV6_PATHS.includes(path),
  };
}
