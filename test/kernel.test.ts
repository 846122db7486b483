// The simulated kernel against kernel-cpt.md: every cell of the generations
// table, the VECAPS checks and their priority, the context rules, and the
// custom profile files.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IoctlAnswer } from "../sim/kernel/api.ts";
import { MESSAGE_BUFFER_BYTES } from "../sim/kernel/context.ts";
import {
  cptCapsCheck,
  nodeKernel,
  type ProcFile,
  restoreAccepts,
  vecapsCheck,
} from "../sim/kernel/model.ts";
import {
  BUILTIN_PROFILES,
  type KernelProfile,
  loadProfileFile,
  parseProfileText,
  profileById,
} from "../sim/kernel/profiles.ts";
import { buildNode, makeContainer, makeNodeSpec, makeTask, type NodeModel } from "../sim/node.ts";
import type { Container, NodeSpec } from "../sim/types.ts";
import { bitMask } from "../src/cpt/bits.ts";
import {
  EACCES,
  EAGAIN,
  EBADF,
  EBUSY,
  EFAULT,
  EINVAL,
  ENOENT,
  ENOSYS,
  ESRCH,
} from "../src/cpt/errno.ts";
import type { FlagSource } from "../src/cpt/generations.ts";
import {
  CPT_PATH,
  CPT_SET_ERRORFD,
  CPT_SET_VEID,
  CPT_TEST_CAPS,
  CPT_TEST_VECAPS,
  CPT_TEST_VECAPS2,
  CPT_TEST_VERSION,
  RST_PATH,
} from "../src/cpt/requests.ts";

const P = (id: string): KernelProfile => {
  const p = profileById(id);
  if (!p) throw new Error(`no profile ${id}`);
  return p;
};
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const all = (): boolean => true;

const ALL_IDS = [
  "028stab056",
  "2.6.32-pre",
  "042stab061",
  "042stab088",
  "042stab092",
  "042stab093",
  "042stab101",
  "042stab108",
  "042stab109",
];
const RHEL6_IDS = ALL_IDS.slice(2);

function node(kernel: string, extra: Partial<NodeSpec> = {}, cts: Container[] = []): NodeModel {
  return buildNode(
    makeNodeSpec({ kernel, cpu: "intel-ivybridge-e5-2650v2", containers: cts, ...extra }),
  );
}

function openFile(n: NodeModel, path = CPT_PATH): ProcFile {
  const r = nodeKernel(n).open(path, 0);
  if ("errno" in r) throw new Error(`open ${path}: errno ${r.errno}`);
  return r.file as ProcFile;
}

const call = (
  f: ProcFile,
  req: number,
  arg = 0,
  valid: (fd: number) => boolean = all,
): IoctlAnswer => f.ioctl(req, arg, valid);

// ---- the generations table, one row per column of the spec --------------

interface Row {
  current: number | null;
  cptVersion: number | "EINVAL";
  restoreMinor: number | null;
  cptCaps: "check" | "ENOSYS" | "EAGAIN";
  capsLabels: number;
  vecaps: "042" | "legacy";
  mask: number;
  highest: number;
  osBits: boolean;
  source: FlagSource;
  bug: boolean;
  rdrand: boolean;
}

