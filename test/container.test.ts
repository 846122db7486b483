// Container flags (kernel-cpt.md "Container flags"): each task trait, the
// vendor rule for 32-bit vdso tasks, the 2.6.18 and 061.9 differences,
// message texts and order, and the node model's container mutations.

import { describe, expect, test } from "bun:test";
import { containerFlags } from "../sim/kernel/model.ts";
import { buildNode, makeContainer, makeNodeSpec, makeTask, type NodeModel } from "../sim/node.ts";
import type { Container, NodeSpec, Task } from "../sim/types.ts";
import { bitMask } from "../src/cpt/bits.ts";

const IVY = "intel-ivybridge-e5-2650v2"; // Intel: sse4_2, avx, aes, rdrand, sep
const K10 = "amd-k10-opteron-2384"; // AMD: 3dnow, sse4a, syscall

const node = (kernel: string, cpu = IVY, extra: Partial<NodeSpec> = {}): NodeModel =>
  buildNode(makeNodeSpec({ kernel, cpu, ...extra }));

/** A container of the given tasks only (no mounts or devices to flag). */
const ct = (tasks: Task[], extra: Partial<Container> = {}): Container =>
  makeContainer({ id: 101, tasks, mounts: [], netdevs: [], ...extra });

/** A task that did nothing that adds flags: no FPU, 32-bit without vdso. */
const plain = (p: Partial<Task> = {}): Task =>
  makeTask({ usedFpu: false, abi: 32, vdso: false, ...p });

const FPU = bitMask(
  "fxsr",
  "sse",
  "sse2",
  "sse4_1",
  "sse4_2",
  "mmx",
  "3dnow",
  "3dnowext",
  "sse4a",
  "xsave",
  "avx",
  "aesni",
);
const bits = (...names: string[]): number => bitMask(...names);

describe("base flags", () => {
  test("042stab: node & (cmov | no IPv6), plus node & syscall on 64-bit", () => {
    const n = node("042stab109", IVY, { ipv6: false });
    expect(n.flags & bits("no_ipv6")).not.toBe(0);
    const r = containerFlags(n, ct([]));
    expect(r.flags).toBe((n.flags & bits("cmov", "no_ipv6", "syscall")) >>> 0);
    expect(r.flags & bits("no_ipv6")).not.toBe(0);
    expect(r.messages).toEqual([]);
  });

  test("061.9: node & cmov only (no IPv6 bit carried)", () => {
    const n = node("042stab061", IVY, { ipv6: false });
    expect(containerFlags(n, ct([])).flags).toBe((n.flags & bits("cmov", "syscall")) >>> 0);
  });

  test("32-bit kernel: no syscall in the base", () => {
    const n = node("042stab109", K10, { arch64: false });
    expect(containerFlags(n, ct([])).flags).toBe((n.flags & bits("cmov")) >>> 0);
  });
});

