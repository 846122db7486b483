// What `uname -r` says on a simulated node: one representative kernel release
// per generation, a release that OpenVZ shipped (or a distribution shipped, for
// the pre-RHEL6 2.6.32 branch) and that src/cpt/generations.ts's
// generationFromRelease reads back as that generation. `vzcptsim exec` shows
// it to `vzcptcheck explain` and `vzcptcheck profile` (sim/host.ts).

import type { KernelProfile } from "./profiles.ts";

export interface Release {
  /** `uname -r` on a 64-bit (x86_64) kernel. */
  readonly release: string;
  /** `uname -r` on a 32-bit kernel, where the release names the flavour. */
  readonly release32?: string;
}

/** By generation id; a test checks that each reads back as its generation. */
export const REPRESENTATIVE_RELEASES: Readonly<Record<string, Release>> = {
  "028stab056": { release: "2.6.18-028stab056.1" },
  // Debian squeeze's openvz flavour was built from this branch.
  "2.6.32-pre": { release: "2.6.32-5-openvz-amd64", release32: "2.6.32-5-openvz-686" },
  "042stab061": { release: "2.6.32-042stab084.17" },
  "042stab088": { release: "2.6.32-042stab090.5" },
  "042stab092": { release: "2.6.32-042stab092.3" },
  "042stab093": { release: "2.6.32-042stab094.8" },
  "042stab101": { release: "2.6.32-042stab102.9" },
  "042stab108": { release: "2.6.32-042stab108.8" },
  "042stab109": { release: "2.6.32-042stab113.11" },
};

/**
 * `uname -r` for a node running `profile` (a custom profile shows the release
 * of the generation it extends).
 */
export function releaseFor(profile: Pick<KernelProfile, "base">, arch64: boolean): string {
  const r = REPRESENTATIVE_RELEASES[profile.base];
  if (r === undefined) throw new Error(`no representative release for generation ${profile.base}`);
  return arch64 ? r.release : (r.release32 ?? r.release);
}