const TABLE: Record<string, Row> = {
  "028stab056": {
    current: null,
    cptVersion: "EINVAL",
    restoreMinor: null,
    cptCaps: "check",
    capsLabels: 8,
    vecaps: "legacy",
    mask: 0xffff0000,
    highest: 9,
    osBits: false,
    source: "kernel-caps",
    bug: false,
    rdrand: false,
  },
  "2.6.32-pre": {
    current: 0x800,
    cptVersion: "EINVAL",
    restoreMinor: null,
    cptCaps: "check",
    capsLabels: 8,
    vecaps: "legacy",
    mask: 0xffff0000,
    highest: 12,
    osBits: false,
    source: "kernel-caps",
    bug: false,
    rdrand: false,
  },
  "042stab061": {
    current: 0x801,
    cptVersion: 0x801,
    restoreMinor: 1,
    cptCaps: "check",
    capsLabels: 18,
    vecaps: "042",
    mask: 0xe1fd0000,
    highest: 27,
    osBits: true,
    source: "raw-cpuid",
    bug: true,
    rdrand: false,
  },
  "042stab088": {
    current: 0x803,
    cptVersion: 0x803,
    restoreMinor: 3,
    cptCaps: "check",
    capsLabels: 18,
    vecaps: "042",
    mask: 0xe1fd0000,
    highest: 27,
    osBits: true,
    source: "raw-cpuid",
    bug: true,
    rdrand: false,
  },
  "042stab092": {
    current: 0x803,
    cptVersion: 0x803,
    restoreMinor: 3,
    cptCaps: "check",
    capsLabels: 18,
    vecaps: "042",
    mask: 0xe1fd0000,
    highest: 27,
    osBits: true,
    source: "raw-cpuid",
    bug: true,
    rdrand: false,
  },
  "042stab093": {
    current: 0x803,
    cptVersion: 0x803,
    restoreMinor: 3,
    cptCaps: "check",
    capsLabels: 18,
    vecaps: "042",
    mask: 0xe1fd0000,
    highest: 27,
    osBits: true,
    source: "raw-cpuid",
    bug: false,
    rdrand: false,
  },
  "042stab101": {
    current: 0x803,
    cptVersion: 0x803,
    restoreMinor: 3,
    cptCaps: "EAGAIN",
    capsLabels: 18,
    vecaps: "042",
    mask: 0xe1fd0000,
    highest: 27,
    osBits: true,
    source: "raw-cpuid",
    bug: false,
    rdrand: false,
  },
  "042stab108": {
    current: 0x803,
    cptVersion: 0x803,
    restoreMinor: 3,
    cptCaps: "ENOSYS",
    capsLabels: 19,
    vecaps: "042",
    mask: 0xc1fd0000,
    highest: 29,
    osBits: true,
    source: "masked-cpuid",
    bug: false,
    rdrand: true,
  },
  "042stab109": {
    current: 0x803,
    cptVersion: 0x803,
    restoreMinor: 3,
    cptCaps: "check",
    capsLabels: 19,
    vecaps: "042",
    mask: 0xc1fd0000,
    highest: 29,
    osBits: true,
    source: "masked-cpuid",
    bug: false,
    rdrand: true,
  },
};

const LEGACY_LABELS = ["cmov", "fxsr", "sse", "sse2", "mmx", "3dnow", "3dnowext", "sysenter"];
const RHEL6_LABELS = [
  "cmov",
  "fxsr",
  "sse",
  "sse2",
  "sse4_1",
  "sse4_2",
  "mmx",
  "3dnow",
  "3dnowext",
  "sse4a",
  "sysenter",
  "emt64",
  "ia64",
  "syscall",
  "syscall32",
  "xsave",
  "avx",
  "aesni",
];

