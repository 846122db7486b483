// make install / uninstall lay out exactly the documented files under DESTDIR.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { USAGE } from "../src/usage.ts";
import { ensureBuilt, ROOT, tempDir, VZCPTCHECK } from "./sim-support.ts";

const make = (...args: string[]) =>
  // -o: never re-run npm ci from inside a test.
  spawnSync("make", ["-s", "-C", ROOT, "-o", "node_modules/.package-lock.json", ...args], {
    encoding: "utf8",
  });

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

test("make install DESTDIR=... then uninstall", () => {
  ensureBuilt(VZCPTCHECK);
  const { dir, remove } = tempDir("vzcptcheck-install-");
  try {
    expect(make("install", `DESTDIR=${dir}`).status).toBe(0);
    expect(files(dir)).toEqual([
      "usr/sbin/vzcptcheck",
      "usr/share/man/man8/vzcptcheck.8",
      "usr/share/vzcptcheck/vzcptcheck-profile.schema.json",
    ]);
    expect(statSync(join(dir, "usr/sbin/vzcptcheck")).mode & 0o777).toBe(0o755);
    const run = spawnSync(join(dir, "usr/sbin/vzcptcheck"), [], { encoding: "utf8" });
    expect([run.status, run.stdout]).toEqual([0, USAGE]);
    expect(make("uninstall", `DESTDIR=${dir}`).status).toBe(0);
    expect(files(dir)).toEqual([]);
  } finally {
    remove();
  }
});

test("PREFIX, SBINDIR and MANDIR are honoured", () => {
  const { dir, remove } = tempDir("vzcptcheck-install-");
  try {
    const r = make("install", `DESTDIR=${dir}`, "PREFIX=/opt/vz", "SBINDIR=/sbin", "MANDIR=/man");
    expect(r.status).toBe(0);
    expect(files(dir)).toEqual([
      "man/man8/vzcptcheck.8",
      "opt/vz/share/vzcptcheck/vzcptcheck-profile.schema.json",
      "sbin/vzcptcheck",
    ]);
  } finally {
    remove();
  }
});
