// The ioctl model: /proc/cpt and /proc/rst of one simulated node, answering
// as the node's kernel generation would (kernel-cpt.md, "Dispatch inside the
// kernel"). Devices (sim/device.ts, the node server) drive it through the
// SimKernel interface of api.ts.
//
// Exported pure decisions (stable signatures, also used by the fleet tools
// and property tests; see checks.ts and container-flags.ts for details):
//   containerFlags(node: NodeFacts /* a NodeModel */, ct: Container): { flags, messages }
//   vecapsCheck(gen: KernelProfile, ctFlags: number, dstFlags: number): { result, messages, warnings }
//   restoreAccepts(gen: KernelProfile, version: number): 1 | 0 | -EINVAL
//   cptCapsCheck(gen: KernelProfile, srcFlags: number, dstFlags: number): { ret, errno }
//   earlyRequests(gen), knownRequests(gen, side): which requests skip the
//     context, and which the context switch knows (the rest: -EINVAL).
//
// Decisions where the spec is silent:
// - rst knows CPT_SET_VEID, CPT_SET_ERRORFD, CPT_TEST_CAPS and (042stab)
//   CPT_TEST_VERSION; CPT_TEST_VECAPS/VECAPS2 on rst are unknown requests
//   (-EINVAL after the context exists).
// - CPT_TEST_VECAPS2 (042stab092.1+ cpt): known, but its argument is a user
//   pointer and a simulated process has no memory to read it from, so it
//   answers -EFAULT (after the context exists, no message). Older kernels:
//   unknown request, -EINVAL.
// - Context messages also go to the node's kernel log ("CPT ERR: <text>");
//   legacy VECAPS texts are warnings, kernel log only ("CPT WRN: <text>").
// - Request numbers and arguments are compared as unsigned 32-bit values;
//   CPT_SET_VEID stores arg as an unsigned id (-1 becomes 4294967295).
// - A closed KernelFile answers every ioctl with EBADF.

import { EACCES, EBADF, EBUSY, EFAULT, EINVAL, ENOENT, ESRCH } from "../../src/cpt/errno.ts";
import {
  CPT_PATH,
  CPT_SET_ERRORFD,
  CPT_SET_VEID,
  CPT_TEST_CAPS,
  CPT_TEST_VECAPS,
  CPT_TEST_VECAPS2,
  CPT_TEST_VERSION,
  RST_PATH,
} from "../../src/cpt/requests.ts";
import type { NodeModel } from "../node.ts";
import type { IoctlAnswer, KernelFile, OpenAnswer, SimKernel } from "./api.ts";
import { cptCapsCheck, restoreAccepts, vecapsCheck } from "./checks.ts";
import { containerFlags } from "./container-flags.ts";
import { CptContext } from "./context.ts";
import type { KernelProfile } from "./profiles.ts";

export { cptCapsCheck, restoreAccepts, vecapsCheck } from "./checks.ts";
export { containerFlags } from "./container-flags.ts";

export type Side = "cpt" | "rst";

/** Requests answered without a context: CPT_TEST_CAPS, and CPT_TEST_VERSION where it exists. */
export function earlyRequests(p: KernelProfile): ReadonlySet<number> {
  return new Set(p.knowsTestVersion ? [CPT_TEST_CAPS, CPT_TEST_VERSION] : [CPT_TEST_CAPS]);
}

/** Context requests a side's switch knows; anything else is -EINVAL. */
export function knownRequests(p: KernelProfile, side: Side): ReadonlySet<number> {
  const common = [CPT_SET_VEID, CPT_SET_ERRORFD];
  if (side === "rst") return new Set(common);
  return new Set([...common, CPT_TEST_VECAPS, ...(p.knowsVecaps2 ? [CPT_TEST_VECAPS2] : [])]);
}

export const MSG_NOT_RUNNING = "CT is not running";
export const MSG_LOCKED = "CT is locked";

interface Result {
  readonly ret: number;
  readonly errno: number;
}
const ok = (ret: number): Result => ({ ret, errno: 0 });
const fail = (errno: number): Result => ({ ret: -1, errno });
/** A kernel-style return (negative errno) as a syscall result. */
const fromKernel = (r: number): Result => (r < 0 ? fail(-r) : ok(r));

const EMPTY = new Uint8Array(0);