describe.each(ALL_IDS)("generation %s", (id) => {
  const row = TABLE[id] as Row;
  const p = P(id);

  test("profile facts", () => {
    expect(p.currentVersion).toBe(row.current);
    expect(p.cptTestCaps).toBe(row.cptCaps);
    expect(p.vecapsStyle).toBe(row.vecaps);
    expect(p.unsupportedMask >>> 0).toBe(row.mask);
    expect(p.highestCpuBit).toBe(row.highest);
    expect(p.osBits).toBe(row.osBits);
    expect(p.flagSource).toBe(row.source);
    expect(p.sse42LabelBug).toBe(row.bug);
    expect(p.hasRdrand).toBe(row.rdrand);
    expect(p.restoreRule).toBe(row.restoreMinor === null ? "none" : "minor<=current");
    const labels = p.cptCapsChecks.map((c) => c.label);
    expect(labels.length).toBe(row.capsLabels);
    const expected =
      row.vecaps === "legacy"
        ? LEGACY_LABELS
        : [...RHEL6_LABELS, ...(row.rdrand ? ["rdrand"] : [])];
    expect(labels).toEqual(expected);
  });

  test("cpt CPT_TEST_VERSION", () => {
    const f = openFile(node(id));
    const r = call(f, CPT_TEST_VERSION, 12345);
    if (row.cptVersion === "EINVAL") {
      expect([r.ret, r.errno]).toEqual([-1, EINVAL]);
      expect(f.context).not.toBeNull(); // unknown request: after the context exists
    } else {
      expect([r.ret, r.errno]).toEqual([row.cptVersion, 0]);
      expect(f.context).toBeNull(); // early request
    }
  });

  test("rst CPT_TEST_VERSION", () => {
    const f = openFile(node(id), RST_PATH);
    const answer = (v: number): number => {
      const r = call(f, CPT_TEST_VERSION, v);
      return r.ret < 0 ? -r.errno : r.ret;
    };
    if (row.restoreMinor === null) {
      expect(answer(0x800)).toBe(-EINVAL);
      expect(answer(0x303)).toBe(-EINVAL);
      expect(restoreAccepts(p, 0x800)).toBe(-EINVAL);
      return;
    }
    const m = row.restoreMinor;
    const cases: [number, number][] = [
      [0x300, 0],
      [0x302, 0],
      [0x303, 1],
      [0x304, 1],
      [0x400, 0],
      [0x500, 0],
      [0x600, 0],
      [0x700, 0],
      [0x703, 0],
      [0x800, 1],
      [0x801, 1],
      [0x802, m >= 2 ? 1 : 0],
      [0x803, m >= 3 ? 1 : 0],
      [0x804, 0],
      [0x810, 1], // MINOR is the low 4 bits only
      [-1, 0],
      [0, 0],
    ];
    for (const [v, want] of cases) {
      expect([v, answer(v)]).toEqual([v, want]);
      expect(restoreAccepts(p, v)).toBe(want);
    }
    expect(f.context).toBeNull();
  });

  test("cpt CPT_TEST_CAPS", () => {
    const n = node(id);
    const f = openFile(n);
    const same = call(f, CPT_TEST_CAPS, n.flags);
    const none = call(f, CPT_TEST_CAPS, 0);
    if (row.cptCaps === "check") {
      expect([same.ret, none.ret]).toEqual([0, 1]);
    } else {
      const errno = row.cptCaps === "ENOSYS" ? ENOSYS : EAGAIN;
      expect([same.ret, same.errno, none.ret, none.errno]).toEqual([-1, errno, -1, errno]);
    }
    expect(same.errorBytes.length + none.errorBytes.length).toBe(0);
    expect(f.context).toBeNull();
  });

  test("rst CPT_TEST_CAPS returns the node flags", () => {
    const n = node(id);
    const r = call(openFile(n, RST_PATH), CPT_TEST_CAPS, 999);
    expect(r.ret).toBe(n.flags);
    expect(r.ret).toBeGreaterThan(0);
    expect((n.flags & ~p.definedBits) >>> 0).toBe(0);
    expect((n.flags & bitMask("namespaces")) !== 0).toBe(row.osBits);
    const noIpv6 = node(id, { ipv6: false }).flags;
    expect((noIpv6 & bitMask("no_ipv6")) !== 0).toBe(row.osBits);
    // No CPU bit above the generation's highest one.
    const cpuAbove = bitMask("sse4_1", "sse4_2", "sse4a", "xsave", "avx", "aesni", "rdrand");
    const above = (cpuAbove & ~((2 ** (row.highest + 1) - 1) >>> 0)) >>> 0;
    expect((n.flags & above) >>> 0).toBe(0);
  });

  test("VECAPS result codes", () => {
    const cmov = bitMask("cmov");
    const got = new Set<number>();
    const probes: [number, number][] = [
      [cmov, cmov], // nothing fails
      [cmov, 0], // CPU
      [bitMask("external_process"), 0], // unsupported
      [0, bitMask("slm_dmprst")], // destination SLM
      [0, bitMask("no_ipv6")], // IPv6
      [bitMask("namespaces"), 0], // namespaces
    ];
    for (const [ct, dst] of probes) got.add(vecapsCheck(p, ct, dst).result);
    const expected = row.vecaps === "042" ? [0, 1, 2, 3, 4, 5] : [0, 1, 2];
    expect([...got].sort()).toEqual(expected);
  });
});

