// src/output.ts in-process: writeAll against scripted write(2) results (short
// writes completed, EAGAIN/EINTR retried, EPIPE and no-progress give up), the
// node:fs fallback against real descriptors, and fdOutput's routing: fd 1 and
// fd 2, a broken stream stays silent afterwards, whole lines through console.

import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EAGAIN, EBADF, EINTR, EIO, ENOSPC, EPIPE } from "../src/cpt/errno.ts";
import { loadNative } from "../src/native.ts";
import { fdOutput, fsWrite, type WriteFn, writeAll } from "../src/output.ts";

const bytes = (s: string): Uint8Array => Uint8Array.from(new TextEncoder().encode(s));

/** A write(2) that answers from a script (a number: accept up to that many bytes;
 *  a negative one: -errno) and records what reached each fd. */
function scripted(script: number[], fallback = Number.POSITIVE_INFINITY) {
  const calls: { fd: number; offered: number; took: number }[] = [];
  const got = new Map<number, number[]>();
  const write: WriteFn = (fd, data) => {
    const step = script.length > 0 ? (script.shift() as number) : fallback;
    if (step <= 0) {
      calls.push({ fd, offered: data.length, took: step });
      return step;
    }
    const n = Math.min(step, data.length);
    got.set(fd, [...(got.get(fd) ?? []), ...data.subarray(0, n)]);
    calls.push({ fd, offered: data.length, took: n });
    return n;
  };
  const bytesAt = (fd: number): Uint8Array => new Uint8Array(got.get(fd) ?? []);
  return { write, calls, got: bytesAt };
}

describe("writeAll", () => {
  test("short writes are continued from where they stopped, bytes exact", () => {
    const text = "Error: Destination cpu does not have avx\n";
    const w = scripted([], 7);
    expect(writeAll(2, text, w.write)).toBe(true);
    expect(w.got(2)).toEqual(bytes(text));
    // 41 bytes, 7 at a time: each call is offered exactly the rest.
    expect(w.calls.map((c) => c.offered)).toEqual([41, 34, 27, 20, 13, 6]);
  });

  test("UTF-8 for strings, raw bytes unchanged; nothing to write, no call", () => {
    const w = scripted([]);
    expect(writeAll(1, "ünï €\n", w.write)).toBe(true);
    expect(w.got(1)).toEqual(
      new Uint8Array([0xc3, 0xbc, 0x6e, 0xc3, 0xaf, 0x20, 0xe2, 0x82, 0xac, 0x0a]),
    );
    const raw = new Uint8Array([0, 255, 10, 13, 128]);
    expect(writeAll(2, raw, w.write)).toBe(true);
    expect(w.got(2)).toEqual(raw);
    const calls = w.calls.length;
    expect(writeAll(1, "", w.write)).toBe(true);
    expect(w.calls.length).toBe(calls);
  });

  test("EAGAIN and EINTR are retried (after a pause) until everything is written", () => {
    const w = scripted([-EAGAIN, 3, -EINTR, -EAGAIN, -EAGAIN, 100]);
    const start = performance.now();
    expect(writeAll(1, "771913119\n", w.write)).toBe(true);
    expect(performance.now() - start).toBeGreaterThanOrEqual(3); // ~1 ms per retry
    expect(new TextDecoder().decode(w.got(1))).toBe("771913119\n");
    expect(w.calls.map((c) => c.took)).toEqual([-EAGAIN, 3, -EINTR, -EAGAIN, -EAGAIN, 7]);
  });

  for (const [name, answer] of [
    ["EPIPE", -EPIPE],
    ["ENOSPC", -ENOSPC],
    ["EBADF", -EBADF],
    ["EIO", -EIO],
    ["no progress (0)", 0],
  ] as const) {
    test(`${name} after a partial write: false, and no further attempt`, () => {
      const w = scripted([4, answer, 100]);
      expect(writeAll(1, "2051\n and more", w.write)).toBe(false);
      expect(w.calls.length).toBe(2);
      expect(new TextDecoder().decode(w.got(1))).toBe("2051");
    });
  }
});

describe("fsWrite: write(2) through node:fs", () => {
  const dir = mkdtempSync(join(tmpdir(), "output-test-"));
  afterEach(() => rmSync(join(dir, "f"), { force: true }));

  test("to a file: the byte count, and the bytes", () => {
    const fd = openSync(join(dir, "f"), "w");
    try {
      expect(fsWrite(fd, bytes("caps\n"))).toBe(5);
      expect(writeAll(fd, "ünï\n")).toBe(true); // the default write is fsWrite
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("caps\nünï\n");
  });

  test("a closed descriptor: -EIO (give up); a full non-blocking pipe: -EAGAIN (retry)", () => {
    const fd = openSync(join(dir, "f"), "w");
    closeSync(fd);
    expect(fsWrite(fd, bytes("x"))).toBe(-EIO);
    expect(writeAll(fd, "x")).toBe(false);
    const vz = loadNative();
    const p = vz.pipe(); // both ends O_NONBLOCK
    try {
      const mb = new Uint8Array(1 << 20);
      while (vz.write(p.writeFd, mb).ret > 0) {
        // fill the pipe
      }
      expect(fsWrite(p.writeFd, bytes("more"))).toBe(-EAGAIN);
    } finally {
      vz.close(p.readFd);
      vz.close(p.writeFd);
    }
  });
});

describe("fdOutput", () => {
  test("stdout to fd 1, stderr to fd 2, strings and bytes exact, through the given write", () => {
    const w = scripted([], 5);
    const out = fdOutput(() => w.write);
    out.stdout("771913119\n");
    out.stderr(bytes("Error: CT is locked\n"));
    out.stderr("Insufficient CPU capabilities: can't migrate\n");
    expect(new TextDecoder().decode(w.got(1))).toBe("771913119\n");
    expect(new TextDecoder().decode(w.got(2))).toBe(
      "Error: CT is locked\nInsufficient CPU capabilities: can't migrate\n",
    );
    expect(new Set(w.calls.map((c) => c.fd))).toEqual(new Set([1, 2]));
  });

  test("a broken stream (EPIPE) is dropped from then on; the other one goes on", () => {
    const w = scripted([-EPIPE]);
    const out = fdOutput(() => w.write);
    out.stdout("first\n"); // the reader went away
    out.stdout("second\n");
    out.stdout("third\n");
    out.stderr("still here\n");
    expect(w.calls.map((c) => [c.fd, c.took])).toEqual([
      [1, -EPIPE],
      [2, 11],
    ]);
    expect(w.got(1).length).toBe(0);
    expect(new TextDecoder().decode(w.got(2))).toBe("still here\n");
  });

  test("the write is asked for at each call: the native one once a kernel mode loaded it", () => {
    const w = scripted([]);
    let loaded = false;
    const out = fdOutput(() => (loaded ? w.write : undefined));
    const lines: string[] = [];
    const saved = { log: console.log, error: console.error };
    console.log = (line: string) => lines.push(`1:${line}`);
    console.error = (line: string) => lines.push(`2:${line}`);
    try {
      // Before: whole lines go through console (no node:fs needed), without their newline.
      out.stdout("Usage: vzcptcheck\n");
      out.stderr("vzcptcheck: bad\n");
      loaded = true;
      out.stdout("2051\n");
    } finally {
      console.log = saved.log;
      console.error = saved.error;
    }
    expect(lines).toEqual(["1:Usage: vzcptcheck", "2:vzcptcheck: bad"]);
    expect(new TextDecoder().decode(w.got(1))).toBe("2051\n");
  });
});
