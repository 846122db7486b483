// An in-process Backend over a simulated kernel: a fake fd table (numbers from
// 3 up, lowest free first, like the kernel), in-memory pipes, and ioctl
// forwarded to the kernel model. `runInProcess` runs the production CLI's
// dispatch against a node, as src/cli.ts does: `explain` and `profile`
// (parseExtra, then runExtraOn with the node as the machine: sim/host.ts),
// every other argv through the original grammar and flows (src/grammar.ts +
// src/modes.ts), unchanged.
//
// Decisions:
// - A pipe holds 65536 bytes. Writes follow Linux's rules for a non-blocking
//   pipe: up to PIPE_BUF (4096) bytes are atomic (all or nothing when full),
//   a larger write stores what fits; nothing is stored when no reader is left.
//   The kernel's error-fd writes that do not fit are lost, as in the kernel,
//   which ignores that write's result.
// - CPT_SET_ERRORFD takes a reference to the file behind the fd (a pipe's
//   write end keeps the pipe writable after the process closes its fd); it is
//   dropped when replaced or when the device fd is closed. Bytes the kernel
//   writes to something that is not a pipe's write end are lost (EBADF there).
// - ioctl on an fd that is not a device: ENOTTY; on a closed fd: EBADF.
// - `fdLimit` is RLIMIT_NOFILE: an fd number >= it cannot be allocated (EMFILE).

import type { Backend, Output, PipeResult, SysResult } from "../src/backend.ts";
import { EBADF, EMFILE, ENOTTY, strerrorC } from "../src/cpt/errno.ts";
import { CPT_SET_ERRORFD } from "../src/cpt/requests.ts";
import { runExtraOn } from "../src/extra-run.ts";
import { parseArgs, parseExtra } from "../src/grammar.ts";
import { runCommand } from "../src/modes.ts";
import { simulatedHost } from "./host.ts";
import type { KernelFile, SimKernel } from "./kernel/api.ts";
import { nodeKernel } from "./kernel/model.ts";
import type { NodeModel } from "./node.ts";

export const PIPE_CAPACITY = 65536;
export const PIPE_BUF = 4096;
const READ_CHUNK = 4096;

/** An in-memory pipe shared by its two ends and by the kernel's reference. */
export class Pipe {
  #chunks: Uint8Array[] = [];
  #size = 0;
  readers = 0;
  writers = 0;

  get size(): number {
    return this.#size;
  }

  /** Bytes stored (0 when full for a small write, or when no reader is left). */
  write(data: Uint8Array): number {
    if (this.readers === 0 || data.length === 0) return 0;
    const room = PIPE_CAPACITY - this.#size;
    if (data.length <= PIPE_BUF && data.length > room) return 0; // atomic: EAGAIN
    const n = Math.min(room, data.length);
    if (n > 0) this.#chunks.push(data.slice(0, n));
    this.#size += n;
    return n;
  }

  /** Up to `max` bytes (empty when nothing is buffered). */
  read(max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.#size));
    let off = 0;
    while (off < out.length) {
      const head = this.#chunks[0] as Uint8Array;
      const n = Math.min(head.length, out.length - off);
      out.set(head.subarray(0, n), off);
      off += n;
      if (n === head.length) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(n);
    }
    this.#size -= out.length;
    return out;
  }
}

type Entry =
  | { kind: "device"; file: KernelFile; errorTarget: Pipe | null }
  | { kind: "pipe-read"; pipe: Pipe }
  | { kind: "pipe-write"; pipe: Pipe };

export interface SimBackendOptions {
  /** Effective uid of the simulated process (default 0, root). */
  readonly euid?: number;
  /** RLIMIT_NOFILE (default 1024). */
  readonly fdLimit?: number;
}

/** The fd table and its calls; `openFds` lets tests look for leaks. */
export class SimBackend implements Backend {
  readonly #kernel: SimKernel;
  readonly #euid: number;
  readonly #fdLimit: number;
  readonly #fds = new Map<number, Entry>();

  constructor(kernel: SimKernel, opts: SimBackendOptions = {}) {
    this.#kernel = kernel;
    this.#euid = opts.euid ?? 0;
    this.#fdLimit = opts.fdLimit ?? 1024;
  }

