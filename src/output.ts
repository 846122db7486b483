// Robust writes to fd 1 and fd 2, as C's unchecked printf behaves: each message
// goes out whole with write(2) in a loop; EAGAIN (a non-blocking pipe someone
// else set up) is retried; a reader that went away (EPIPE), a full disk or a
// closed descriptor ends that stream's output silently and never changes the
// exit code. process.stdout is never touched: it would leave O_NONBLOCK set on
// a shared pipe and can lose output at exit.
//
// Which write(2) is used, cheapest first (measured in a compiled binary:
// importing node:fs adds ~3.5 ms to a ~5 ms start):
//   1. the native module's write, when a kernel mode has loaded it anyway;
//   2. console.log / console.error for text that ends in a newline (usage,
//      one-line errors): synchronous, flushed before exit, EPIPE/ENOSPC/EAGAIN
//      handled by Bun, bytes unchanged for a single string argument;
//   3. node:fs writeSync, required only when neither fits (raw bytes, text
//      without a final newline).

import type { Output } from "./backend.ts";
import { EAGAIN, EINTR, EIO } from "./cpt/errno.ts";

/** One write(2) of `data` to `fd`: the number of bytes written, or -errno. */
export type WriteFn = (fd: number, data: Uint8Array) => number;

const encoder = new TextEncoder();
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Write all of `data` to `fd` with `write`; returns false if the stream is unusable. */
export function writeAll(fd: number, data: string | Uint8Array, write: WriteFn = fsWrite): boolean {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let off = 0;
  while (off < bytes.length) {
    const n = write(fd, off === 0 ? bytes : bytes.subarray(off));
    if (n > 0) off += n;
    else if (n === -EAGAIN || n === -EINTR)
      Atomics.wait(pause, 0, 0, 1); // 1 ms, then retry
    else return false; // EPIPE, ENOSPC, EBADF, EIO, no progress...: give up on this stream
  }
  return true;
}

let writeSync: typeof import("node:fs").writeSync | undefined;

/** write(2) through node:fs, loaded on first use only. */
export const fsWrite: WriteFn = (fd, data) => {
  writeSync ??= (require("node:fs") as typeof import("node:fs")).writeSync;
  try {
    return writeSync(fd, data);
  } catch (e) {
    const code = (e as { code?: string }).code;
    return code === "EAGAIN" ? -EAGAIN : code === "EINTR" ? -EINTR : -EIO;
  }
};

/**
 * An Output that writes straight to fds 1 and 2, stopping a stream after it
 * broke. `native` gives the native module's write once it is loaded.
 */
export function fdOutput(native: () => WriteFn | undefined = () => undefined): Output {
  const ok = [true, true, true];
  const put = (fd: 1 | 2, data: string | Uint8Array): void => {
    if (!ok[fd]) return;
    const write = native();
    if (write !== undefined) ok[fd] = writeAll(fd, data, write);
    else if (typeof data === "string" && data.endsWith("\n")) {
      const line = data.slice(0, -1);
      if (fd === 1) console.log(line);
      else console.error(line);
    } else ok[fd] = writeAll(fd, data, fsWrite);
  };
  return {
    stdout: (text) => put(1, text),
    stderr: (data) => put(2, data),
  };
}
