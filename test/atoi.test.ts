import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { atoi } from "../src/atoi.ts";

// An independent reference: glibc strtol as a state machine over BigInt,
// written from the C standard's description rather than from src/atoi.ts.
function referenceAtoi(s: string): number {
  const chars = [...s];
  let i = 0;
  while (i < chars.length && " \t\n\v\f\r".includes(chars[i] as string)) i++;
  let sign = 1n;
  if (chars[i] === "+" || chars[i] === "-") {
    if (chars[i] === "-") sign = -1n;
    i++;
  }
  let value = 0n;
  let any = false;
  const max = 2n ** 63n - 1n;
  const min = -(2n ** 63n);
  let clamped: bigint | null = null;
  for (; i < chars.length && /^[0-9]$/.test(chars[i] as string); i++) {
    any = true;
    if (clamped !== null) continue;
    value = value * 10n + BigInt(chars[i] as string);
    if (sign * value > max) clamped = max;
    else if (sign * value < min) clamped = min;
  }
  if (!any) return 0;
  const long = clamped ?? sign * value;
  const low = long & 0xffffffffn;
  return Number(low >= 0x80000000n ? low - 0x100000000n : low);
}

describe("atoi (glibc semantics)", () => {
  const table: [string, number][] = [
    ["0", 0],
    ["42", 42],
    ["12abc", 12],
    ["0x10", 0],
    ["99999999999", 1215752191],
    ["9223372036854775807", -1],
    ["9223372036854775808", -1],
    ["-9223372036854775808", 0],
    ["-9223372036854775809", 0],
    ["", 0],
    ["   -17", -17],
    ["\t\n\v\f\r+5", 5],
    ["+-5", 0],
    ["--5", 0],
    ["- 5", 0],
    ["2147483647", 2147483647],
    ["2147483648", -2147483648],
    ["4294967295", -1],
    ["4294967296", 0],
    ["-2147483649", 2147483647],
    ["771913119", 771913119],
    ["0000000000000000000000000000000012", 12],
    ["\u00a012", 0], // a no-break space is not C white space
    ["１２", 0], // full-width digits are not digits
    ["2049 ", 2049],
  ];
  for (const [input, expected] of table) {
    test(`atoi(${JSON.stringify(input)}) = ${expected}`, () => {
      expect(atoi(input)).toBe(expected);
    });
  }

  test("agrees with the reference strtol on arbitrary strings", () => {
    const numeric = fc
      .tuple(
        fc.constantFrom("", " ", "\t", "\n  "),
        fc.constantFrom("", "+", "-"),
        fc.stringMatching(/^[0-9]{0,40}$/),
        fc.string({ maxLength: 4 }),
      )
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(fc.oneof(numeric, fc.string(), fc.string({ unit: "binary" })), (s) => {
        expect(atoi(s)).toBe(referenceAtoi(s));
      }),
    );
  });

  test("always yields a 32-bit signed integer", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const v = atoi(s);
        expect(Number.isInteger(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(-(2 ** 31));
        expect(v).toBeLessThan(2 ** 31);
      }),
    );
  });
});
