// Properties of the real executable: dist/vzcptcheck under the LD_PRELOAD
// interposer (build/libvzcptsim.so), each simulated node served on its own
// Unix socket by sim/server.ts. Spawning costs ~15 ms, so these run fewer
// cases (SPAWN_RUNS: 50 at the default FC_RUNS=100).

import { afterAll, describe, expect, setDefaultTimeout } from "bun:test";
import fc from "fast-check";
import { cpuWords } from "../../sim/cpu/catalog.ts";
import { runInProcess } from "../../sim/device.ts";
import { NodeModel } from "../../sim/node.ts";
import * as A from "../arbitraries.ts";
import { compareRun, oracleMigration, oracleNodeFlags } from "../oracle.ts";
import {
  ORACLE_ENV,
  prop,
  runExe,
  runOnNode,
  SPAWN_RUNS,
  scratch,
  serve,
  timeoutFor,
  VZCPTCHECK,
} from "./harness.ts";

const FILE = import.meta.path;
const tmp = scratch("exe");
afterAll(() => tmp.cleanup());
setDefaultTimeout(timeoutFor(SPAWN_RUNS(), 4 * 150));

const captured = (s: string): string => s.replace(/\n+$/, "");

describe("dist/vzcptcheck under the interposer", () => {
  prop(
    FILE,
    "the executable and the oracle agree on every generated scenario",
    () =>
      fc.asyncProperty(
        A.nodePair(),
        fc.boolean(),
        fc.nat(),
        async ([src, dst], suspended, pick) => {
          const ids = src.containers.map((c) => c.id);
          const id = suspended || ids.length === 0 ? null : (ids[pick % ids.length] as number);
          const want = oracleMigration(src, id, dst, ORACLE_ENV);
          const { servers, stop } = await serve(tmp.dir, [src, dst]);
          try {
            const [srcSock, dstSock] = servers.map((s) => s.socketPath) as [string, string];
            // vzmigrate's sequence, driven by the executable's own outputs.
            const v = await runExe(VZCPTCHECK, ["version"], srcSock);
            const version = captured(v.stdout);
            const vt =
              v.exit === 0 && version !== ""
                ? await runExe(VZCPTCHECK, ["version", version], dstSock)
                : null;
            const c = await runExe(VZCPTCHECK, ["caps"], dstSock);
            const caps = captured(c.stdout);
            const argv = id === null ? ["caps", caps] : ["caps", String(id), caps];
            const ct = c.exit === 0 && caps !== "" ? await runExe(VZCPTCHECK, argv, srcSock) : null;
            const got = [v, vt, c, ct];
            want.calls.forEach((w, i) => {
              const g = got[i];
              expect({ call: w.argv.join(" "), ran: g !== null }).toEqual({
                call: w.argv.join(" "),
                ran: w.ran,
              });
              if (g)
                expect({ call: w.argv.join(" "), diff: compareRun(w, g) }).toEqual({
                  call: w.argv.join(" "),
                  diff: null,
                });
            });
            const go = (vt === null || vt.exit === 0) && (ct === null || ct.exit === 0);
            expect(go).toBe(want.go);
          } finally {
            await stop();
          }
        },
      ),
    { numRuns: SPAWN_RUNS() },
  );

  prop(
    FILE,
    "the interposer path and the in-process path give the same bytes",
    () =>
      fc.asyncProperty(
        A.nodeWithArgv((n) => oracleNodeFlags(n, cpuWords)),
        async ([spec, args]) => {
          const exe = await runOnNode(tmp.dir, spec, VZCPTCHECK, args);
          const inproc = runInProcess(new NodeModel(spec), args, 0);
          expect(exe.exit).toBe(inproc.exit);
          expect(exe.stdoutBytes).toEqual(new TextEncoder().encode(inproc.stdout));
          expect(exe.stderrBytes).toEqual(inproc.stderr);
        },
      ),
    { numRuns: SPAWN_RUNS() },
  );
});
