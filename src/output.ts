// Robust writes to fd 1 and fd 2, as C's unchecked printf behaves: each message
// goes out whole with write(2) in a loop; EAGAIN (a non-blocking pipe someone
// else set up) is retried; a reader that went away (EPIPE), a full disk or a
// closed descriptor ends that stream's output silently and never changes the
// exit code. process.stdout is never touched: it would leave O_NONBLOCK set on
// a shared pipe and can lose output at exit.

import { writeSync } from "node:fs";
import type { Output } from "./backend.ts";

const encoder = new TextEncoder();
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Write all of `data` to `fd`; returns false if the stream is unusable. */
export function writeAll(fd: number, data: string | Uint8Array): boolean {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EAGAIN" || code === "EINTR") {
        Atomics.wait(pause, 0, 0, 1); // sleep 1 ms, then retry
        continue;
      }
      return false; // EPIPE, ENOSPC, EBADF, EIO...: give up on this stream
    }
  }
  return true;
}

/** An Output that writes straight to fds 1 and 2, stopping a stream after it broke. */
export function fdOutput(): Output {
  let stdoutOk = true;
  let stderrOk = true;
  return {
    stdout(text) {
      if (stdoutOk) stdoutOk = writeAll(1, text);
    },
    stderr(data) {
      if (stderrOk) stderrOk = writeAll(2, data);
    },
  };
}