describe("task traits", () => {
  const n = node("042stab109");
  const base = containerFlags(n, ct([])).flags;
  const added = (t: Task, on = n): number =>
    (containerFlags(on, ct([t])).flags & ~containerFlags(on, ct([])).flags) >>> 0;

  test("a task that used the FPU adds node & the FPU set (rdrand from 108.1)", () => {
    expect(added(plain({ usedFpu: true }))).toBe((n.flags & (FPU | bits("rdrand")) & ~base) >>> 0);
    expect(added(plain({ usedFpu: true })) & bits("rdrand")).not.toBe(0);
    const k10 = node("042stab093", K10);
    expect(added(plain({ usedFpu: true }), k10)).toBe(
      (k10.flags & FPU & ~containerFlags(k10, ct([])).flags) >>> 0,
    );
    expect(added(plain({ usedFpu: true }), k10) & bits("3dnow", "sse4a")).toBe(
      bits("3dnow", "sse4a"),
    );
    // Never the ABI bits.
    expect(added(plain({ usedFpu: true })) & bits("sysenter", "emt64", "sep32")).toBe(0);
  });

  test("a 64-bit task adds emt64", () => {
    expect(added(plain({ abi: 64 }))).toBe(bits("emt64"));
  });

  test("a 32-bit task with a vdso: sysenter on Intel, syscall32 on AMD; none without vdso", () => {
    expect(added(plain({ vdso: true }))).toBe(bits("sysenter"));
    const amd = node("042stab109", K10);
    expect(added(plain({ vdso: true }), amd)).toBe(bits("syscall32"));
    expect(added(plain({ vdso: false }))).toBe(0);
    expect(added(plain({ vdso: false }), amd)).toBe(0);
  });

  test("external process: bit 16 and its message", () => {
    const t = plain({ pid: 5678, hostPid: 1234, comm: "bash", external: true });
    const r = containerFlags(n, ct([t]));
    expect((r.flags & ~base) >>> 0).toBe(bits("external_process"));
    expect(r.messages).toEqual([
      "external process 5678/1234(bash) inside CT (e.g. vzctl enter or vzctl exec).",
    ]);
  });

  test("own mount namespace: bit 17, silently", () => {
    const r = containerFlags(n, ct([plain({ ownMountNamespace: true })]));
    expect((r.flags & ~base) >>> 0).toBe(bits("namespaces"));
    expect(r.messages).toEqual([]);
  });

  test("real-time policies add 18 with a message; batch and idle do not", () => {
    const fifo = containerFlags(
      n,
      ct([plain({ pid: 7, hostPid: 77, comm: "rtkit", policy: "fifo" })]),
    );
    expect((fifo.flags & ~base) >>> 0).toBe(bits("sched_policy"));
    expect(fifo.messages).toEqual([
      "scheduler policy is not supported: task 7/77(rtkit) uses SCHED_FIFO",
    ]);
    const rr = containerFlags(n, ct([plain({ pid: 8, hostPid: 88, comm: "jackd", policy: "rr" })]));
    expect(rr.messages).toEqual([
      "scheduler policy is not supported: task 8/88(jackd) uses SCHED_RR",
    ]);
    for (const policy of ["other", "batch", "idle"] as const) {
      expect(containerFlags(n, ct([plain({ policy })])).flags).toBe(base);
    }
  });

  test("ptraced from the host: bit 19 with a message", () => {
    const r = containerFlags(
      n,
      ct([plain({ pid: 3, hostPid: 33, comm: "nginx", ptracedFromHost: true })]),
    );
    expect((r.flags & ~base) >>> 0).toBe(bits("ptraced"));
    expect(r.messages).toEqual(["task 3/33(nginx) is ptraced from host system"]);
  });

  test("unsupported use: bit 23, one message per feature", () => {
    const r = containerFlags(
      n,
      ct([plain({ pid: 4, hostPid: 44, comm: "app", unsupportedUse: ["splice", "keys"] })]),
    );
    expect((r.flags & ~base) >>> 0).toBe(bits("unsupported_misc"));
    expect(r.messages).toEqual([
      "task 4/44(app) uses splice, which cannot be checkpointed",
      "task 4/44(app) uses keys, which cannot be checkpointed",
    ]);
  });

  test("kernel threads are skipped entirely", () => {
    const kt = makeTask({
      kernelThread: true,
      usedFpu: true,
      abi: 64,
      external: true,
      policy: "fifo",
      ptracedFromHost: true,
      ownMountNamespace: true,
      unsupportedUse: ["splice"],
    });
    expect(containerFlags(n, ct([kt]))).toEqual({ flags: base, messages: [] });
  });
});

describe("network devices and mounts", () => {
  const n = node("042stab109");
  const base = containerFlags(n, ct([])).flags;

  test("only the first device that cannot be checkpointed is reported", () => {
    const r = containerFlags(
      n,
      ct([], {
        netdevs: [
          { name: "venet0", checkpointable: true },
          { name: "tun0", checkpointable: false },
          { name: "tap1", checkpointable: false },
        ],
      }),
    );
    expect((r.flags & ~base) >>> 0).toBe(bits("unsupported_netdev"));
    expect(r.messages).toEqual(["unsupported netdevice tun0"]);
  });

  test("every mount of an unsupported filesystem is reported; supported ones are not", () => {
    const supported = [
      "rootfs",
      "ext4",
      "simfs",
      "tmpfs",
      "devpts",
      "proc",
      "sysfs",
      "nfs4",
      "cgroup",
      "mqueue",
    ];
    const ok = containerFlags(
      n,
      ct([], { mounts: supported.map((fs) => ({ fs, target: `/${fs}` })) }),
    );
    expect(ok).toEqual({ flags: base, messages: [] });
    const r = containerFlags(
      n,
      ct([], {
        mounts: [
          { fs: "ext4", target: "/" },
          { fs: "fuse", target: "/mnt/a" },
          { fs: "xfs", target: "/mnt/b" },
        ],
      }),
    );
    expect((r.flags & ~base) >>> 0).toBe(bits("unsupported_fs"));
    expect(r.messages).toEqual(["Unsupported filesystem fuse", "Unsupported filesystem xfs"]);
  });
});

