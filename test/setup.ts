// Global fast-check settings for `bun test`: fixed seed in CI, FC_RUNS/FC_SEED
// to run more cases or to replay a failure (the failure message prints both).
import fc from "fast-check";

const runs = Number(process.env.FC_RUNS ?? "") || 100;
const seed = Number(process.env.FC_SEED ?? "") || 0x5eed;
fc.configureGlobal({ numRuns: runs, seed, verbose: 1 });
