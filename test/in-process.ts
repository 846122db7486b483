// `vzcptsim ARGS` run in this process through sim/main.ts's main(), with its
// stdout and stderr collected: the dispatch, the commands and the one-line
// error path exactly as dist/vzcptsim runs them, visible to `bun test --coverage`.

import type { CliEnv } from "../sim/commands/common.ts";
import { main } from "../sim/main.ts";
import type { Output } from "../src/backend.ts";
import { PRELOAD_SO, VZCPTCHECK } from "./sim-support.ts";

export interface SimRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** An Output that keeps what is written (stderr bytes decoded as UTF-8). */
export function capture(): Output & { stdoutText(): string; stderrText(): string } {
  let stdout = "";
  let stderr = "";
  const decoder = new TextDecoder();
  return {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += typeof t === "string" ? t : decoder.decode(t);
    },
    stdoutText: () => stdout,
    stderrText: () => stderr,
  };
}

/** The tree's files in place of what dist/vzcptsim carries. */
export const treeEnv = (demoFleetText: string, extra: Partial<CliEnv> = {}): CliEnv => ({
  preloadPath: () => PRELOAD_SO,
  demoFleetText,
  siblingVzcptcheck: VZCPTCHECK,
  ...extra,
});

/** Run `vzcptsim ARGS` in-process. */
export async function simIn(args: readonly string[], env: CliEnv): Promise<SimRun> {
  const out = capture();
  const code = await main(args, env, out);
  return { code, stdout: out.stdoutText(), stderr: out.stderrText() };
}
