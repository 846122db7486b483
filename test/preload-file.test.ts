// sim/preload-file.ts: libvzcptsim.so is only handed to a program after a
// probe proved that ld.so preloads it, from a private directory; on a noexec
// $TMPDIR it goes to the next private base, and where nothing works vzcptsim
// stops with one line before running anything. Also the compiled binary on a
// really noexec $TMPDIR (a tmpfs mounted noexec, as root).

import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { CliError } from "../sim/commands/common.ts";
import { loadablePreload, PROBE_MARKER, probePreload } from "../sim/preload-file.ts";
import { simIn, treeEnv } from "./in-process.ts";
import {
  DEMO_FLEET,
  ensureBuilt,
  PRELOAD_SO,
  tempDir,
  VZCPTCHECK,
  VZCPTSIM,
} from "./sim-support.ts";

ensureBuilt(PRELOAD_SO, VZCPTCHECK, VZCPTSIM);
const tmp = tempDir("vzcptsim-preload-");
const EUID = process.geteuid?.() ?? -1;
const SO_BYTES = readFileSync(PRELOAD_SO);
const HASHED = `libvzcptsim-${createHash("sha256").update(SO_BYTES).digest("hex").slice(0, 16)}.so`;

/** A noexec tmpfs at a new directory, or null where mounting is not allowed. */
const mounts: string[] = [];
function noexecTmpfs(name: string): string | null {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  const mount = ["mount", "-t", "tmpfs", "-o", "noexec,size=4m,mode=1777", "tmpfs", dir];
  if (Bun.spawnSync(mount).exitCode !== 0) return null;
  mounts.push(dir);
  return dir;
}
const noexec = noexecTmpfs("noexec");

afterAll(() => {
  for (const dir of mounts) {
    if (Bun.spawnSync(["umount", dir]).exitCode !== 0) Bun.spawnSync(["umount", "-l", dir]);
  }
  tmp.remove();
});