/** One open of /proc/cpt or /proc/rst. */
export class ProcFile implements KernelFile {
  #ctx: CptContext | null = null;
  #closed = false;

  constructor(
    readonly node: NodeModel,
    readonly side: Side,
  ) {}

  /** The open file's context (null until the first context request). */
  get context(): CptContext | null {
    return this.#ctx;
  }

  ioctl(request: number, arg: number, fdIsValid: (fd: number) => boolean): IoctlAnswer {
    if (this.#closed) return { ...fail(EBADF), errorFd: null, errorBytes: EMPTY };
    const req = request >>> 0;
    const p = this.node.profile;
    if (earlyRequests(p).has(req)) {
      return { ...this.#early(req, arg), errorFd: this.#ctx?.errorFd ?? null, errorBytes: EMPTY };
    }
    // Every other request creates (or reuses) the context first.
    this.#ctx ??= new CptContext();
    const ctx = this.#ctx;
    const r = knownRequests(p, this.side).has(req)
      ? this.#withContext(ctx, req, arg, fdIsValid)
      : fail(EINVAL);
    return { ...r, errorFd: ctx.errorFd, errorBytes: ctx.flush() };
  }

  close(): void {
    this.#closed = true;
    this.#ctx = null;
  }

  /** Requests answered before (and without) a context; they never print. */
  #early(req: number, arg: number): Result {
    const p = this.node.profile;
    if (req === CPT_TEST_CAPS) {
      return this.side === "cpt"
        ? cptCapsCheck(p, this.node.flags, arg >>> 0)
        : ok(this.node.flags);
    }
    // CPT_TEST_VERSION
    return this.side === "cpt" ? ok(p.currentVersion ?? 0) : fromKernel(restoreAccepts(p, arg));
  }

  /** The switch of context requests (only requests this side knows get here). */
  #withContext(
    ctx: CptContext,
    req: number,
    arg: number,
    fdIsValid: (fd: number) => boolean,
  ): Result {
    switch (req) {
      case CPT_SET_ERRORFD:
        // The kernel reads arg as an unsigned long: a negative fd cannot be open.
        if (arg < 0 || !fdIsValid(arg)) return fail(EBADF);
        ctx.errorFd = arg;
        return ok(0);
      case CPT_SET_VEID:
        if (ctx.state !== "idle") return fail(EBUSY);
        ctx.veid = arg >>> 0;
        return ok(0);
      case CPT_TEST_VECAPS:
        return this.#vecaps(ctx, arg >>> 0);
      case CPT_TEST_VECAPS2:
        return fail(EFAULT); // its argument is a user pointer; see the header
      default:
        return fail(EINVAL);
    }
  }

  #print(ctx: CptContext, text: string): void {
    ctx.eprintk(text);
    this.node.log(`CPT ERR: ${text}`);
  }

  #vecaps(ctx: CptContext, dstFlags: number): Result {
    if (ctx.veid === 0) return fail(EINVAL);
    const ct = this.node.container(ctx.veid);
    if (!ct) return fail(ESRCH);
    if (ct.state === "stopped") {
      this.#print(ctx, MSG_NOT_RUNNING);
      return fail(ESRCH);
    }
    if (ct.state === "locked") {
      this.#print(ctx, MSG_LOCKED);
      return fail(EBUSY);
    }
    const { flags, messages } = containerFlags(this.node, ct);
    for (const m of messages) this.#print(ctx, m);
    const verdict = vecapsCheck(this.node.profile, flags, dstFlags);
    for (const m of verdict.messages) this.#print(ctx, m);
    for (const w of verdict.warnings) this.node.log(`CPT WRN: ${w}`);
    return ok(verdict.result);
  }
}

/** The simulated kernel of a node: open() of /proc/cpt and /proc/rst. */
export class NodeKernel implements SimKernel {
  constructor(readonly node: NodeModel) {}

  open(path: string, euid: number): OpenAnswer {
    const side: Side | null = path === CPT_PATH ? "cpt" : path === RST_PATH ? "rst" : null;
    // A module that is not loaded has no /proc entry at all.
    if (side === null || !this.node.modules[side]) return { errno: ENOENT };
    if (euid !== 0) return { errno: EACCES }; // mode 0600, owned by root
    return { file: new ProcFile(this.node, side) };
  }
}

export const nodeKernel = (node: NodeModel): NodeKernel => new NodeKernel(node);
