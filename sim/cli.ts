// vzcptsim's entry, compiled to dist/vzcptsim: argv in, exit code out. The
// command line itself is sim/main.ts, which tests also run in-process.

import { defaultEnv, main } from "./main.ts";

process.exit(await main(process.argv.slice(2), defaultEnv()));
