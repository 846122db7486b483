// `vzcptcheck profile` text (src/profile-cli.ts) on simulated machines
// (test/sim-machine.ts): the lines that only an OpenVZ kernel, a CPUID mask or
// a machine without CPUID produce, each matching the record's JSON.

import { describe, expect, test } from "bun:test";
import { collectProfile, type ProfileHost } from "../src/profile.ts";
import { runProfile } from "../src/profile-cli.ts";
import { capture } from "./in-process.ts";
import { type Machine, machineHost } from "./sim-machine.ts";

/** `vzcptcheck profile` text on `host`, as lines keyed by their label. */
function profileText(host: ProfileHost): {
  code: number;
  text: string;
  line(label: string): string;
} {
  const out = capture();
  const code = runProfile([], host, out);
  expect(out.stderrText()).toBe("");
  const text = out.stdoutText();
  return {
    code,
    text,
    line: (label) => text.split("\n").find((l) => l.startsWith(`${label.padEnd(16)}`)) ?? "",
  };
}

const IVY: Machine = { release: "2.6.32-042stab113.11", cpu: "intel-ivybridge-e5-2650v2" };

describe("profile text", () => {
  test("an OpenVZ node whose kernel reports what CPUID predicts", () => {
    const host = machineHost(IVY);
    const r = profileText(host);
    const rec = collectProfile(host);
    expect(r.code).toBe(0);
    expect(r.line("OpenVZ")).toBe("OpenVZ          042stab109 (042stab109.3 and later (to 141.3))");
    expect(r.line("CPT version")).toBe("CPT version     2051 (0x803)");
    expect(r.line("CPT caps")).toBe(
      `CPT caps        ${rec.cpt.caps.value} (${rec.flags.reported?.hex})`,
    );
    expect(r.line("Flags reported")).toBe(
      `Flags reported  ${rec.flags.reported?.hex} (${rec.flags.reported?.value})`,
    );
    expect(r.line("Difference")).toBe("Difference      none");
    expect(r.text).not.toContain("Not known on this machine");
  });

  test("a CPUID mask: the bits only CPUID predicts are named", () => {
    const host = machineHost({
      ...IVY,
      node: { cpuidMask: { leaf1Ecx: ~((1 << 28) | (1 << 26)) >>> 0 } },
    });
    const r = profileText(host);
    expect(r.line("Difference")).toBe(
      "Difference      predicted only: xsave avx; reported only: none",
    );
    expect(r.line("Note")).toContain("probably hidden by its CPUID mask");
  });

  test("no CPUID: the CPU and the prediction unknown, and why", () => {
    const r = profileText(machineHost({ ...IVY, cpu: null }));
    expect(r.line("CPU")).toBe("CPU             unknown: no CPUID on this machine");
    expect(r.line("Flags predicted")).toBe("Flags predicted unknown: no CPUID");
    expect(r.text).toContain("\nNot known on this machine:\n  - CPU: no CPUID on this machine\n");
  });

  test("a release not recognised while CPT answers: only the generation is listed as unknown", () => {
    // What dist/vzcptcheck under libvzcptsim.so sees: this machine's uname, a node's kernel.
    const host = machineHost({
      release: "6.1.0-18-amd64",
      cpu: "intel-ivybridge-e5-2650v2",
      node: { modules: { cpt: true, rst: true } },
    });
    const rec = collectProfile(host);
    const r = profileText(host);
    expect(r.line("CPT version")).toBe("CPT version     2051 (0x803)");
    expect(r.line("CPT caps")).toBe(
      `CPT caps        ${rec.cpt.caps.value} (${rec.flags.reported?.hex})`,
    );
    expect(r.line("OpenVZ")).toBe(
      "OpenVZ          unrecognised release, but CPT answers (flags below are predicted for 042stab109, the newest generation)",
    );
    expect(rec.unknown).toEqual([
      "OpenVZ generation: kernel 6.1.0-18-amd64 is not a release of a known OpenVZ generation (flags predicted for 042stab109, the newest)",
    ]);
    expect(r.text).toEndWith(
      "\nNot known on this machine:\n  - OpenVZ generation: kernel 6.1.0-18-amd64 is not a release of a known OpenVZ generation (flags predicted for 042stab109, the newest)\n",
    );
  });

  test("a release not recognised and no CPT devices: not OpenVZ, and both answers unknown", () => {
    const host = machineHost({ release: "6.1.0-18-amd64", cpu: "intel-ivybridge-e5-2650v2" });
    const r = profileText(host);
    expect(r.line("OpenVZ")).toBe(
      "OpenVZ          not OpenVZ (flags below are predicted for 042stab109, the newest generation)",
    );
    expect(collectProfile(host).unknown).toEqual([
      "OpenVZ generation: kernel 6.1.0-18-amd64 is not a release of a known OpenVZ generation (flags predicted for 042stab109, the newest)",
      "CPT version: Can't open /proc/cpt: No such file or directory",
      "CPT flags reported by the kernel: Can't open /proc/rst: No such file or directory",
      "SLM without slm_dmprst: only the kernel's flags show it (assumed off)",
    ]);
  });

  test("a machine that cannot be asked at all: one line, exit 1", () => {
    const host: ProfileHost = {
      ...machineHost(IVY),
      hostname: () => {
        throw new Error("gethostname failed");
      },
    };
    const out = capture();
    expect(runProfile([], host, out)).toBe(1);
    expect(out.stdoutText()).toBe("");
    expect(out.stderrText()).toBe("vzcptcheck profile: gethostname failed\n");
  });
});