/** A private, exec-able base directory. */
function base(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** A file that is no shared object: ld.so refuses it wherever it is. */
function notElf(name: string): string {
  const file = join(tmp.dir, name);
  writeFileSync(file, "not an ELF file\n".repeat(8));
  return file;
}

describe("probePreload: did ld.so really preload the library?", () => {
  test("the built library answers the probe", () => {
    expect(probePreload(PRELOAD_SO)).toBeNull();
    expect(PROBE_MARKER).toBe("libvzcptsim.so: preloaded, protocol 1\n");
  });

  test("ld.so's reason when it skips the file", () => {
    expect(probePreload(notElf("bad.so"))).toMatch(/^invalid ELF header|^file too short/);
    expect(probePreload(join(tmp.dir, "missing.so"))).toBe("cannot open shared object file");
  });

  test("a library in a noexec directory is refused (as root: a real noexec tmpfs)", () => {
    if (noexec === null) return; // not root: the cases above cover the refusal
    const copy = join(noexec, "libvzcptsim.so");
    copyFileSync(PRELOAD_SO, copy);
    expect(probePreload(copy)).toBe("failed to map segment from shared object");
  });

  test("a shell that cannot run, or that ignores the library, is a refusal too", () => {
    expect(probePreload(PRELOAD_SO, "/nonexistent/sh")).toStartWith(
      "cannot run /nonexistent/sh to test it (",
    );
    // A program whose output is not exactly the marker (the script's /bin/sh
    // answers, then the script adds a line): not taken as a proof.
    const liar = join(tmp.dir, "liar.sh");
    writeFileSync(liar, "#!/bin/sh\necho something else\n", { mode: 0o755 });
    expect(probePreload(PRELOAD_SO, liar)).toBe(
      `it is not this version's interposer (it answered ${JSON.stringify(`${PROBE_MARKER}something else\n`)})`,
    );
  });
});

describe("loadablePreload: a private copy that loads, or one clear error", () => {
  test("under bun the tree's library is used in place", () => {
    expect(loadablePreload(PRELOAD_SO)).toBe(PRELOAD_SO);
  });

  test("a library that cannot load in place is copied to the first base where it loads", () => {
    const source = join(base("src1"), "libvzcptsim.so");
    copyFileSync(PRELOAD_SO, source);
    const good = base("good");
    const refused = new Set([source]);
    const probe = (so: string): string | null => (refused.has(so) ? "refused" : probePreload(so));
    const path = loadablePreload(source, { bases: [{ path: good, create: false }], probe });
    expect(path).toBe(join(good, `vzcptsim-${EUID}`, HASHED));
    expect(readFileSync(path)).toEqual(SO_BYTES);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(good, `vzcptsim-${EUID}`)).mode & 0o777).toBe(0o700);
    // A kept copy is reused as it is, not rewritten.
    const before = statSync(path).mtimeMs;
    Bun.sleepSync(20);
    expect(loadablePreload(source, { bases: [{ path: good, create: false }], probe })).toBe(path);
    expect(statSync(path).mtimeMs).toBe(before);
  });

  test("untrusted, missing and refusing bases are passed over; the error names them", () => {
    const source = notElf("libvzcptsim.so");
    const open = join(tmp.dir, "world-writable");
    mkdirSync(open, { mode: 0o777 });
    Bun.spawnSync(["chmod", "0777", open]); // not sticky: anyone could swap our file
    const refusing = base("refusing");
    let error: unknown;
    try {
      loadablePreload(source, {
        bases: [
          { path: join(tmp.dir, "missing"), create: false },
          { path: open, create: false },
          { path: refusing, create: false },
        ],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^cannot preload libvzcptsim\\.so from ${tmp.dir}: (invalid ELF header|file too short) ` +
          `\\(also tried ${refusing}/vzcptsim-${EUID}\\)$`,
      ),
    );
    expect(readdirSync(open)).toEqual([]); // nothing written where it was not safe
    expect(existsSync(join(tmp.dir, "missing"))).toBe(false); // a base is never created unless asked
    expect(readdirSync(refusing)).toEqual([]); // the unusable copy and its directory are gone
  });

  test("vzcptsim run stops before CMD, with one line, when the library cannot be preloaded", async () => {
    const source = notElf("broken.so");
    const marker = join(tmp.dir, "cmd-ran");
    const env = treeEnv(readFileSync(DEMO_FLEET, "utf8"), {
      preloadPath: () => loadablePreload(source, { bases: [] }),
    });
    const r = await simIn(
      ["run", `${DEMO_FLEET}:westmere-b`, "--", "sh", "-c", `touch ${marker}`],
      env,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      new RegExp(
        `^vzcptsim: cannot preload libvzcptsim\\.so from ${tmp.dir}: (invalid ELF header|file too short)\\n$`,
      ),
    );
    expect(existsSync(marker)).toBe(false);
    const demo = await simIn(["demo", "--via-preload"], env);
    expect({ code: demo.code, stdout: demo.stdout }).toEqual({ code: 1, stdout: "" });
    expect(demo.stderr).toStartWith("vzcptsim: cannot preload libvzcptsim.so from ");
  });
});

describe("dist/vzcptsim with a noexec $TMPDIR", () => {
  const sim = (args: string[], tmpdir: string) =>
    Bun.spawnSync([VZCPTSIM, ...args], {
      cwd: tmp.dir,
      env: { PATH: process.env.PATH, TMPDIR: tmpdir },
      stdin: "ignore",
    });
  // Without root there is no noexec mount: a TMPDIR anyone may write to (not
  // private enough) takes the same fallback, minus the refused probe.
  const dir = noexec ?? join(tmp.dir, "shared-tmp");
  if (noexec === null) {
    mkdirSync(dir);
    Bun.spawnSync(["chmod", "0777", dir]);
  }

  test("demo --via-preload still shows the refused and the accepted migration", () => {
    const r = sim(["demo", "--via-preload"], dir);
    const out = r.stdout.toString();
    expect(r.stderr.toString()).toBe(""); // no ld.so warning: the library was preloaded
    expect(out).toContain(", preload]"); // through the interposer, not in-process
    expect(out).toContain(
      "NO-GO: vzmigrate would refuse to move CT 101 from ivybridge-a to westmere-b:",
    );
    expect(out).toContain(
      "GO: vzmigrate would go ahead with CT 101 from ivybridge-a to haswell-c:",
    );
    expect(out).toEndWith(
      "Both outcomes are the expected ones: the AVX container may go to Haswell, not to Westmere.\n",
    );
    expect(r.exitCode).toBe(0);
  });

  test("run: CMD gets a copy outside $TMPDIR, and $TMPDIR keeps no library", () => {
    const r = sim(
      ["run", `${DEMO_FLEET}:ivybridge-a`, "--", "sh", "-c", 'echo "$LD_PRELOAD"'],
      dir,
    );
    const so = r.stdout.toString().trim();
    expect(so).toEndWith(`/vzcptsim-${EUID}/${HASHED}`);
    expect(so.startsWith(`${dir}/`)).toBe(false);
    expect(readFileSync(so)).toEqual(SO_BYTES);
    expect(readdirSync(dir).filter((f) => f.startsWith("vzcptsim-"))).toEqual([]);
    const caps = sim(["run", `${DEMO_FLEET}:ivybridge-a`, "--", VZCPTCHECK, "caps"], dir);
    expect(caps.stdout.toString()).toBe("771913119\n");
  });
});
