// `vzcptsim migrate-check` (sim/commands/migrate-check.ts) plays vzmigrate's
// check on two simulated nodes; the oracle says independently what that check
// must conclude. Run in process (the command's own code path, full runs) and,
// for a sample, with the real dist/vzcptcheck under the interposer
// (--via-preload).

import { afterAll, describe, expect, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import type { Cli } from "../../sim/commands/common.ts";
import { migrateCheck } from "../../sim/commands/migrate-check.ts";
import { collectingOutput } from "../../sim/device.ts";
import type { NodeSpec } from "../../sim/types.ts";
import * as A from "../arbitraries.ts";
import { compareRun, oracleMigration } from "../oracle.ts";
import {
  ORACLE_ENV,
  PRELOAD,
  prop,
  runs,
  SPAWN_RUNS,
  scratch,
  timeoutFor,
  VZCPTCHECK,
} from "./harness.ts";

const FILE = import.meta.path;
const tmp = scratch("migrate");
afterAll(() => tmp.cleanup());
setDefaultTimeout(timeoutFor(runs(2), 300));

interface JsonStep {
  readonly argv: string[];
  readonly skipped?: string;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exit?: number;
}

let serial = 0;

/** Run the command in process on a two-node fleet; returns its exit and JSON report. */
async function migrateCheckRun(src: NodeSpec, dst: NodeSpec, ctid: number, extra: string[]) {
  const file = join(tmp.dir, `fleet${serial++}.json`);
  writeFileSync(file, JSON.stringify({ name: "pair", nodes: [src, dst] }));
  const out = collectingOutput();
  const cli: Cli = {
    out,
    env: { preloadPath: () => PRELOAD, demoFleetText: "", siblingVzcptcheck: VZCPTCHECK },
  };
  const exit = await migrateCheck.run(
    [file, String(ctid), src.name, dst.name, "--json", ...extra],
    cli,
  );
  const stderr = new TextDecoder().decode(out.stderrBytes());
  expect(stderr).toBe("");
  const report = JSON.parse(out.stdoutText()) as { verdict: string; steps: JsonStep[] };
  return { exit, report };
}

const scenario = () =>
  fc
    .tuple(A.nodePair(), fc.boolean(), fc.nat())
    .filter(([[src, dst]]) => src.name !== dst.name && src.containers.length > 0);

async function agree(
  [[src, dst], suspended, pick]: [[NodeSpec, NodeSpec], boolean, number],
  extra: string[],
) {
  const ct = src.containers[pick % src.containers.length] as NodeSpec["containers"][number];
  // [decision of sim/commands/migrate-check.ts] a stopped container is checked as a suspended one.
  const id = suspended || ct.state === "stopped" ? null : ct.id;
  const want = oracleMigration(src, id, dst, ORACLE_ENV);
  const { exit, report } = await migrateCheckRun(
    src,
    dst,
    ct.id,
    suspended ? ["--suspended", ...extra] : extra,
  );
  expect(exit).toBe(want.go ? 0 : 2);
  expect(report.verdict).toBe(want.go ? "GO" : "NO-GO");
  // Steps in order; the command stops at the first abort, vzmigrate too.
  want.calls.forEach((w, i) => {
    const got = report.steps[i];
    if (got === undefined) {
      // Only calls after an abort may be missing.
      expect(want.calls.slice(0, i).some((c) => c.ran && c.exit !== 0)).toBe(true);
      return;
    }
    expect({ i, ran: got.skipped === undefined }).toEqual({ i, ran: w.ran });
    if (w.ran) {
      expect(got.argv).toEqual(["vzcptcheck", ...w.argv]);
      const diff = compareRun(w, {
        exit: got.exit ?? -1,
        stdout: got.stdout ?? "",
        stderr: got.stderr ?? "",
      });
      expect({ step: got.argv.join(" "), diff }).toEqual({ step: got.argv.join(" "), diff: null });
    }
  });
}

describe("vzcptsim migrate-check against the oracle", () => {
  prop(
    FILE,
    "in process: the same steps, outputs and go/no-go as the oracle",
    () => fc.asyncProperty(scenario(), (s) => agree(s, [])),
    { numRuns: runs(2) },
  );

  prop(
    FILE,
    "--via-preload (the real vzcptcheck): the same as the oracle",
    () => fc.asyncProperty(scenario(), (s) => agree(s, ["--via-preload"])),
    { numRuns: Math.round(SPAWN_RUNS() / 3) },
  );
});