  /** Open fd numbers, lowest first. */
  get openFds(): number[] {
    return [...this.#fds.keys()].sort((a, b) => a - b);
  }

  #lowestFree(from = 3): number {
    let fd = from;
    while (this.#fds.has(fd)) fd++;
    return fd;
  }

  open(path: string): SysResult {
    const fd = this.#lowestFree();
    if (fd >= this.#fdLimit) return { ret: -1, errno: EMFILE };
    const r = this.#kernel.open(path, this.#euid);
    if ("errno" in r) return { ret: -1, errno: r.errno };
    this.#fds.set(fd, { kind: "device", file: r.file, errorTarget: null });
    return { ret: fd, errno: 0 };
  }

  pipe(): PipeResult {
    const readFd = this.#lowestFree();
    const writeFd = this.#lowestFree(readFd + 1);
    if (writeFd >= this.#fdLimit) return { ret: -1, errno: EMFILE, readFd: -1, writeFd: -1 };
    const pipe = new Pipe();
    pipe.readers = 1;
    pipe.writers = 1;
    this.#fds.set(readFd, { kind: "pipe-read", pipe });
    this.#fds.set(writeFd, { kind: "pipe-write", pipe });
    return { ret: 0, errno: 0, readFd, writeFd };
  }

  ioctl(fd: number, request: number, arg: number): SysResult {
    const entry = this.#fds.get(fd);
    if (!entry) return { ret: -1, errno: EBADF };
    if (entry.kind !== "device") return { ret: -1, errno: ENOTTY };
    const answer = entry.file.ioctl(request, arg, (n) => this.#fds.has(n));
    if (request >>> 0 === CPT_SET_ERRORFD && answer.ret >= 0) this.#takeErrorRef(entry, arg);
    if (answer.errorBytes.length > 0 && entry.errorTarget) {
      entry.errorTarget.write(answer.errorBytes);
    }
    return { ret: answer.ret, errno: answer.ret < 0 ? answer.errno : 0 };
  }

  /** The kernel's fget(): hold the file behind `fd`, dropping the previous one. */
  #takeErrorRef(dev: Entry & { kind: "device" }, fd: number): void {
    this.#dropErrorRef(dev);
    const target = this.#fds.get(fd);
    if (target?.kind === "pipe-write") {
      target.pipe.writers++;
      dev.errorTarget = target.pipe;
    }
  }

  #dropErrorRef(dev: Entry & { kind: "device" }): void {
    if (dev.errorTarget) dev.errorTarget.writers--;
    dev.errorTarget = null;
  }

  drain(fd: number): Uint8Array {
    const entry = this.#fds.get(fd);
    if (entry?.kind !== "pipe-read") return new Uint8Array(0); // read fails: EBADF
    const parts: Uint8Array[] = [];
    for (;;) {
      const chunk = entry.pipe.read(READ_CHUNK);
      if (chunk.length === 0) break; // 0 (no writers) or EAGAIN (writers left)
      parts.push(chunk);
    }
    return concat(parts);
  }

  close(fd: number): void {
    const entry = this.#fds.get(fd);
    if (!entry) return;
    this.#fds.delete(fd);
    if (entry.kind === "device") {
      this.#dropErrorRef(entry);
      entry.file.close();
    } else if (entry.kind === "pipe-read") entry.pipe.readers--;
    else entry.pipe.writers--;
  }

  strerror(errno: number): string {
    return strerrorC(errno);
  }
}

export function simBackend(kernel: SimKernel, opts?: SimBackendOptions): SimBackend {
  return new SimBackend(kernel, opts);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const encoder = new TextEncoder();

/** An Output that keeps everything in memory. */
export function collectingOutput(): Output & { stdoutText(): string; stderrBytes(): Uint8Array } {
  let stdout = "";
  const stderr: Uint8Array[] = [];
  return {
    stdout(text) {
      stdout += text;
    },
    stderr(data) {
      stderr.push(typeof data === "string" ? encoder.encode(data) : data.slice());
    },
    stdoutText: () => stdout,
    stderrBytes: () => concat(stderr),
  };
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: Uint8Array;
  readonly exit: number;
}

/** Run `vzcptcheck ARGS...` in process against a node's simulated kernel. */
export function runInProcess(node: NodeModel, args: readonly string[], euid = 0): RunResult {
  const backend = simBackend(nodeKernel(node), { euid });
  const out = collectingOutput();
  const extra = parseExtra(args);
  const exit =
    extra === null
      ? runCommand(parseArgs(args), () => backend, out)
      : runExtraOn(extra, simulatedHost(node, backend), out);
  return { stdout: out.stdoutText(), stderr: out.stderrBytes(), exit };
}