describe("message order", () => {
  test("tasks in order (external, policy, ptrace, uses), then netdev, then mounts", () => {
    const n = node("042stab109");
    const r = containerFlags(
      n,
      ct(
        [
          plain({
            pid: 1,
            hostPid: 11,
            comm: "a",
            ptracedFromHost: true,
            external: true,
            policy: "rr",
          }),
          plain({ pid: 2, hostPid: 22, comm: "b", unsupportedUse: ["mempolicy"] }),
        ],
        {
          mounts: [{ fs: "fuse", target: "/x" }],
          netdevs: [{ name: "tap0", checkpointable: false }],
        },
      ),
    );
    expect(r.messages).toEqual([
      "external process 1/11(a) inside CT (e.g. vzctl enter or vzctl exec).",
      "scheduler policy is not supported: task 1/11(a) uses SCHED_RR",
      "task 1/11(a) is ptraced from host system",
      "task 2/22(b) uses mempolicy, which cannot be checkpointed",
      "unsupported netdevice tap0",
      "Unsupported filesystem fuse",
    ]);
  });
});

describe("older generations", () => {
  test("2.6.18: a task that used the FPU takes every node flag", () => {
    const n = node("028stab056", K10);
    expect(containerFlags(n, ct([plain({ usedFpu: true })])).flags).toBe(n.flags);
  });

  test("2.6.18: sysenter for a 32-bit vdso task on any vendor", () => {
    const n = node("028stab056", K10);
    expect(n.flags & bits("sysenter")).not.toBe(0);
    const base = containerFlags(n, ct([])).flags;
    expect((containerFlags(n, ct([plain({ vdso: true })])).flags & ~base) >>> 0).toBe(
      bits("sysenter"),
    );
  });

  test("2.6.32-pre keeps the vendor rule", () => {
    const n = node("2.6.32-pre", K10);
    const base = containerFlags(n, ct([])).flags;
    expect((containerFlags(n, ct([plain({ vdso: true })])).flags & ~base) >>> 0).toBe(
      bits("syscall32"),
    );
  });

  test("ordinary tasks take only flags the node has", () => {
    for (const kernel of ["028stab056", "2.6.32-pre", "042stab061", "042stab109"]) {
      const n = node(kernel, IVY);
      const r = containerFlags(n, ct([makeTask(), plain({ vdso: true })]));
      expect([kernel, (r.flags & ~n.flags) >>> 0]).toEqual([kernel, 0]);
    }
  });
});

describe("node model", () => {
  test("containers: add, look up, change state, remove", () => {
    const n = buildNode(
      makeNodeSpec({ kernel: "042stab109", cpu: IVY, containers: [makeContainer({ id: 101 })] }),
    );
    expect(n.container(101)?.state).toBe("running");
    expect(n.setContainerState(101, "locked")).toBe(true);
    expect(n.container(101)?.state).toBe("locked");
    expect(n.setContainerState(5, "stopped")).toBe(false);
    n.addContainer(makeContainer({ id: 102, state: "stopped" }));
    expect(n.containers.map((c) => c.id)).toEqual([101, 102]);
    expect(() => n.addContainer(makeContainer({ id: 102 }))).toThrow(
      /container 102 already exists/,
    );
    expect(() => n.addContainer(makeContainer({ id: 0 }))).toThrow(
      /container id 0 is not in 1\.\.4294967295/,
    );
    expect(n.removeContainer(101)).toBe(true);
    expect(n.removeContainer(101)).toBe(false);
    expect(n.container(101)).toBeUndefined();
  });

  test("vendor and flags are fixed at build time", () => {
    expect(node("042stab109", IVY).intel).toBe(true);
    expect(node("042stab109", K10).intel).toBe(false);
    const n = node("042stab109");
    expect(n.flags).toBe(n.flags >>> 0);
    expect(n.flags & bits("namespaces")).not.toBe(0);
  });
});