// ---- VECAPS checks ---------------------------------------------------------

describe("CPT_TEST_VECAPS checks (042 style)", () => {
  const p = P("042stab109");
  const ct = bitMask("cmov", "namespaces", "external_process");
  const dst = bitMask("slm_dmprst", "no_ipv6");

  test("priority 5 > 3 > 2 > 4 > 1, every check runs, messages in order", () => {
    const r = vecapsCheck(p, ct, dst);
    expect(r.result).toBe(5);
    expect(r.messages).toEqual([
      "Destination cpu does not have cmov",
      "SLM is enabled on destination node, but slm_dmprst module is not loaded",
      "IPv6 not loaded or disabled on destination node",
      "Mount namespaces migration support is not present on destination node",
    ]);
    const ns = bitMask("namespaces");
    expect(vecapsCheck(p, ct, dst | ns).result).toBe(3);
    expect(vecapsCheck(p, ct | bitMask("no_ipv6"), dst | ns).result).toBe(2);
    expect(vecapsCheck(p, bitMask("cmov"), dst | ns).result).toBe(3);
    expect(vecapsCheck(p, bitMask("cmov", "no_ipv6"), dst | ns).result).toBe(4);
    expect(vecapsCheck(p, bitMask("cmov"), 0).result).toBe(1);
    expect(vecapsCheck(p, bitMask("cmov"), bitMask("cmov")).result).toBe(0);
  });

  test("unsupported bits give 2 without a message", () => {
    for (const name of [
      "external_process",
      "sched_policy",
      "ptraced",
      "unsupported_fs",
      "unsupported_netdev",
      "unsupported_misc",
    ]) {
      const r = vecapsCheck(p, bitMask(name), 0);
      expect([name, r.result, r.messages]).toEqual([name, 2, []]);
    }
    // Bit 29 is unsupported before rdrand exists and a CPU bit after.
    expect(vecapsCheck(P("042stab093"), bitMask("rdrand"), 0).result).toBe(2);
    expect(vecapsCheck(P("042stab093"), bitMask("rdrand"), 0).messages).toEqual([]);
    expect(vecapsCheck(p, bitMask("rdrand"), 0)).toEqual({
      result: 1,
      messages: ["Destination cpu does not have rdrand"],
      warnings: [],
    });
  });

  test("the sse4_2 label bug (061.9-092.1) and its fix (093.5)", () => {
    const both = bitMask("sse4_1", "sse4_2");
    for (const id of ["042stab061", "042stab088", "042stab092"]) {
      expect(vecapsCheck(P(id), both, bitMask("sse4_1")).result).toBe(0); // sse4_2 never tested
      expect(vecapsCheck(P(id), both, bitMask("sse4_2")).messages).toEqual([
        "Destination cpu does not have sse4_1",
        "Destination cpu does not have sse4_2",
      ]);
      expect(cptCapsCheck(P(id), both, bitMask("sse4_1")).ret).toBe(0);
    }
    for (const id of ["042stab093", "042stab108", "042stab109"]) {
      expect(vecapsCheck(P(id), both, bitMask("sse4_1")).messages).toEqual([
        "Destination cpu does not have sse4_2",
      ]);
      expect(vecapsCheck(P(id), both, bitMask("sse4_2")).messages).toEqual([
        "Destination cpu does not have sse4_1",
      ]);
    }
    expect(cptCapsCheck(P("042stab093"), both, bitMask("sse4_1")).ret).toBe(1);
    expect(cptCapsCheck(P("042stab109"), both, bitMask("sse4_1")).ret).toBe(1);
  });

  test("rdrand is checked from 108.1 on", () => {
    const r = bitMask("rdrand");
    expect(cptCapsCheck(P("042stab109"), r, 0).ret).toBe(1);
    expect(cptCapsCheck(P("042stab093"), r, 0).ret).toBe(0);
    expect(P("042stab108").vecapsChecks.at(-1)?.label).toBe("rdrand");
    expect(P("042stab101").vecapsChecks.some((c) => c.label === "rdrand")).toBe(false);
  });
});

