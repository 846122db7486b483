// vzcptcheck entry: argv -> exit code. Only the real kernel is ever reached
// from here (through the native module); nothing is read from stdin, the
// environment or the current directory.

import { parseArgs } from "./grammar.ts";
import { runCommand } from "./modes.ts";
import { nativeBackend } from "./native.ts";
import { fdOutput } from "./output.ts";

function main(args: readonly string[]): number {
  const out = fdOutput();
  try {
    return runCommand(parseArgs(args), nativeBackend, out);
  } catch (e) {
    // Never a stack trace: one line saying what broke.
    out.stderr(`vzcptcheck: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

process.exit(main(process.argv.slice(2)));
