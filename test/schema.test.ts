// Node and fleet files: defaults, round trips, and one-line errors that name
// the file, the field path and what was expected.

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import YAML from "yaml";
import { loadProfiles } from "../sim/commands/load.ts";
import { documentYaml, generateDocument } from "../sim/fleet/generate.ts";
import { NodeModel } from "../sim/node.ts";
import {
  defaultCheckpointable,
  fleetFromText,
  HOST_PID_BASE,
  loadFleetFile,
  loadNodeFile,
  loadNodeRef,
  nodeFromText,
  SchemaError,
} from "../sim/schema.ts";
import type { FleetSpec, NodeSpec } from "../sim/types.ts";
import { fleet as fleetArb } from "./arbitraries.ts";
import { DEMO_FLEET, MIXED_FLEET, ROOT, tempDir } from "./sim-support.ts";

const { ctx } = loadProfiles([]);

/** The one-line message a bad fleet text gets. */
function fleetError(text: string, file = "f.yaml"): string {
  try {
    fleetFromText(text, file, ctx);
  } catch (e) {
    expect(e).toBeInstanceOf(SchemaError);
    const message = (e as Error).message;
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error("expected the file to be refused");
}

const NODE = "name: a\n    kernel: 042stab109\n    cpu: intel-westmere-x5670";
/** A fleet whose first node has `extra` YAML lines appended (4-space indent). */
const withNode = (extra: string): string => `name: t\nnodes:\n  - ${NODE}\n${extra}`;

describe("defaults", () => {
  test("a minimal fleet gets every default", () => {
    const f = fleetFromText(
      withNode(
        "    containers:\n      - id: 7\n        tasks: [{}, {comm: x}]\n        netdevs: [{name: tun0}, {name: venet0}]\n",
      ),
      "f.yaml",
      ctx,
    );
    expect(f).toEqual({
      name: "t",
      nodes: [
        {
          name: "a",
          kernel: "042stab109",
          cpu: "intel-westmere-x5670",
          arch64: true,
          ipv6: true,
          slmWithoutDmprst: false,
          modules: { cpt: true, rst: true },
          containers: [
            {
              id: 7,
              state: "running",
              mounts: [],
              netdevs: [
                { name: "tun0", checkpointable: false },
                { name: "venet0", checkpointable: true },
              ],
              tasks: [1, 2].map((pid) => ({
                pid,
                comm: pid === 1 ? "task" : "x",
                kernelThread: false,
                usedFpu: false,
                abi: 64,
                vdso: true,
                policy: "other",
                ptracedFromHost: false,
                external: false,
                hostPid: HOST_PID_BASE + pid,
                ownMountNamespace: false,
                unsupportedUse: [],
              })),
            },
          ],
        },
      ],
    });
  });

  test("a node file's name defaults to the file name", () => {
    const n = nodeFromText(
      "kernel: 042stab061\ncpu: amd-epyc-7601\n",
      "/some/dir/edge-7.yaml",
      ctx,
    );
    expect(n.name).toBe("edge-7");
    expect(n.containers).toEqual([]);
  });

  test("JSON files, and CPUID words as numbers or hex strings", () => {
    const n = nodeFromText(
      JSON.stringify({
        name: "raw",
        kernel: "042stab093",
        cpu: {
          vendor: "GenuineIntel",
          family: 6,
          model: 44,
          leaf1Ecx: "0x029ee3ff",
          leaf1Edx: 3219913727,
          ext1Edx: 0x2c100800, // lm: a 64-bit kernel
        },
        cpuidMask: { leaf1Ecx: "0xbfffffff" },
      }),
      "raw.json",
      ctx,
    );
    expect(n.cpu).toEqual({
      vendor: "GenuineIntel",
      family: 6,
      model: 44,
      leaf1Ecx: 0x029ee3ff,
      leaf1Edx: 3219913727,
      leaf7Ebx: 0,
      leaf7Ecx: 0,
      leaf7Edx: 0,
      ext1Ecx: 0,
      ext1Edx: 0x2c100800,
    });
    expect(n.cpuidMask).toEqual({ leaf1Ecx: 0xbfffffff });
  });

  test("the sample fleets and node file load and build", () => {
    for (const file of [DEMO_FLEET, MIXED_FLEET]) {
      const f = loadFleetFile(file, ctx);
      for (const n of f.nodes) expect(new NodeModel(n).name).toBe(n.name);
    }
    const n = loadNodeFile(join(ROOT, "sim/fleets/node-ivybridge.yaml"), ctx);
    expect(n.name).toBe("node-ivybridge");
    expect(new NodeModel(n).flags).toBe(771913119);
    // FLEET:NODE picks one node of a fleet file.
    expect(loadNodeRef(`${DEMO_FLEET}:westmere-b`, ctx).cpu).toBe("intel-westmere-x5670");
  });

  test("default checkpointable devices", () => {
    expect(["lo", "venet0", "veth101.0", "eth0"].map(defaultCheckpointable)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(["tun0", "tap1", "macvlan0", "ppp0", "ethernet"].map(defaultCheckpointable)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe("round trips (property)", () => {
  test("any fleet written as YAML or JSON loads back unchanged", () => {
    fc.assert(
      fc.property(fleetArb(), fc.boolean(), (f: FleetSpec, json) => {
        const text = json ? JSON.stringify(f) : YAML.stringify(f);
        expect(fleetFromText(text, json ? "f.json" : "f.yaml", ctx)).toEqual(f);
      }),
      { numRuns: 50 },
    );
  });

  test("leaving out every field that has its default value changes nothing", () => {
    fc.assert(
      fc.property(fleetArb(), (f: FleetSpec) => {
        expect(fleetFromText(YAML.stringify(stripDefaults(f)), "f.yaml", ctx)).toEqual(f);
      }),
      { numRuns: 50 },
    );
  });

  test("a wrong value anywhere is reported at its exact path", () => {
    const fields = ["usedFpu", "abi", "policy", "vdso", "pid"] as const;
    fc.assert(
      fc.property(
        fleetArb({}, 3).filter((f) =>
          f.nodes.some((n) => n.containers.some((c) => c.tasks.length > 0)),
        ),
        fc.nat(),
        fc.constantFrom(...fields),
        (f: FleetSpec, pick, field) => {
          const places: [number, number, number][] = [];
          f.nodes.forEach((n, i) => {
            n.containers.forEach((c, j) => {
              c.tasks.forEach((_, k) => {
                places.push([i, j, k]);
              });
            });
          });
          const [i, j, k] = places[pick % places.length] as [number, number, number];
          const raw = JSON.parse(JSON.stringify(f));
          raw.nodes[i].containers[j].tasks[k][field] = "wrong";
          const message = fleetError(YAML.stringify(raw));
          expect(message).toStartWith(
            `f.yaml: nodes[${i}].containers[${j}].tasks[${k}].${field}: expected `,
          );
          expect(message).toEndWith(', got "wrong"');
        },
      ),
      { numRuns: 50 },
    );
  });
});

/** A spec with every field that equals its default removed. */
function stripDefaults(f: FleetSpec): unknown {
  const node = (n: NodeSpec) => {
    const o: Record<string, unknown> = { name: n.name, kernel: n.kernel, cpu: n.cpu };
    if (n.cpuidMask) o.cpuidMask = n.cpuidMask;
    if (!n.arch64) o.arch64 = false;
    if (!n.ipv6) o.ipv6 = false;
    if (n.slmWithoutDmprst) o.slmWithoutDmprst = true;
    if (!n.modules.cpt || !n.modules.rst) o.modules = n.modules;
    if (n.containers.length > 0) {
      o.containers = n.containers.map((c) => {
        const co: Record<string, unknown> = { id: c.id };
        if (c.state !== "running") co.state = c.state;
        if (c.mounts.length > 0) co.mounts = c.mounts;
        if (c.netdevs.length > 0) {
          co.netdevs = c.netdevs.map((d) =>
            d.checkpointable === defaultCheckpointable(d.name) ? { name: d.name } : d,
          );
        }
        if (c.tasks.length > 0) {
          co.tasks = c.tasks.map((t, idx) => {
            const to: Record<string, unknown> = {};
            if (t.pid !== idx + 1) to.pid = t.pid;
            if (t.comm !== "task") to.comm = t.comm;
            for (const b of [
              "kernelThread",
              "usedFpu",
              "ptracedFromHost",
              "external",
              "ownMountNamespace",
            ] as const) {
              if (t[b]) to[b] = true;
            }
            if (t.abi !== 64) to.abi = t.abi;
            if (!t.vdso) to.vdso = false;
            if (t.policy !== "other") to.policy = t.policy;
            if (t.hostPid !== HOST_PID_BASE + t.pid) to.hostPid = t.hostPid;
            if (t.unsupportedUse.length > 0) to.unsupportedUse = t.unsupportedUse;
            return to;
          });
        }
        return co;
      });
    }
    return o;
  };
  return { name: f.name, nodes: f.nodes.map(node) };
}

describe("one-line errors naming file, field and expectation", () => {
  test("a value outside a fixed set", () => {
    const text = withNode(
      "    containers:\n      - id: 1\n        tasks: [{comm: a}, {comm: b, policy: realtime}]\n",
    );
    expect(fleetError(text)).toBe(
      'f.yaml: nodes[0].containers[0].tasks[1].policy: expected one of other, batch, idle, fifo, rr, got "realtime"',
    );
  });

  test("an unknown field (a typo) is an error, not a default", () => {
    const text = withNode("    containers:\n      - id: 1\n        tasks: [{usedFPU: true}]\n");
    expect(fleetError(text)).toBe(
      "f.yaml: nodes[0].containers[0].tasks[0].usedFPU: expected no such field (known: pid, comm, kernelThread, " +
        "usedFpu, abi, vdso, policy, ptracedFromHost, external, hostPid, ownMountNamespace, unsupportedUse)",
    );
    expect(fleetError(withNode("    ipv4: true\n"))).toStartWith(
      "f.yaml: nodes[0].ipv4: expected no such field (known: name, kernel,",
    );
    expect(fleetError("name: t\nnode: []\n")).toStartWith(
      "f.yaml: node: expected no such field (known: name, nodes)",
    );
  });

  test("a missing required field", () => {
    expect(fleetError("name: t\nnodes:\n  - name: a\n    cpu: intel-westmere-x5670\n")).toBe(
      "f.yaml: nodes[0].kernel: expected a value (required)",
    );
    expect(fleetError(withNode("    containers: [{state: running}]\n"))).toBe(
      "f.yaml: nodes[0].containers[0].id: expected a value (required)",
    );
    expect(fleetError(withNode("    containers: [{id: 1, mounts: [{fs: ext4}]}]\n"))).toBe(
      "f.yaml: nodes[0].containers[0].mounts[0].target: expected a value (required)",
    );
  });

  test("wrong types", () => {
    expect(fleetError(withNode("    ipv6: yes please\n"))).toBe(
      'f.yaml: nodes[0].ipv6: expected true or false, got "yes please"',
    );
    expect(fleetError(withNode("    containers: {id: 1}\n"))).toBe(
      "f.yaml: nodes[0].containers: expected a list, got a mapping",
    );
    expect(fleetError(withNode("    containers: [{id: -3}]\n"))).toBe(
      "f.yaml: nodes[0].containers[0].id: expected an integer from 1 to 4294967295, got -3",
    );
    expect(fleetError(withNode("    containers: [{id: 1, tasks: [{abi: 16}]}]\n"))).toBe(
      "f.yaml: nodes[0].containers[0].tasks[0].abi: expected one of 64, 32, got 16",
    );
    expect(fleetError(withNode("    modules: {cpt: 1}\n"))).toBe(
      "f.yaml: nodes[0].modules.cpt: expected true or false, got 1",
    );
    expect(fleetError(withNode("    cpuidMask: {leaf1Ecx: 0x1ffffffff}\n"))).toBe(
      'f.yaml: nodes[0].cpuidMask.leaf1Ecx: expected a 32-bit word (0 to 4294967295, or hex like "0x1fbfbff"), got 8589934591',
    );
    expect(fleetError("- a\n- b\n")).toBe("f.yaml: expected a mapping, got a list");
  });

  test("unknown kernel and CPU ids list what is known", () => {
    const kernel = fleetError(
      "name: t\nnodes:\n  - {name: a, kernel: 042stab999, cpu: intel-westmere-x5670}\n",
    );
    expect(kernel).toBe(
      "f.yaml: nodes[0].kernel: expected a kernel generation or profile id (known: 028stab056, 2.6.32-pre, " +
        '042stab061, 042stab088, 042stab092, 042stab093, 042stab101, 042stab108, 042stab109), got "042stab999"',
    );
    const cpu = fleetError(
      "name: t\nnodes:\n  - {name: a, kernel: 042stab109, cpu: intel-westmere-e5645}\n",
    );
    expect(cpu).toStartWith("f.yaml: nodes[0].cpu: expected a CPU catalog id (known: ");
    expect(cpu).toContain("intel-westmere-x5670");
    expect(cpu).toEndWith('in all), got "intel-westmere-e5645"');
    expect(
      fleetError("name: t\nnodes:\n  - {name: a, kernel: 042stab109, cpu: {family: 6}}\n"),
    ).toBe("f.yaml: nodes[0].cpu.vendor: expected a value (required)");
  });

  test("duplicates", () => {
    expect(fleetError(`name: t\nnodes:\n  - ${NODE}\n  - ${NODE}\n`)).toBe(
      'f.yaml: nodes[1].name: expected a name not used by another node, got "a"',
    );
    expect(fleetError(withNode("    containers: [{id: 5}, {id: 6}, {id: 5}]\n"))).toBe(
      "f.yaml: nodes[0].containers[2].id: expected an id not used by another container, got 5",
    );
    expect(fleetError(withNode("    containers: [{id: 5, tasks: [{pid: 2}, {}]}]\n"))).toBe(
      "f.yaml: nodes[0].containers[0].tasks[1].pid: expected a pid not used by another task, got 2",
    );
    expect(fleetError("name: t\nnodes: []\n")).toBe(
      "f.yaml: nodes: expected at least one node, got a list",
    );
  });

  test("syntax errors and unreadable files", () => {
    expect(fleetError("name: t\nname: u\n")).toBe(
      "f.yaml: not valid YAML: Map keys must be unique at line 2, column 1",
    );
    expect(fleetError('{"name": "t",', "f.json")).toStartWith("f.json: not valid JSON: ");
    expect(() => loadFleetFile("/nonexistent/fleet.yaml", ctx)).toThrow(
      "/nonexistent/fleet.yaml: cannot read: no such file",
    );
    expect(() => loadFleetFile("/tmp", ctx)).toThrow("/tmp: cannot read: is a directory");
  });

  test("a fleet file where a node was expected, and an unknown node name", () => {
    expect(() => loadNodeFile(DEMO_FLEET, ctx)).toThrow(
      `${DEMO_FLEET}: this is a fleet file (it has nodes:), not a node file; name one of its nodes as FLEET_FILE:NODE_NAME, e.g. ${DEMO_FLEET}:ivybridge-a (nodes: ivybridge-a, westmere-b, haswell-c)`,
    );
    expect(() => loadNodeRef(`${DEMO_FLEET}:sparc-1`, ctx)).toThrow(
      `${DEMO_FLEET}: no node named "sparc-1" (nodes: ivybridge-a, westmere-b, haswell-c)`,
    );
  });

  test("a node file (or a profile record) where a fleet was expected says so", () => {
    const notFleet = "not a fleet file; a fleet file has name: and nodes: (a list of nodes)";
    expect(fleetError("kernel: 042stab109\ncpu: intel-westmere-x5670\n", "w.yaml")).toBe(
      `w.yaml: this is a node file (it has kernel:/cpu:, no nodes:), ${notFleet}`,
    );
    expect(fleetError("name: n1\ncpu: intel-westmere-x5670\n", "w.yaml")).toBe(
      `w.yaml: this is a node file (it has kernel:/cpu:, no nodes:), ${notFleet}`,
    );
    expect(fleetError('{"kind": "vzcptcheck-profile", "schemaVersion": 1}', "p.json")).toBe(
      `p.json: this is a vzcptcheck profile record (one node), ${notFleet}`,
    );
    // FLEET_FILE:NODE_NAME whose file is a node file.
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, "w.yaml");
      writeFileSync(file, "kernel: 042stab109\ncpu: intel-westmere-x5670\n");
      expect(() => loadNodeRef(`${file}:a`, ctx)).toThrow(
        `${file}: this is a node file (it has kernel:/cpu:, no nodes:), ${notFleet}`,
      );
      expect(loadNodeRef(file, ctx).name).toBe("w");
    } finally {
      remove();
    }
    // Anything else keeps the field-level message.
    expect(fleetError("name: t\nnode: []\n")).toStartWith("f.yaml: node: expected no such field");
  });

  test("arch64 on a CPU without long mode: one line naming the field", () => {
    const fix = "the CPU has no long mode (lm); set arch64: false";
    const p4 = "name: t\nnodes:\n  - {name: a, kernel: 042stab109, cpu: intel-northwood-p4";
    expect(fleetError(`${p4}}\n`)).toBe(`f.yaml: nodes[0].arch64: ${fix}`);
    expect(fleetError(`${p4}, arch64: true}\n`)).toBe(`f.yaml: nodes[0].arch64: ${fix}`);
    expect(fleetFromText(`${p4}, arch64: false}\n`, "f.yaml", ctx).nodes[0]?.arch64).toBe(false);
    // Raw words: lm is ext1Edx bit 29; a cpuidMask hiding it does not make the CPU 32-bit.
    const raw = (ext1Edx: string, extra = "") =>
      `name: t\nnodes:\n  - {name: a, kernel: 042stab109, cpu: {vendor: GenuineIntel, ext1Edx: "${ext1Edx}"}${extra}}\n`;
    expect(fleetError(raw("0x00100000"))).toBe(
      "f.yaml: nodes[0].arch64: the CPU has no long mode (lm: nodes[0].cpu.ext1Edx bit 29); set arch64: false",
    );
    expect(fleetFromText(raw("0x20100000"), "f.yaml", ctx).nodes[0]?.arch64).toBe(true);
    expect(
      fleetFromText(raw("0x20100000", ", cpuidMask: {ext1Edx: 0}"), "f.yaml", ctx).nodes[0]?.arch64,
    ).toBe(true);
    expect(() =>
      nodeFromText("kernel: 042stab109\ncpu: intel-northwood-p4\n", "p4.yaml", ctx),
    ).toThrow(new SchemaError(`p4.yaml: arch64: ${fix}`));
  });

  test("errors in a node file name the node file", () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, "n.yaml");
      writeFileSync(
        file,
        "kernel: 042stab109\ncpu: amd-epyc-7601\ncontainers: [{id: 1, state: paused}]\n",
      );
      expect(() => loadNodeFile(file, ctx)).toThrow(
        `${file}: containers[0].state: expected one of running, stopped, locked, got "paused"`,
      );
    } finally {
      remove();
    }
  });
});

describe("large YAML fleets (Bun's built-in parser above 1 MiB)", () => {
  const doc = generateDocument({ nodes: 1300, containers: 10, seed: 7 });
  const yaml = documentYaml(doc);

  test("a large YAML fleet loads as the same fleet as its JSON form", () => {
    expect(yaml.length).toBeGreaterThan(1 << 20);
    const fromYaml = fleetFromText(yaml, "big.yaml", ctx);
    const fromJson = fleetFromText(JSON.stringify(doc), "big.json", ctx);
    expect(fromYaml.nodes.length).toBe(1300);
    expect(fromYaml).toEqual(fromJson);
  });

  test("a syntax error in a large file still gets the yaml package's precise message", () => {
    const broken = `${yaml}\n  - [unclosed\n`;
    expect(fleetError(broken, "big.yaml")).toMatch(/^big\.yaml: not valid YAML: .*line \d+/);
  }, 20_000);
});