describe("CPT_TEST_VECAPS checks (legacy style)", () => {
  test("2.6.18: 1 for CPU (cmov..sysenter, emt64, ia64), 2 for any bit in 0xffff0000, no messages", () => {
    const p = P("028stab056");
    expect(vecapsCheck(p, bitMask("emt64"), 0)).toEqual({
      result: 1,
      messages: [],
      warnings: ["Destination cpu does not have emt64"],
    });
    expect(vecapsCheck(p, bitMask("ia64"), 0).result).toBe(1);
    expect(vecapsCheck(p, bitMask("syscall"), 0).result).toBe(0); // not in its list
    expect(vecapsCheck(p, bitMask("namespaces"), 0).result).toBe(2); // mask covers 17
    expect(vecapsCheck(p, bitMask("cmov", "ptraced"), 0).result).toBe(2); // 2 wins over 1
    expect(vecapsCheck(p, 0, bitMask("slm_dmprst")).result).toBe(0); // no SLM check
    expect(vecapsCheck(p, 0, bitMask("no_ipv6")).result).toBe(0); // no IPv6 check
  });

  test("2.6.32-pre: syscall and syscall32 checked, destination SLM gives 1", () => {
    const p = P("2.6.32-pre");
    expect(vecapsCheck(p, bitMask("syscall32"), 0).result).toBe(1);
    expect(vecapsCheck(p, 0, bitMask("slm_dmprst"))).toEqual({
      result: 1,
      messages: [],
      warnings: ["SLM is enabled on destination node, but slm_dmprst module is not loaded"],
    });
    expect(vecapsCheck(p, bitMask("sse4_1"), 0).result).toBe(0); // bit 13 not known there
  });
});

// ---- the ioctl model: context, errors, messages ------------------------------

