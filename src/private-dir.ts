// Private directories to run code from, for a file we are about to dlopen()
// or preload, possibly as root: vzcptcheck's addon when Bun's own copy in
// $TMPDIR cannot be loaded (src/native.ts), and vzcptsim's libvzcptsim.so
// (sim/preload-file.ts). The caller passes node:fs in and loads this module
// lazily: vzcptcheck pays for neither on its normal path.

type Fs = typeof import("node:fs");

const S_ISVTX = 0o1000;

/** A directory under which a private one may be made. */
export interface Base {
  readonly path: string;
  /** Whether `path` itself may be created when missing. */
  readonly create: boolean;
}

/**
 * Where a private copy may go, first that works (why each one: the header of
 * src/native.ts): /run/user/<euid>, /run, /dev/shm, /var/tmp, $HOME/.cache.
 * Only a missing ~/.cache is created (as XDG tools do), never /run/user/<euid>.
 */
export function privateBases(euid: number, home: string | undefined): Base[] {
  const bases: Base[] = [`/run/user/${euid}`, "/run", "/dev/shm", "/var/tmp"].map((path) => ({
    path,
    create: false,
  }));
  if (home?.startsWith("/")) bases.push({ path: `${home}/.cache`, create: true });
  return bases;
}

/**
 * `<base>/<prefix>-<euid>`, created (mode 0700) if needed, if it is safe to run
 * code from: every ancestor trusted, and the directory itself ours, not a
 * symlink, and closed to everyone else. Otherwise undefined.
 */
export function privateDir(
  fs: Fs,
  base: string,
  euid: number,
  create: boolean,
  prefix = "vzcptcheck",
): string | undefined {
  if (!trustedAncestors(fs, base, euid)) return undefined;
  if (!fs.existsSync(base)) {
    if (!create) return undefined;
    fs.mkdirSync(base, { mode: 0o700 });
  }
  const dir = `${base}/${prefix}-${euid}`;
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") return undefined;
  }
  // lstat: a symlink planted in our place is not a directory.
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== euid || (st.mode & 0o077) !== 0) return undefined;
  return dir;
}

/** Every existing component of `path` (symlinks resolved) is owned by root or
 *  us and, unless sticky, writable by no one else. */
export function trustedAncestors(fs: Fs, path: string, euid: number): boolean {
  let p = path;
  while (!fs.existsSync(p)) p = p.slice(0, p.lastIndexOf("/")) || "/";
  p = fs.realpathSync(p);
  for (;;) {
    const st = fs.lstatSync(p);
    if (st.uid !== 0 && st.uid !== euid) return false;
    if ((st.mode & 0o022) !== 0 && (st.mode & S_ISVTX) === 0) return false;
    if (p === "/") return true;
    p = p.slice(0, p.lastIndexOf("/")) || "/";
  }
}

/** Write `bytes` to `<dir>/<name>` (mode 0600) through a temporary name and a
 *  rename, so no one ever maps a half-written file; returns the path. */
export function writeAtomically(fs: Fs, dir: string, name: string, bytes: Uint8Array): string {
  const file = `${dir}/${name}`;
  const tmp = `${dir}/.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, bytes, { mode: 0o600, flag: "wx" });
  fs.renameSync(tmp, file);
  return file;
}
