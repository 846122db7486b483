// The in-process device: fd table, pipes, the kernel's error-fd reference,
// and the unchanged production flows (src/modes.ts) run against simulated
// nodes, row by row of cli-contract.md.

import { describe, expect, test } from "bun:test";
import { collectingOutput, PIPE_CAPACITY, Pipe, runInProcess, simBackend } from "../sim/device.ts";
import { nodeKernel } from "../sim/kernel/model.ts";
import { buildNode, makeContainer, makeNodeSpec, makeTask, type NodeModel } from "../sim/node.ts";
import type { Container, NodeSpec } from "../sim/types.ts";
import { bitMask } from "../src/cpt/bits.ts";
import { EBADF, EMFILE, ENOTTY } from "../src/cpt/errno.ts";
import {
  CPT_PATH,
  CPT_SET_ERRORFD,
  CPT_SET_VEID,
  CPT_TEST_VECAPS,
  RST_PATH,
} from "../src/cpt/requests.ts";
import { parseArgs } from "../src/grammar.ts";
import { runCommand } from "../src/modes.ts";
import { USAGE } from "../src/usage.ts";

const IVY = "intel-ivybridge-e5-2650v2";
const dec = new TextDecoder();

const node = (kernel: string, extra: Partial<NodeSpec> = {}, cts: Container[] = []): NodeModel =>
  buildNode(makeNodeSpec({ kernel, cpu: IVY, containers: cts, ...extra }));

/** runInProcess with stderr as text. */
const run = (n: NodeModel, args: string[], euid = 0): [string, string, number] => {
  const r = runInProcess(n, args, euid);
  return [r.stdout, dec.decode(r.stderr), r.exit];
};

const withCt = (kernel: string, extra: Partial<NodeSpec> = {}): NodeModel =>
  node(kernel, extra, [
    makeContainer({ id: 101, tasks: [makeTask({ usedFpu: true })] }),
    makeContainer({ id: 102, state: "stopped" }),
    makeContainer({ id: 103, state: "locked" }),
  ]);

/** The destination's flags, as `vzcptcheck caps` prints them there. */
const capsOf = (n: NodeModel): string => {
  const [out, err, exit] = run(n, ["caps"]);
  expect([err, exit]).toEqual(["", 0]);
  return out.trim();
};

// Ivy Bridge with AVX hidden by the node's CPUID mask (leaf 1 ecx bit 28).
const NO_AVX = { cpuidMask: { leaf1Ecx: ~(1 << 28) >>> 0 } };

describe("pipe", () => {
  test("65536 bytes of room; small writes are atomic, large ones store what fits", () => {
    const p = new Pipe();
    p.readers = 1;
    p.writers = 1;
    expect(p.write(new Uint8Array(PIPE_CAPACITY - 100))).toBe(PIPE_CAPACITY - 100);
    expect(p.write(new Uint8Array(200))).toBe(0); // <= PIPE_BUF: all or nothing
    expect(p.write(new Uint8Array(100))).toBe(100);
    expect(p.size).toBe(PIPE_CAPACITY);
    expect(p.read(4096).length).toBe(4096);
    expect(p.write(new Uint8Array(10000))).toBe(4096); // > PIPE_BUF: partial
  });

  test("reads come back in order across chunks", () => {
    const p = new Pipe();
    p.readers = 1;
    p.write(new TextEncoder().encode("abc"));
    p.write(new TextEncoder().encode("defgh"));
    expect(dec.decode(p.read(4))).toBe("abcd");
    expect(dec.decode(p.read(100))).toBe("efgh");
    expect(p.read(10).length).toBe(0);
  });

  test("no reader left: nothing is stored", () => {
    const p = new Pipe();
    expect(p.write(new Uint8Array(5))).toBe(0);
  });
});

