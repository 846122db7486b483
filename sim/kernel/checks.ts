// Pure decisions of the simulated kernel: what CPT_TEST_CAPS (cpt side),
// CPT_TEST_VERSION (rst side) and CPT_TEST_VECAPS answer, given flags.
// No I/O and no state: the ioctl model (model.ts), the fleet tools and the
// property tests all call these. Signatures are stable:
//
//   cptCapsCheck(gen, srcFlags, dstFlags): { ret, errno }
//     ret 1 if a CPU bit of the check list is in src and not in dst, else 0;
//     ret -1 with errno ENOSYS / EAGAIN where the generation refuses the check.
//   restoreAccepts(gen, version): 1 | 0, or -EINVAL (-22) when the
//     generation has no CPT_TEST_VERSION.
//   vecapsCheck(gen, ctFlags, dstFlags): { result, messages, warnings }
//     result 0-5 (042 style) or 0-2 (legacy); messages are the texts that go
//     to the error fd (without the "Error: " prefix and the newline), in the
//     kernel's order; warnings go to the kernel log only.

import { EAGAIN, EINVAL, ENOSYS } from "../../src/cpt/errno.ts";
import type { KernelProfile } from "./profiles.ts";

export interface Errno {
  readonly ret: number;
  readonly errno: number;
}

export interface VecapsVerdict {
  readonly result: number;
  readonly messages: string[];
  readonly warnings: string[];
}

const SLM = 1 << 24;
const NO_IPV6 = 1 << 28;
const NAMESPACES = 1 << 17;

export const MSG_SLM = "SLM is enabled on destination node, but slm_dmprst module is not loaded";
export const MSG_IPV6 = "IPv6 not loaded or disabled on destination node";
export const MSG_NAMESPACES =
  "Mount namespaces migration support is not present on destination node";
export const msgCpu = (label: string): string => `Destination cpu does not have ${label}`;

const has = (word: number, bit: number): boolean => ((word >>> bit) & 1) === 1;

/** Labels of the check-list entries present in `src` and missing in `dst`, in list order. */
export function missingCpuLabels(
  checks: KernelProfile["vecapsChecks"],
  src: number,
  dst: number,
): string[] {
  return checks.filter((c) => has(src, c.bit) && !has(dst, c.bit)).map((c) => c.label);
}

/** cpt CPT_TEST_CAPS: the suspended-container check of this node (src) against dst. */
export function cptCapsCheck(gen: KernelProfile, srcFlags: number, dstFlags: number): Errno {
  if (gen.cptTestCaps === "ENOSYS") return { ret: -1, errno: ENOSYS };
  if (gen.cptTestCaps === "EAGAIN") return { ret: -1, errno: EAGAIN };
  const missing = missingCpuLabels(gen.cptCapsChecks, srcFlags, dstFlags);
  return { ret: missing.length > 0 ? 1 : 0, errno: 0 };
}

/**
 * rst CPT_TEST_VERSION: is an image of `version` restorable here? The
 * argument is an unsigned long in the kernel, so it is read as unsigned.
 */
export function restoreAccepts(gen: KernelProfile, version: number): number {
  if (gen.restoreRule === "none" || gen.currentVersion === null) return -EINVAL;
  const v = version >>> 0;
  const major = v & 0xff00;
  const minor = v & 0xf;
  if (major === 0x300 && v >= 0x303) return 1;
  if (major === 0x800 && minor <= (gen.currentVersion & 0xf)) return 1;
  return 0;
}

/** CPT_TEST_VECAPS once the container flags are known (after the early failures). */
export function vecapsCheck(gen: KernelProfile, ctFlags: number, dstFlags: number): VecapsVerdict {
  return gen.vecapsStyle === "042"
    ? vecaps042(gen, ctFlags >>> 0, dstFlags >>> 0)
    : vecapsLegacy(gen, ctFlags >>> 0, dstFlags >>> 0);
}

/** 042stab: every check runs, each failure overwrites the result (last one wins). */
function vecaps042(gen: KernelProfile, ct: number, dst: number): VecapsVerdict {
  const messages: string[] = [];
  let result = 0;
  for (const label of missingCpuLabels(gen.vecapsChecks, ct, dst)) {
    messages.push(msgCpu(label));
    result = 1;
  }
  if (dst & SLM) {
    messages.push(MSG_SLM);
    result = 4;
  }
  if ((ct & gen.unsupportedMask) >>> 0 !== 0) result = 2;
  if (dst & NO_IPV6 && !(ct & NO_IPV6)) {
    messages.push(MSG_IPV6);
    result = 3;
  }
  if (ct & NAMESPACES && !(dst & NAMESPACES)) {
    messages.push(MSG_NAMESPACES);
    result = 5;
  }
  return { result, messages, warnings: [] };
}

/**
 * 2.6.18 and pre-RHEL6 2.6.32 [decision: the spec gives only the codes]: CPU
 * shortfalls (and, on 2.6.32-pre, a destination with SLM) give 1, any
 * unsupported bit gives 2 and wins over 1. Their texts are kernel warnings
 * (log only), so nothing reaches the error fd.
 */
function vecapsLegacy(gen: KernelProfile, ct: number, dst: number): VecapsVerdict {
  const warnings = missingCpuLabels(gen.vecapsChecks, ct, dst).map(msgCpu);
  let result = warnings.length > 0 ? 1 : 0;
  if (gen.dstSlmResult !== null && dst & SLM) {
    warnings.push(MSG_SLM);
    result = gen.dstSlmResult;
  }
  if ((ct & gen.unsupportedMask) >>> 0 !== 0) result = 2;
  return { result, messages: [], warnings };
}
