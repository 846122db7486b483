import { expect, test } from "bun:test";
import { strerrorC } from "../src/cpt/errno.ts";
import { loadNative } from "../src/native.ts";

test("the simulator's strerror table says what glibc says, for every errno", () => {
  const libc = loadNative();
  for (let e = -2; e <= 140; e++) expect([e, strerrorC(e)]).toEqual([e, libc.strerror(e)]);
});