describe("simBackend", () => {
  const n = withCt("042stab109");

  test("fds start at 3 and the lowest free one is reused", () => {
    const b = simBackend(nodeKernel(n));
    const p = b.pipe();
    expect([p.readFd, p.writeFd]).toEqual([3, 4]);
    expect(b.open(CPT_PATH).ret).toBe(5);
    b.close(4);
    expect(b.open(RST_PATH).ret).toBe(4);
    expect(b.openFds).toEqual([3, 4, 5]);
  });

  test("ioctl: EBADF on a closed fd, ENOTTY on a pipe", () => {
    const b = simBackend(nodeKernel(n));
    expect(b.ioctl(9, CPT_SET_VEID, 1)).toEqual({ ret: -1, errno: EBADF });
    const p = b.pipe();
    expect(b.ioctl(p.readFd, CPT_SET_VEID, 1)).toEqual({ ret: -1, errno: ENOTTY });
  });

  test("CPT_SET_ERRORFD checks the fd table", () => {
    const b = simBackend(nodeKernel(n));
    const fd = b.open(CPT_PATH).ret;
    expect(b.ioctl(fd, CPT_SET_ERRORFD, 42)).toEqual({ ret: -1, errno: EBADF });
    expect(b.ioctl(fd, CPT_SET_ERRORFD, fd)).toEqual({ ret: 0, errno: 0 });
  });

  test("the kernel's reference keeps the pipe writable after the process closes its write end", () => {
    const b = simBackend(nodeKernel(n));
    const p = b.pipe();
    const fd = b.open(CPT_PATH).ret;
    expect(b.ioctl(fd, CPT_SET_ERRORFD, p.writeFd).ret).toBe(0);
    b.close(p.writeFd);
    b.ioctl(fd, CPT_SET_VEID, 102);
    expect(b.ioctl(fd, CPT_TEST_VECAPS, 0).ret).toBe(-1);
    b.ioctl(fd, CPT_TEST_VECAPS, 0); // a second flush lands after the first
    expect(dec.decode(b.drain(p.readFd))).toBe(
      "Error: CT is not running\nError: CT is not running\n",
    );
    expect(b.drain(p.readFd).length).toBe(0);
    b.close(fd); // drops the kernel's reference
    b.close(p.readFd);
    expect(b.openFds).toEqual([]);
  });

  test("drain of something that is not a pipe's read end is empty", () => {
    const b = simBackend(nodeKernel(n));
    expect(b.drain(3).length).toBe(0);
  });

  test("euid and fd limit", () => {
    expect(simBackend(nodeKernel(n), { euid: 500 }).open(CPT_PATH).errno).toBe(13);
    const b = simBackend(nodeKernel(n), { fdLimit: 4 });
    expect(b.pipe()).toEqual({ ret: -1, errno: EMFILE, readFd: -1, writeFd: -1 });
    expect(b.open(CPT_PATH).ret).toBe(3);
    expect(b.open(CPT_PATH)).toEqual({ ret: -1, errno: EMFILE });
  });

  test("strerror is glibc's C-locale text", () => {
    expect(simBackend(nodeKernel(n)).strerror(3)).toBe("No such process");
  });
});

// ---- the contract's rows, end to end --------------------------------------

describe("runInProcess: dispatch", () => {
  const n = node("042stab109");
  test("usage rows", () => {
    expect(run(n, [])).toEqual([USAGE, "", 0]);
    expect(run(n, ["help", "x", "y"])).toEqual([USAGE, "", 0]);
    for (const args of [
      [""],
      ["-h"],
      ["--help"],
      ["HELP"],
      ["version", "1", "2"],
      ["caps", "1", "2", "3"],
    ]) {
      expect(run(n, args)).toEqual(["", USAGE, 1]);
    }
  });
});

describe("runInProcess: version", () => {
  test("show: the current version on 042stab, EINVAL before", () => {
    expect(run(node("042stab061"), ["version"])).toEqual(["2049\n", "", 0]);
    for (const k of [
      "042stab088",
      "042stab092",
      "042stab093",
      "042stab101",
      "042stab108",
      "042stab109",
    ]) {
      expect(run(node(k), ["version"])).toEqual(["2051\n", "", 0]);
    }
    for (const k of ["028stab056", "2.6.32-pre"]) {
      expect(run(node(k), ["version"])).toEqual([
        "",
        "Error in ioctl(CPT_TEST_VERSION): Invalid argument\n",
        1,
      ]);
    }
  });

  test("test: accepted, rejected, or silent on kernels without the request", () => {
    expect(run(node("2.6.32-pre"), ["version", "2049"])).toEqual(["", "", 0]);
    expect(run(node("028stab056"), ["version", "12345"])).toEqual(["", "", 0]);
    expect(run(node("042stab109"), ["version", "2051"])).toEqual(["", "", 0]);
    expect(run(node("042stab109"), ["version", "771"])).toEqual(["", "", 0]); // 0x303
    expect(run(node("042stab061"), ["version", "2051"])).toEqual([
      "",
      "CPT version 2051 rejected: can't migrate\n",
      2,
    ]);
    expect(run(node("042stab109"), ["version", "1792"])).toEqual([
      "",
      "CPT version 1792 rejected: can't migrate\n",
      2,
    ]);
    expect(run(node("042stab109"), ["version", "-1"])).toEqual([
      "",
      "CPT version -1 rejected: can't migrate\n",
      2,
    ]);
    expect(run(node("042stab109"), ["version", "0x803"])).toEqual([
      "",
      "CPT version 0 rejected: can't migrate\n",
      2,
    ]);
  });
});

