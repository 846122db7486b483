// The HTML report in a real headless browser (Debian's chromium, installed by
// test/setup-chromium.sh): the rendered heatmap has one cell per node pair,
// each coloured as its verdict in the --json output says, and hovering or
// clicking a refused cell shows the reasons the JSON gives.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import type { Cli } from "../sim/commands/common.ts";
import { fleetCommands } from "../sim/commands/fleet.ts";
import type { MatrixDoc } from "../sim/fleet/doc.ts";
import { VERDICT_COLOURS } from "../sim/fleet/html.ts";

// Called inside the page (this project's TypeScript has no DOM library).
declare function getComputedStyle(e: unknown): { backgroundColor: string };

const CHROMIUM = "/usr/bin/chromium";
const MIXED = "sim/fleets/mixed.yaml";
const dir = mkdtempSync(join(tmpdir(), "fleet-html-"));
let ctx: BrowserContext;
let page: Page;
const outside: string[] = [];

async function run(name: string, ...args: string[]): Promise<string> {
  const c = fleetCommands.find((x) => x.path.join(" ") === `fleet ${name}`);
  let stdout = "";
  const cli = {
    out: { stdout: (t: string) => (stdout += t), stderr: () => {} },
    env: {},
  } as unknown as Cli;
  const code = await c?.run(args, cli);
  if (code !== 0) throw new Error(`fleet ${name} exited ${code}`);
  return stdout;
}

const rgb = (hex: string): string => {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run test/setup-chromium.sh as root`);
  ctx = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  // The page must not need the network: requests leaving file:// are refused and counted.
  await ctx.route(/^(?!file:)/, (route) => {
    outside.push(route.request().url());
    return route.abort();
  });
  page = await ctx.newPage();
}, 60_000);

afterAll(async () => {
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("fleet report in headless chromium", () => {
  test("node heatmap: cells, colours and tooltips match --json", async () => {
    const file = join(dir, "mixed.html");
    await run("report", MIXED, "--html", file);
    const doc = JSON.parse(await run("matrix", MIXED, "--json")) as MatrixDoc;
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);

    const cells = await page.$$eval("#heatmap td.cell", (tds) =>
      tds.map((td) => ({
        verdict: td.getAttribute("data-verdict"),
        colour: getComputedStyle(td).backgroundColor,
      })),
    );
    const n = doc.nodes.length;
    expect(cells).toHaveLength(n * n);
    const expected = (doc.matrix?.verdict ?? []).flat();
    expect(cells.map((c) => c.verdict)).toEqual(expected);
    expect(cells.map((c) => c.colour)).toEqual(expected.map((v) => rgb(VERDICT_COLOURS[v])));
    // Legend swatches use the same colours.
    const legend = await page.$$eval(".legend span", (spans) =>
      spans.map((s) => [
        s.getAttribute("data-verdict"),
        getComputedStyle(s.querySelector("i")).backgroundColor,
      ]),
    );
    for (const [v, c] of legend)
      expect(c).toBe(rgb(VERDICT_COLOURS[v as keyof typeof VERDICT_COLOURS]));

    // Hover mid-093 -> noipv6-109: the tooltip lists every refused container with the JSON's reasons.
    const i = doc.nodes.findIndex((x) => x.name === "mid-093");
    const j = doc.nodes.findIndex((x) => x.name === "noipv6-109");
    const pair = doc.pairs?.find((p) => p.source === "mid-093" && p.destination === "noipv6-109");
    expect(pair).toBeDefined();
    await page.hover(`#heatmap td.cell[data-key="${i},${j}"]`);
    const tip = page.locator("#tip");
    await expect(tip.isVisible()).resolves.toBe(true);
    const text = (await tip.textContent()) ?? "";
    expect(text.split("\n")[0]).toBe(
      `mid-093 -> noipv6-109: none (0 of ${pair?.running} running can go)`,
    );
    for (const c of pair?.containers ?? []) {
      expect(text).toContain(`CT ${c.id}`);
      for (const r of c.reasons) expect(text).toContain(r.text);
    }
    expect(text).toContain("IPv6 not loaded on the destination");

    // Click pins it: moving away keeps it; clicking again unpins.
    await page.click(`#heatmap td.cell[data-key="${i},${j}"]`);
    await page.mouse.move(0, 0);
    await expect(tip.isVisible()).resolves.toBe(true);
    expect(await tip.getAttribute("class")).toBe("pinned");
    await page.click(`#heatmap td.cell[data-key="${i},${j}"]`);
    await expect(tip.isVisible()).resolves.toBe(false);

    // Islands listed, every node once.
    const islandNodes = await page.$$eval("#islands .island", (ds) =>
      ds.map((d) => Number(d.getAttribute("data-size"))),
    );
    expect(islandNodes.reduce((s, x) => s + x, 0)).toBe(n);
    expect(requests.every((u) => u.startsWith("file:"))).toBe(true);
    expect(outside).toEqual([]);
  }, 60_000);

  test("class heatmap of a generated fleet: one cell per class pair, tooltips with counts", async () => {
    const gen = join(dir, "gen.yaml");
    await Bun.write(
      gen,
      await run("generate", "--nodes", "400", "--containers", "6", "--seed", "5"),
    );
    const file = join(dir, "gen.html");
    await run("report", gen, "--html", file);
    const doc = JSON.parse(await run("matrix", gen, "--json")) as MatrixDoc;
    expect(doc.detail).toBe("class");
    await page.goto(`file://${file}`);
    const cells = await page.$$eval("#heatmap td.cell", (tds) =>
      tds.map((td) => getComputedStyle(td).backgroundColor),
    );
    const D = doc.classes.length;
    expect(cells).toHaveLength(D * D);
    // The first off-diagonal cell with pairs: its tooltip states the JSON's counts.
    const cellsJson = doc.classMatrix?.cells ?? [];
    const r = 0;
    const c = cellsJson[0]?.findIndex((cell, k) => k !== 0 && Object.keys(cell).length > 0) ?? -1;
    expect(c).toBeGreaterThan(0);
    await page.hover(`#heatmap td.cell[data-key="${r},${c}"]`);
    const first = ((await page.locator("#tip").textContent()) ?? "").split("\n")[0] ?? "";
    const counts = Object.entries(cellsJson[r]?.[c] ?? {});
    expect(first.startsWith(`class c${r} -> class c${c}: `)).toBe(true);
    for (const [v, k] of counts) expect(first).toContain(`${v}: ${k}`);
  }, 60_000);
});
