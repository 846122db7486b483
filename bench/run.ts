// `make bench`: start-up time and peak memory of dist/vzcptcheck against a C
// baseline (build/cptprobe: one open + one ioctl) under the same LD_PRELOAD
// interposer and node server, as ratios measured in the same run; then the
// fleet benchmark (bench/fleet.ts).
//
// Targets (issue 2): within 6x the C program's wall time, under 32 MiB RSS.

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { makeContainer, makeNodeSpec, makeTask, NodeModel } from "../sim/node.ts";
import { serveNode } from "../sim/server.ts";

const ROOT = resolve(import.meta.dir, "..");
const VZCPTCHECK = join(ROOT, "dist/vzcptcheck");
const PROBE = join(ROOT, "build/cptprobe");
const PRELOAD = join(ROOT, "build/libvzcptsim.so");
const TIME = "/usr/bin/time";
const RUNS = Number(process.env.BENCH_RUNS ?? "") || 60;
const WALL_TARGET = 6;
const RSS_TARGET_KIB = 32 * 1024;

for (const f of [VZCPTCHECK, PROBE, PRELOAD]) {
  if (!existsSync(f)) {
    console.error(`bench: ${f} is missing; run \`make bench\` (it builds everything first)`);
    process.exit(1);
  }
}

const node = new NodeModel(
  makeNodeSpec({
    name: "bench",
    kernel: "042stab109",
    cpu: "intel-ivybridge-e5-2650v2",
    containers: [makeContainer({ id: 101, tasks: [makeTask({ usedFpu: true })] })],
  }),
);
const socket = join(process.env.TMPDIR ?? "/tmp", `vzcptcheck-bench-${process.pid}.sock`);
const server = await serveNode(node, socket);
const env = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  LD_PRELOAD: PRELOAD,
  VZCPTSIM_SOCKET: socket,
};

interface Case {
  readonly name: string;
  readonly argv: readonly string[];
}
const CASES: readonly Case[] = [
  { name: "C open+ioctl (baseline)", argv: [PROBE] },
  { name: "vzcptcheck version", argv: [VZCPTCHECK, "version"] },
  { name: "vzcptcheck caps 101 CAPS", argv: [VZCPTCHECK, "caps", "101", String(node.flags)] },
];

/** Wall time of one run in ms (spawn to exit), asynchronously so the server keeps answering. */
async function wallMs(argv: readonly string[]): Promise<number> {
  const t0 = performance.now();
  const p = Bun.spawn([...argv], { env, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const code = await p.exited;
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}`);
  return ms;
}

/** Peak RSS of one run in KiB, from GNU time's %M. */
async function peakRssKiB(argv: readonly string[]): Promise<number | null> {
  if (!existsSync(TIME)) return null;
  const p = Bun.spawn([TIME, "-f", "%M", ...argv], {
    env,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const err = await new Response(p.stderr).text();
  await p.exited;
  const kib = Number(err.trim().split("\n").at(-1));
  return Number.isFinite(kib) ? kib : null;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

try {
  // Warm up caches (and Bun's extracted addon) before measuring.
  for (const c of CASES) for (let i = 0; i < 5; i++) await wallMs(c.argv);
  const walls = CASES.map(() => [] as number[]);
  const rss = CASES.map(() => [] as number[]);
  // Interleave the cases so that machine noise falls on all of them alike.
  for (let i = 0; i < RUNS; i++) {
    for (const [k, c] of CASES.entries()) (walls[k] as number[]).push(await wallMs(c.argv));
  }
  for (let i = 0; i < 9; i++) {
    for (const [k, c] of CASES.entries()) {
      const r = await peakRssKiB(c.argv);
      if (r !== null) (rss[k] as number[]).push(r);
    }
  }
  const base = median(walls[0] as number[]);
  console.log(`vzcptcheck start-up under the interposer, ${RUNS} interleaved runs each (median)\n`);
  console.log(
    `${"case".padEnd(28)} ${"wall ms".padStart(8)} ${"x C".padStart(6)} ${"peak RSS MiB".padStart(13)}`,
  );
  let met = true;
  for (const [k, c] of CASES.entries()) {
    const w = median(walls[k] as number[]);
    const r = (rss[k] as number[]).length ? median(rss[k] as number[]) : null;
    const ratio = w / base;
    if (k > 0 && (ratio > WALL_TARGET || (r !== null && r >= RSS_TARGET_KIB))) met = false;
    const rssText = r === null ? "n/a" : (r / 1024).toFixed(1);
    console.log(
      `${c.name.padEnd(28)} ${w.toFixed(2).padStart(8)} ${ratio.toFixed(2).padStart(6)} ${rssText.padStart(13)}`,
    );
  }
  console.log(
    `\ntarget: <= ${WALL_TARGET}x the C baseline's wall time and < 32 MiB peak RSS: ${met ? "met" : "NOT met"}`,
  );
} finally {
  await server.stop();
}

// The fleet benchmark runs in its own process so its memory is measured alone.
const fleetBench = join(ROOT, "bench/fleet.ts");
if (existsSync(fleetBench)) {
  console.log("");
  const p = Bun.spawn([process.execPath, fleetBench, ...process.argv.slice(2)], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  process.exitCode = await p.exited;
}