describe("ioctl model", () => {
  const ct = (state: Container["state"], id = 101): Container =>
    makeContainer({ id, state, tasks: [makeTask({ usedFpu: true })] });

  test("open: ENOENT without the module, EACCES for non-root, ENOENT for other paths", () => {
    const n = node("042stab109", { modules: { cpt: true, rst: false } });
    const k = nodeKernel(n);
    expect(k.open(RST_PATH, 0)).toEqual({ errno: ENOENT });
    expect(k.open(RST_PATH, 1000)).toEqual({ errno: ENOENT });
    expect(k.open(CPT_PATH, 1000)).toEqual({ errno: EACCES });
    expect(k.open("/proc/other", 0)).toEqual({ errno: ENOENT });
    expect("file" in k.open(CPT_PATH, 0)).toBe(true);
  });

  test("unknown request: EINVAL after the context exists", () => {
    const f = openFile(node("042stab109"));
    expect(f.context).toBeNull();
    const r = call(f, 0x40042dff, 0);
    expect([r.ret, r.errno]).toEqual([-1, EINVAL]);
    expect(f.context).not.toBeNull();
  });

  test("CPT_SET_ERRORFD: EBADF for an invalid fd, replaces an earlier one, keeps it on failure", () => {
    const f = openFile(node("042stab109"));
    const valid = (fd: number): boolean => fd === 5 || fd === 6;
    expect(call(f, CPT_SET_ERRORFD, 7, valid).errno).toBe(EBADF);
    expect(call(f, CPT_SET_ERRORFD, -1, all).errno).toBe(EBADF);
    expect(call(f, CPT_SET_ERRORFD, 5, valid).ret).toBe(0);
    expect(call(f, CPT_SET_ERRORFD, 6, valid).errorFd).toBe(6);
    const bad = call(f, CPT_SET_ERRORFD, 9, valid);
    expect([bad.ret, bad.errno, bad.errorFd]).toEqual([-1, EBADF, 6]);
  });

  test("CPT_SET_VEID stores any id; EBUSY while the context is suspending", () => {
    const f = openFile(node("042stab109"));
    expect(call(f, CPT_SET_VEID, 4242).ret).toBe(0); // no such container: not checked here
    expect(f.context?.veid).toBe(4242);
    expect(call(f, CPT_SET_VEID, -1).ret).toBe(0);
    expect(f.context?.veid).toBe(0xffffffff);
    (f.context as NonNullable<ProcFile["context"]>).state = "suspending";
    const r = call(f, CPT_SET_VEID, 101);
    expect([r.ret, r.errno]).toEqual([-1, EBUSY]);
    expect(f.context?.veid).toBe(0xffffffff);
  });

  const vecaps = (n: NodeModel, veid: number, dst: number, withFd = true): IoctlAnswer => {
    const f = openFile(n);
    if (withFd) call(f, CPT_SET_ERRORFD, 4);
    call(f, CPT_SET_VEID, veid);
    return call(f, CPT_TEST_VECAPS, dst);
  };

  test("failures before any check", () => {
    const n = node("042stab109", {}, [ct("running", 101), ct("stopped", 102), ct("locked", 103)]);
    const show = (a: IoctlAnswer) => [a.ret, a.errno, text(a.errorBytes)];
    expect(show(vecaps(n, 0, n.flags))).toEqual([-1, EINVAL, ""]);
    expect(show(vecaps(n, 999, n.flags))).toEqual([-1, ESRCH, ""]);
    expect(show(vecaps(n, 102, n.flags))).toEqual([-1, ESRCH, "Error: CT is not running\n"]);
    expect(show(vecaps(n, 103, n.flags))).toEqual([-1, EBUSY, "Error: CT is locked\n"]);
    expect(show(vecaps(n, 101, n.flags))).toEqual([0, 0, ""]);
  });

  test("a fresh context has id 0: VECAPS without SET_VEID is EINVAL", () => {
    const f = openFile(node("042stab109", {}, [ct("running", 101)]));
    expect(call(f, CPT_TEST_VECAPS, 0).errno).toBe(EINVAL);
  });

  test("context requests flush the buffer at their end; without an error fd nothing is buffered", () => {
    const n = node("042stab109", {}, [ct("running", 101)]);
    const r = vecaps(n, 101, 0);
    expect(r.ret).toBe(1);
    expect(r.errorFd).toBe(4);
    expect(text(r.errorBytes)).toMatch(/^(Error: Destination cpu does not have [a-z0-9_]+\n)+$/);
    expect(text(r.errorBytes)).toStartWith("Error: Destination cpu does not have cmov\n");
    const silent = vecaps(n, 101, 0, false);
    expect([silent.ret, silent.errorFd, silent.errorBytes.length]).toEqual([1, null, 0]);
    expect(n.kernelLog.at(-1)).toStartWith("CPT ERR: Destination cpu does not have");
  });

  test("early requests never touch the context or the error fd", () => {
    const n = node("042stab109", {}, [ct("stopped", 102)]);
    const f = openFile(n);
    call(f, CPT_SET_ERRORFD, 4);
    call(f, CPT_SET_VEID, 102);
    const failed = call(f, CPT_TEST_VECAPS, 0);
    expect(text(failed.errorBytes)).toBe("Error: CT is not running\n");
    expect(f.context?.pending).toBe(0); // flushed
    for (const req of [CPT_TEST_CAPS, CPT_TEST_VERSION]) {
      const r = call(f, req, 0);
      expect([r.errorFd, r.errorBytes.length]).toEqual([4, 0]);
    }
  });

  test("the message buffer holds one page (4095 bytes before the NUL)", () => {
    const tasks = Array.from({ length: 300 }, (_, i) =>
      makeTask({ pid: i + 2, external: true, comm: "bash" }),
    );
    const n = node("042stab109", {}, [makeContainer({ id: 101, tasks })]);
    const r = vecaps(n, 101, n.flags);
    expect(r.ret).toBe(2);
    expect(r.errorBytes.length).toBe(MESSAGE_BUFFER_BYTES);
    expect(text(r.errorBytes)).toStartWith("Error: external process 2/1002(bash) inside CT");
  });

  test("rst does not know VECAPS; VECAPS2 is EFAULT on 092.1+ and unknown before", () => {
    const n = node("042stab109", {}, [ct("running", 101)]);
    const rst = openFile(n, RST_PATH);
    call(rst, CPT_SET_VEID, 101);
    expect(call(rst, CPT_TEST_VECAPS, 0).errno).toBe(EINVAL);
    for (const id of RHEL6_IDS) {
      const f = openFile(node(id, {}, [ct("running", 101)]));
      call(f, CPT_SET_VEID, 101);
      const want = P(id).stabFrom !== null && (P(id).stabFrom as number) >= 92.01 ? EFAULT : EINVAL;
      expect([id, call(f, CPT_TEST_VECAPS2, 0).errno]).toEqual([id, want]);
    }
  });

  test("a closed file answers EBADF", () => {
    const f = openFile(node("042stab109"));
    f.close();
    expect(call(f, CPT_TEST_CAPS, 0).errno).toBe(EBADF);
  });

  test("061.9 does not carry no-IPv6 into container flags: its IPv6 check fails", () => {
    const dst = (id: string) => node(id, { ipv6: false });
    for (const [id, result] of [
      ["042stab061", 3],
      ["042stab088", 0],
    ] as const) {
      const src = node(id, { ipv6: false }, [ct("running", 101)]);
      const r = vecaps(src, 101, dst(id).flags);
      expect([id, r.ret]).toEqual([id, result]);
      const msg = result === 3 ? "Error: IPv6 not loaded or disabled on destination node\n" : "";
      expect(text(r.errorBytes)).toBe(msg);
    }
  });

  test("same-CPU nodes of one generation pass; a missing CPU bit gives 1 with its label", () => {
    for (const id of RHEL6_IDS) {
      const n = node(id, {}, [ct("running", 101)]);
      expect([id, vecaps(n, 101, n.flags).ret]).toEqual([id, 0]);
      const noAvx = (n.flags & ~bitMask("avx")) >>> 0;
      const r = vecaps(n, 101, noAvx);
      expect([id, r.ret, text(r.errorBytes)]).toEqual([
        id,
        1,
        "Error: Destination cpu does not have avx\n",
      ]);
    }
  });
});

