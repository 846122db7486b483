import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type Command, parseArgs } from "../src/grammar.ts";

const usageOk: Command = { kind: "usage", stream: "stdout", exit: 0 };
const usageErr: Command = { kind: "usage", stream: "stderr", exit: 1 };

describe("argv grammar", () => {
  const table: [string[], Command][] = [
    [[], usageOk],
    [["help"], usageOk],
    [["help", "me", "please"], usageOk],
    [[""], usageErr],
    [["-h"], usageErr],
    [["--help"], usageErr],
    [["HELP"], usageErr],
    [["Version"], usageErr],
    [["versions"], usageErr],
    [["cap"], usageErr],
    [["version"], { kind: "version-show" }],
    [["version", "2051"], { kind: "version-test", version: 2051 }],
    [["version", "0x803"], { kind: "version-test", version: 0 }],
    [["version", ""], { kind: "version-test", version: 0 }],
    [["version", "1", "2"], usageErr],
    [["caps"], { kind: "caps-show" }],
    [["caps", "771913119"], { kind: "caps-test", caps: 771913119 }],
    [["caps", "101", "771913119"], { kind: "caps-test-ve", veid: 101, caps: 771913119 }],
    [["caps", "", "5"], { kind: "caps-test-ve", veid: 0, caps: 5 }],
    [["caps", "1", "2", "3"], usageErr],
    [["caps", "4294967295"], { kind: "caps-test", caps: -1 }],
  ];
  for (const [argv, expected] of table) {
    test(`${JSON.stringify(argv)}`, () => {
      expect(parseArgs(argv)).toEqual(expected);
    });
  }

  test("any first word other than help/version/caps is a usage error", () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !["help", "version", "caps", "explain", "profile"].includes(s)),
        fc.array(fc.string(), { maxLength: 5 }),
        (first, rest) => {
          expect(parseArgs([first, ...rest])).toEqual(usageErr);
        },
      ),
    );
  });

  test("too many arguments never reach a kernel mode", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("version", "caps"),
        fc.array(fc.string(), { minLength: 3, maxLength: 50 }),
        (mode, rest) => {
          expect(parseArgs([mode, ...rest])).toEqual(usageErr);
        },
      ),
    );
  });
});
