// The original's argv grammar: the first argument picks the mode, names match
// exactly and case-sensitively, and numbers are read with glibc's atoi.

import { atoi } from "./atoi.ts";

export type Command =
  | { kind: "usage"; stream: "stdout" | "stderr"; exit: 0 | 1 }
  | { kind: "version-show" }
  | { kind: "version-test"; version: number }
  | { kind: "caps-show" }
  | { kind: "caps-test"; caps: number }
  | { kind: "caps-test-ve"; veid: number; caps: number };

const USAGE_OK: Command = { kind: "usage", stream: "stdout", exit: 0 };
const USAGE_ERROR: Command = { kind: "usage", stream: "stderr", exit: 1 };

/** Parse the arguments after the program name. */
export function parseArgs(args: readonly string[]): Command {
  const [first, ...rest] = args;
  if (first === undefined || first === "help") return USAGE_OK;
  if (first === "version") {
    if (rest.length > 1) return USAGE_ERROR;
    const [num] = rest;
    return num === undefined
      ? { kind: "version-show" }
      : { kind: "version-test", version: atoi(num) };
  }
  if (first === "caps") {
    if (rest.length > 2) return USAGE_ERROR;
    const [a, b] = rest;
    if (a === undefined) return { kind: "caps-show" };
    if (b === undefined) return { kind: "caps-test", caps: atoi(a) };
    return { kind: "caps-test-ve", veid: atoi(a), caps: atoi(b) };
  }
  return USAGE_ERROR;
}

/** The two commands beyond the original (explain, profile), with their arguments. */
export interface ExtraCommand {
  readonly kind: "explain" | "profile";
  readonly args: readonly string[];
}

/**
 * The new commands, matched by their exact first word only; null for every
 * other argv, which keeps the original grammar (parseArgs) byte for byte.
 */
export function parseExtra(args: readonly string[]): ExtraCommand | null {
  const [first, ...rest] = args;
  return first === "explain" || first === "profile" ? { kind: first, args: rest } : null;
}
