// The commands beyond the original, `explain` and `profile`, wired to this
// machine (the native module, /proc). cli.ts imports this module lazily, only
// when the first argument is one of them, so `version` and `caps` start as
// fast as before.

import { existsSync } from "node:fs";
import type { Output } from "./backend.ts";
import { runExtraOn } from "./extra-run.ts";
import type { ExtraCommand } from "./grammar.ts";
import { loadNative } from "./native.ts";
import type { ProfileHost } from "./profile.ts";

/** This machine, asked through the native module. */
export const nativeHost: ProfileHost = {
  uname: () => loadNative().uname(),
  // node:os is required here, not imported: a bundle hoists static imports of
  // built-ins to start-up, and version/caps must not pay for it.
  hostname: () => (require("node:os") as typeof import("node:os")).hostname(),
  cpuid: () => {
    const n = loadNative();
    return (leaf, subleaf) => n.cpuid(leaf, subleaf);
  },
  backend: () => loadNative(),
  exists: (path) => existsSync(path),
};

/** Run `explain` or `profile` on this machine; returns the exit code, never throws. */
export function runExtra(cmd: ExtraCommand, out: Output): number {
  return runExtraOn(cmd, nativeHost, out);
}
