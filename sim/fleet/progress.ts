// Progress for long fleet runs: a single self-overwriting line on stderr, only
// when stderr is a terminal (never in pipes, files or tests), at most five
// updates a second, erased when the work is done.

import { isatty } from "node:tty";

export interface Progress {
  update(fraction: number, what: string): void;
  done(): void;
}

export const NO_PROGRESS: Progress = { update() {}, done() {} };

export function terminalProgress(
  write: (s: string) => void,
  label: string,
  isTty = isatty(2),
): Progress {
  if (!isTty) return NO_PROGRESS;
  let last = 0;
  let shown = false;
  return {
    update(fraction, what) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      shown = true;
      write(`\r\x1b[K${label}: ${what} ${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`);
    },
    done() {
      if (shown) write("\r\x1b[K");
    },
  };
}
