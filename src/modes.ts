// The original's flows (cli-contract.md), written against the Backend seam.
// Each returns the exit code: 0 go, 2 migration would fail, 1 error.

import type { Backend, Output } from "./backend.ts";
import { EINVAL } from "./cpt/errno.ts";
import {
  CPT_PATH,
  CPT_SET_ERRORFD,
  CPT_SET_VEID,
  CPT_TEST_CAPS,
  CPT_TEST_VECAPS,
  CPT_TEST_VERSION,
  RST_PATH,
} from "./cpt/requests.ts";
import type { Command } from "./grammar.ts";
import { USAGE } from "./usage.ts";

const MODULES: Readonly<Record<string, string>> = { [CPT_PATH]: "vzcpt", [RST_PATH]: "vzrst" };

const INSUFFICIENT = "Insufficient CPU capabilities: can't migrate\n";
const OLD_KERNEL = "vzcptcheck WARNING: old kernel, please update to kernel >= 042stab107.x\n";

/** Thrown inside a flow to stop it with a message on stderr and an exit code. */
class Stop {
  constructor(
    readonly message: string,
    readonly exit: number,
  ) {}
}

class Flow {
  constructor(
    private readonly k: Backend,
    private readonly out: Output,
  ) {}

  ioctlError(name: string, errno: number): Stop {
    return new Stop(`Error in ioctl(${name}): ${this.k.strerror(errno)}\n`, 1);
  }

  open(path: string): number {
    const r = this.k.open(path);
    if (r.ret < 0) {
      const text = this.k.strerror(r.errno);
      throw new Stop(`Can't open ${path}: ${text}\nKernel module ${MODULES[path]} not loaded\n`, 1);
    }
    return r.ret;
  }

  /** Open `path` with an error pipe; returns [device fd, pipe read end]. */
  openWithErrorPipe(path: string): [number, number] {
    const p = this.k.pipe();
    if (p.ret < 0) throw new Stop(`Can't create pipe: ${this.k.strerror(p.errno)}\n`, 1);
    const fd = this.open(path);
    const r = this.k.ioctl(fd, CPT_SET_ERRORFD, p.writeFd);
    if (r.ret < 0) throw this.ioctlError("CPT_SET_ERRORFD", r.errno);
    this.k.close(p.writeFd);
    return [fd, p.readFd];
  }

  /** Copy what the kernel wrote into the error pipe to stderr. */
  drain(readFd: number): void {
    const bytes = this.k.drain(readFd);
    if (bytes.length > 0) this.out.stderr(bytes);
  }

  versionShow(): number {
    const fd = this.open(CPT_PATH);
    const r = this.k.ioctl(fd, CPT_TEST_VERSION, 0);
    this.k.close(fd);
    if (r.ret <= 0) throw this.ioctlError("CPT_TEST_VERSION", r.errno);
    this.out.stdout(`${r.ret}\n`);
    return 0;
  }

  versionTest(version: number): number {
    const fd = this.open(RST_PATH);
    const r = this.k.ioctl(fd, CPT_TEST_VERSION, version);
    this.k.close(fd);
    if (r.ret < 0) {
      if (r.errno === EINVAL) return 0; // a kernel without this request: no check
      throw this.ioctlError("CPT_TEST_VERSION", r.errno);
    }
    if (r.ret === 1) return 0;
    throw new Stop(`CPT version ${version} rejected: can't migrate\n`, 2);
  }

  capsShow(): number {
    const [fd, errorFd] = this.openWithErrorPipe(RST_PATH);
    const r = this.k.ioctl(fd, CPT_TEST_CAPS, 0);
    this.drain(errorFd);
    this.k.close(fd);
    if (r.ret <= 0) throw this.ioctlError("CPT_TEST_CAPS", r.errno);
    this.out.stdout(`${r.ret}\n`);
    return 0;
  }

  capsTest(caps: number): number {
    const [fd, errorFd] = this.openWithErrorPipe(CPT_PATH);
    const r = this.k.ioctl(fd, CPT_TEST_CAPS, caps);
    this.drain(errorFd);
    this.k.close(fd);
    // Every failure lands here in the original (its errno is always EAGAIN by
    // now): an old kernel's failing check counts as a pass.
    if (r.ret < 0) throw new Stop(OLD_KERNEL, 0);
    if (r.ret > 0) throw new Stop(INSUFFICIENT, 2);
    return 0;
  }

  capsTestVe(veid: number, caps: number): number {
    const [fd, errorFd] = this.openWithErrorPipe(CPT_PATH);
    const set = this.k.ioctl(fd, CPT_SET_VEID, veid);
    if (set.ret < 0) throw this.ioctlError("CPT_SET_VEID", set.errno);
    const r = this.k.ioctl(fd, CPT_TEST_VECAPS, caps);
    this.drain(errorFd);
    this.k.close(fd);
    // The one deliberate difference: the ioctl's own errno, not EAGAIN's.
    if (r.ret < 0) throw this.ioctlError("CPT_TEST_VECAPS", r.errno);
    if (r.ret > 0) throw new Stop(INSUFFICIENT, 2);
    return 0;
  }
}

/** Run a parsed command; the kernel is only touched by the kernel modes. */
export function runCommand(cmd: Command, getBackend: () => Backend, out: Output): number {
  if (cmd.kind === "usage") {
    if (cmd.stream === "stdout") out.stdout(USAGE);
    else out.stderr(USAGE);
    return cmd.exit;
  }
  const flow = new Flow(getBackend(), out);
  try {
    switch (cmd.kind) {
      case "version-show":
        return flow.versionShow();
      case "version-test":
        return flow.versionTest(cmd.version);
      case "caps-show":
        return flow.capsShow();
      case "caps-test":
        return flow.capsTest(cmd.caps);
      case "caps-test-ve":
        return flow.capsTestVe(cmd.veid, cmd.caps);
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    out.stderr(e.message);
    return e.exit;
  }
}
