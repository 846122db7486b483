// Dispatch of the commands beyond the original (`explain`, `profile`) against
// any machine described by a ProfileHost: this machine (extra.ts, through the
// native module) or a simulated node (sim/device.ts). Kept apart from extra.ts
// so that the simulator can run these commands without loading the addon.

import type { Output } from "./backend.ts";
import { runExplain } from "./explain-cli.ts";
import type { ExtraCommand } from "./grammar.ts";
import type { ProfileHost } from "./profile.ts";
import { runProfile } from "./profile-cli.ts";

/** Run `explain` or `profile` on `host`; returns the exit code, never throws. */
export function runExtraOn(cmd: ExtraCommand, host: ProfileHost, out: Output): number {
  try {
    if (cmd.kind === "explain") {
      return runExplain(cmd.args, { release: () => host.uname().release }, out);
    }
    return runProfile(cmd.args, host, out);
  } catch (e) {
    out.stderr(`vzcptcheck ${cmd.kind}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
