// Fuzzing the real executable's argv: empty strings, huge numbers, unicode,
// control bytes, thousands of arguments. Whatever comes in, dist/vzcptcheck
// exits 0, 1 or 2 within a second, never shows a stack trace, and prints on
// stdout only the usage or one decimal number; under the interposer its
// answer is also the oracle's.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout } from "bun:test";
import fc from "fast-check";
import { cpuWords } from "../sim/cpu/catalog.ts";
import * as A from "./arbitraries.ts";
import { compareRun, oracleNodeFlags, oracleRun, SPEC_USAGE } from "./oracle.ts";
import {
  ORACLE_ENV,
  prop,
  runExe,
  runOnNode,
  SPAWN_RUNS,
  STACK_TRACE,
  scratch,
  timeoutFor,
  VZCPTCHECK,
} from "./properties/harness.ts";

const FILE = import.meta.path;
const tmp = scratch("argv");
afterAll(() => tmp.cleanup());
// One unmeasured run first: a cold page cache must not count against the 1 s limit.
beforeAll(async () => void (await runExe(VZCPTCHECK, ["help"])));
setDefaultTimeout(timeoutFor(SPAWN_RUNS(), 300));

const NUMBER_LINE = /^[1-9][0-9]*\n$/;

function sane(r: Awaited<ReturnType<typeof runExe>>): void {
  expect(r.signal).toBeNull();
  expect([0, 1, 2]).toContain(r.exit);
  expect(r.ms).toBeLessThan(1000);
  expect(r.stderr).not.toMatch(STACK_TRACE);
  expect(r.stdout === "" || r.stdout === SPEC_USAGE || NUMBER_LINE.test(r.stdout)).toBe(true);
}

describe("fuzzed argv against dist/vzcptcheck", () => {
  prop(
    FILE,
    "any argv, under the interposer: sane, and the oracle's answer",
    () =>
      fc.asyncProperty(A.node(), A.argv(), async (spec, args) => {
        const r = await runOnNode(tmp.dir, spec, VZCPTCHECK, args);
        sane(r);
        expect(compareRun(oracleRun(spec, args, ORACLE_ENV), r)).toBeNull();
      }),
    { numRuns: SPAWN_RUNS() },
  );

  prop(
    FILE,
    "kernel-mode argv with numbers that reach the model: the oracle's answer",
    () =>
      fc.asyncProperty(
        A.nodeWithArgv((n) => oracleNodeFlags(n, cpuWords)),
        async ([spec, args]) => {
          const r = await runOnNode(tmp.dir, spec, VZCPTCHECK, args);
          sane(r);
          expect(compareRun(oracleRun(spec, args, ORACLE_ENV), r)).toBeNull();
        },
      ),
    { numRuns: SPAWN_RUNS() },
  );

  prop(
    FILE,
    "any argv without the interposer (the machine's real /proc): sane",
    () =>
      fc.asyncProperty(A.argv(), async (args) => {
        sane(await runExe(VZCPTCHECK, args));
      }),
    { numRuns: SPAWN_RUNS() },
  );
});
