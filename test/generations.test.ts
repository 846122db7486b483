import { describe, expect, test } from "bun:test";
import { generationFromRelease } from "../src/cpt/generations.ts";

describe("kernel release -> OpenVZ generation", () => {
  const table: [string, string | null][] = [
    ["2.6.32-042stab061.9", "042stab061"],
    ["2.6.32-042stab061.2", "042stab061"], // older than we model: the oldest RHEL6 entry
    ["2.6.32-042stab088.3", "042stab061"],
    ["2.6.32-042stab088.4", "042stab088"],
    ["2.6.32-042stab090.5", "042stab088"],
    ["2.6.32-042stab092.1", "042stab092"],
    ["2.6.32-042stab093.4", "042stab092"],
    ["2.6.32-042stab093.5", "042stab093"],
    ["2.6.32-042stab101.4", "042stab093"],
    ["2.6.32-042stab101.5", "042stab101"],
    ["2.6.32-042stab107.100", "042stab101"], // a minor of 100 is not build 108
    ["2.6.32-042stab108.1", "042stab108"],
    ["2.6.32-042stab108.8", "042stab108"],
    ["2.6.32-042stab109.2", "042stab108"],
    ["2.6.32-042stab109.3", "042stab109"],
    ["2.6.32-042stab113.11", "042stab109"],
    ["2.6.32-042stab141.3", "042stab109"],
    ["2.6.18-028stab056.1", "028stab056"],
    ["2.6.18-194.26.1.el5.028stab079.2", "028stab056"], // RHEL5-based OpenVZ
    ["2.6.18-092.1.18.el5.028stab070.14", "028stab056"],
    ["2.6.32-feoktistov.1", "2.6.32-pre"],
    ["2.6.18-419.el5", null], // plain RHEL5
    ["2.6.32-754.35.1.el6.x86_64", null], // plain RHEL6
    ["3.10.0-1160.el7.x86_64", null],
    ["6.18.44-fc-v669", null],
    ["", null],
  ];
  for (const [release, id] of table) {
    test(`${JSON.stringify(release)} -> ${id}`, () => {
      expect(generationFromRelease(release)?.id ?? null).toBe(id);
    });
  }
});