describe("runInProcess: caps", () => {
  test("show prints the destination's flags", () => {
    const n = node("042stab109");
    expect(run(n, ["caps"])).toEqual([`${n.flags}\n`, "", 0]);
  });

  test("suspended-container test: 0 / 1 / old-kernel warning", () => {
    const src = node("042stab109");
    expect(run(src, ["caps", String(src.flags)])).toEqual(["", "", 0]);
    const dst = capsOf(node("042stab109", NO_AVX));
    expect(run(src, ["caps", dst])).toEqual([
      "",
      "Insufficient CPU capabilities: can't migrate\n",
      2,
    ]);
    const warning = "vzcptcheck WARNING: old kernel, please update to kernel >= 042stab107.x\n";
    expect(run(node("042stab108"), ["caps", dst])).toEqual(["", warning, 0]);
    expect(run(node("042stab101"), ["caps", dst])).toEqual(["", warning, 0]);
  });

  test("running container: kernel lines first, then the tool's line", () => {
    const src = withCt("042stab109");
    const dst = capsOf(node("042stab109", NO_AVX));
    expect(run(src, ["caps", "101", dst])).toEqual([
      "",
      "Error: Destination cpu does not have avx\nInsufficient CPU capabilities: can't migrate\n",
      2,
    ]);
    expect(run(src, ["caps", "101", capsOf(node("042stab109"))])).toEqual(["", "", 0]);
  });

  test("running container: failures before the checks", () => {
    const src = withCt("042stab109");
    const dst = capsOf(src);
    expect(run(src, ["caps", "999", dst])).toEqual([
      "",
      "Error in ioctl(CPT_TEST_VECAPS): No such process\n",
      1,
    ]);
    expect(run(src, ["caps", "0", dst])).toEqual([
      "",
      "Error in ioctl(CPT_TEST_VECAPS): Invalid argument\n",
      1,
    ]);
    expect(run(src, ["caps", "102", dst])).toEqual([
      "",
      "Error: CT is not running\nError in ioctl(CPT_TEST_VECAPS): No such process\n",
      1,
    ]);
    expect(run(src, ["caps", "103", dst])).toEqual([
      "",
      "Error: CT is locked\nError in ioctl(CPT_TEST_VECAPS): Device or resource busy\n",
      1,
    ]);
  });

  test("061.9's IPv6 quirk end to end", () => {
    const src = withCt("042stab061", { ipv6: false });
    const dst = capsOf(node("042stab061", { ipv6: false }));
    expect(run(src, ["caps", "101", dst])).toEqual([
      "",
      "Error: IPv6 not loaded or disabled on destination node\nInsufficient CPU capabilities: can't migrate\n",
      2,
    ]);
  });

  test("an external process: its message, then result 2", () => {
    const src = node("042stab109", {}, [
      makeContainer({
        id: 200,
        tasks: [makeTask(), makeTask({ pid: 5678, hostPid: 1234, comm: "bash", external: true })],
      }),
    ]);
    expect(run(src, ["caps", "200", capsOf(src)])).toEqual([
      "",
      "Error: external process 5678/1234(bash) inside CT (e.g. vzctl enter or vzctl exec).\n" +
        "Insufficient CPU capabilities: can't migrate\n",
      2,
    ]);
  });

  test("legacy kernels: insufficient without kernel lines", () => {
    const src = withCt("028stab056");
    const noSse = String((src.flags & ~bitMask("sse")) >>> 0);
    expect(run(src, ["caps", "101", noSse])).toEqual([
      "",
      "Insufficient CPU capabilities: can't migrate\n",
      2,
    ]);
    expect(run(src, ["caps", "101", String(src.flags)])).toEqual(["", "", 0]);
  });
});

describe("runInProcess: shared failures", () => {
  test("non-root: Permission denied", () => {
    expect(run(node("042stab109"), ["version"], 1000)).toEqual([
      "",
      "Can't open /proc/cpt: Permission denied\nKernel module vzcpt not loaded\n",
      1,
    ]);
  });

  test("module not loaded: No such file or directory", () => {
    const n = node("042stab109", { modules: { cpt: true, rst: false } });
    expect(run(n, ["caps"])).toEqual([
      "",
      "Can't open /proc/rst: No such file or directory\nKernel module vzrst not loaded\n",
      1,
    ]);
    expect(run(n, ["version", "2051"])).toEqual([
      "",
      "Can't open /proc/rst: No such file or directory\nKernel module vzrst not loaded\n",
      1,
    ]);
  });

  test("pipe failure: Can't create pipe", () => {
    const b = simBackend(nodeKernel(node("042stab109")), { fdLimit: 4 });
    const out = collectingOutput();
    const exit = runCommand(parseArgs(["caps"]), () => b, out);
    expect([out.stdoutText(), dec.decode(out.stderrBytes()), exit]).toEqual([
      "",
      "Can't create pipe: Too many open files\n",
      1,
    ]);
  });

  test("the flows leave only the pipe's read end open (the process exits next)", () => {
    const b = simBackend(nodeKernel(withCt("042stab109")));
    runCommand(parseArgs(["caps", "101", "0"]), () => b, collectingOutput());
    expect(b.openFds).toEqual([3]);
  });
});