// ---- profile files -------------------------------------------------------

describe("custom profiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "vzprof-"));
  const file = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, body);
    return path;
  };

  test("built-ins are the generations", () => {
    expect(BUILTIN_PROFILES.map((b) => b.id)).toEqual(ALL_IDS);
    expect(P("042stab092").knowsVecaps2).toBe(true);
    expect(P("042stab088").knowsVecaps2).toBe(false);
    expect(P("2.6.32-pre").dstSlmResult).toBe(1);
    expect(P("028stab056").dstSlmResult).toBeNull();
    expect(P("028stab056").oldTaskRules).toBe(true);
    expect(profileById("nope")).toBeUndefined();
  });

  test("YAML: extends + overrides", () => {
    const p = loadProfileFile(
      file(
        "k.yaml",
        "extends: 042stab093\nid: lab-kernel\ncurrentVersion: 0x802\ncptTestCaps: ENOSYS\nsse42LabelBug: true\nhasRdrand: true\n",
      ),
    );
    expect(p.id).toBe("lab-kernel");
    expect(p.base).toBe("042stab093");
    expect(restoreAccepts(p, 0x803)).toBe(0);
    expect(restoreAccepts(p, 0x802)).toBe(1);
    expect(cptCapsCheck(p, 1, 0)).toEqual({ ret: -1, errno: ENOSYS });
    expect(p.sse42LabelBug).toBe(true);
    expect(p.vecapsChecks.find((c) => c.label === "sse4_2")?.bit).toBe(13);
    expect(p.vecapsChecks.at(-1)?.label).toBe("rdrand");
    expect(p.unsupportedMask >>> 0).toBe(0xc1fd0000); // bit 29 is a CPU bit now
    expect(p.highestCpuBit).toBe(29);
    // A node can run it when given the custom set.
    const n = buildNode(makeNodeSpec({ kernel: "lab-kernel", cpu: "intel-ivybridge-e5-2650v2" }), {
      profiles: [p],
    });
    expect((n.flags & bitMask("rdrand")) !== 0).toBe(true);
  });

  test("JSON, with hex strings and explicit mask", () => {
    const p = parseProfileText(
      JSON.stringify({
        extends: "042stab109",
        id: "j",
        unsupportedMask: "0xe1fd0000",
        hasRdrand: false,
      }),
      "j.json",
    );
    expect(p.unsupportedMask >>> 0).toBe(0xe1fd0000);
    expect(p.vecapsChecks.some((c) => c.label === "rdrand")).toBe(false);
    expect(p.sse42LabelBug).toBe(false);
  });

  test("errors name the file, the field and what was expected", () => {
    const bad = (body: string, pattern: RegExp): void => {
      const path = file("bad.yaml", body);
      expect(() => loadProfileFile(path)).toThrow(pattern);
    };
    bad("id: x\n", /bad\.yaml: field "extends": expected the id of a built-in generation/);
    bad("extends: 042stab109\n", /bad\.yaml: field "id": expected a non-empty string/);
    bad(
      "extends: 042stab109\nid: x\ncptTestCaps: maybe\n",
      /field "cptTestCaps": expected one of "check", "ENOSYS", "EAGAIN", got "maybe"/,
    );
    bad(
      "extends: 042stab109\nid: x\ncurrentVersion: 70000\n",
      /field "currentVersion": expected an image version/,
    );
    bad(
      "extends: 042stab109\nid: x\ncolour: red\n",
      /field "colour": expected one of the known fields/,
    );
    bad(
      "extends: 041stab001\nid: x\n",
      /field "extends": expected the id of a known profile .*, got "041stab001"/,
    );
    bad("extends: 042stab109\nid: 042stab093\n", /field "id": expected a new id/);
    bad(
      "extends: 028stab056\nid: x\nhasRdrand: true\n",
      /field "hasRdrand": expected no value: only 042stab/,
    );
    bad(
      "extends: 042stab109\nid: x\nknowsTestVersion: true\ncurrentVersion: null\n",
      /field "currentVersion"/,
    );
    bad("- a\n- b\n", /bad\.yaml: expected a mapping/);
    bad("extends: [\n", /bad\.yaml: not valid YAML/);
    expect(() => loadProfileFile(join(dir, "missing.yaml"))).toThrow(
      /missing\.yaml: cannot read profile file \(ENOENT\)/,
    );
  });

  test("unknown kernel or CPU on a node: one clear error", () => {
    expect(() =>
      buildNode(makeNodeSpec({ name: "n1", kernel: "zzz", cpu: "intel-ivybridge-e5-2650v2" })),
    ).toThrow(/^node n1: unknown kernel "zzz" \(known: 028stab056, /);
    expect(() => buildNode(makeNodeSpec({ name: "n2", kernel: "042stab109", cpu: "zzz" }))).toThrow(
      /^node n2: unknown CPU "zzz"/,
    );
  });
});
