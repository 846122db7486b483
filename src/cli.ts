// vzcptcheck entry: argv -> exit code. Only the real kernel is ever reached
// from here (through the native module); nothing is read from stdin, the
// environment or the current directory.

import { parseArgs, parseExtra } from "./grammar.ts";
import { runCommand } from "./modes.ts";
import { nativeBackend, nativeWrite } from "./native.ts";
import { fdOutput } from "./output.ts";

function main(args: readonly string[]): number {
  const out = fdOutput(nativeWrite);
  try {
    return runCommand(parseArgs(args), nativeBackend, out);
  } catch (e) {
    // Never a stack trace: one line saying what broke.
    out.stderr(`vzcptcheck: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

const argv = process.argv.slice(2);
const extra = parseExtra(argv);
if (extra === null) process.exit(main(argv));
else {
  // explain/profile: loaded only when asked for, so version/caps start as before.
  import("./extra.ts").then(
    (m) => process.exit(m.runExtra(extra, fdOutput(nativeWrite))),
    (e: unknown) => {
      fdOutput(nativeWrite).stderr(`vzcptcheck: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
