// What every vzcptsim command shares: the command table entry, argument
// parsing (options before `--`, the rest passed on untouched), help text and
// the one kind of error a user sees (one line, exit 1).

import type { Output } from "../../src/backend.ts";
import type { ProfileHost } from "../../src/profile.ts";

/** A user-facing failure: printed as `vzcptsim: MESSAGE`, exit 1. */
export class CliError extends Error {
  override readonly name = "CliError";
}

/** Where the running binary finds what it carries (set up by sim/main.ts). */
export interface CliEnv {
  /** libvzcptsim.so on disk (extracted from the executable on first use). */
  preloadPath(): string;
  /** The built-in demo fleet's text (sim/fleets/demo.yaml, embedded). */
  readonly demoFleetText: string;
  /** dist/vzcptcheck beside this executable, if there is one. */
  readonly siblingVzcptcheck: string | null;
  /** The machine `node host` describes; absent: this one, through the native module
   *  (tests give a simulated machine here). */
  host?(): ProfileHost;
}

export interface Cli {
  readonly out: Output;
  readonly env: CliEnv;
}

export interface CommandDef {
  /** Words after `vzcptsim` that select the command, e.g. ["node", "show"]. */
  readonly path: readonly string[];
  /** One line for the command list. */
  readonly summary: string;
  /** The full help text (usage line first), printed by --help. */
  readonly help: string;
  run(args: readonly string[], cli: Cli): number | Promise<number>;
}

export interface ArgSpec {
  /** Boolean options, e.g. ["json"] for --json. */
  readonly flags?: readonly string[];
  /** Options taking a value, e.g. ["socket"] for --socket PATH. */
  readonly options?: readonly string[];
  /** Options that may be given more than once (values collected in order). */
  readonly repeatable?: readonly string[];
  /** Positional argument names, for error messages; `min` of them are required. */
  readonly positional: readonly string[];
  readonly min?: number;
  /** Whether `-- ARGS...` may follow (and must, if "required"). */
  readonly rest?: "allowed" | "required";
}

export interface ParsedArgs {
  readonly positional: string[];
  readonly flags: Set<string>;
  readonly options: Map<string, string[]>;
  /** What followed `--` (null when there was no `--`). */
  readonly rest: string[] | null;
  readonly help: boolean;
}

/** Parse a command's arguments; throws CliError with a one-line reason. */
export function parseCommandArgs(cmd: string, args: readonly string[], spec: ArgSpec): ParsedArgs {
  const flags = new Set<string>();
  const options = new Map<string, string[]>();
  const positional: string[] = [];
  let rest: string[] | null = null;
  let help = false;
  const valued = [...(spec.options ?? []), ...(spec.repeatable ?? [])];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") {
      rest = args.slice(i + 1);
      break;
    }
    if (a === "--help" || a === "-h") {
      help = true;
      continue;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq < 0 ? undefined : eq);
      if (spec.flags?.includes(name)) {
        if (eq >= 0) throw new CliError(`${cmd}: --${name} takes no value`);
        flags.add(name);
        continue;
      }
      if (valued.includes(name)) {
        let value: string | undefined;
        if (eq >= 0) value = a.slice(eq + 1);
        else value = args[++i];
        if (value === undefined) throw new CliError(`${cmd}: --${name} needs a value`);
        const list = options.get(name) ?? [];
        if (list.length > 0 && !spec.repeatable?.includes(name)) {
          throw new CliError(`${cmd}: --${name} given twice`);
        }
        options.set(name, [...list, value]);
        continue;
      }
      throw new CliError(`${cmd}: unknown option ${a} (see vzcptsim ${cmd} --help)`);
    }
    if (a.startsWith("-") && a !== "-") {
      throw new CliError(`${cmd}: unknown option ${a} (see vzcptsim ${cmd} --help)`);
    }
    positional.push(a);
  }
  if (help) return { positional, flags, options, rest, help };
  const min = spec.min ?? spec.positional.length;
  if (positional.length < min) {
    const missing = spec.positional.slice(positional.length, min).join(" ");
    throw new CliError(`${cmd}: missing ${missing} (see vzcptsim ${cmd} --help)`);
  }
  if (positional.length > spec.positional.length) {
    throw new CliError(
      `${cmd}: unexpected argument ${JSON.stringify(positional[spec.positional.length])}`,
    );
  }
  if (rest !== null && spec.rest === undefined) throw new CliError(`${cmd}: takes no -- ARGS`);
  if (rest === null && spec.rest === "required") {
    throw new CliError(`${cmd}: missing -- and the command to run (see vzcptsim ${cmd} --help)`);
  }
  return { positional, flags, options, rest, help };
}

/** The single value of an option, or `dflt`. */
export const optionValue = (p: ParsedArgs, name: string, dflt?: string): string | undefined =>
  p.options.get(name)?.[0] ?? dflt;

/** A decimal integer argument, or a CliError naming it. */
export function intArg(cmd: string, what: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new CliError(
      `${cmd}: ${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

/** Lines of bytes as text, for reports (kernel output is ASCII). */
export const textOf = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** A word as "decimal (0xhex)". */
export const decHex = (word: number): string =>
  `${word >>> 0} (0x${(word >>> 0).toString(16).padStart(8, "0")})`;
