// Test preload: `import p from "../native/build/Release/vzcpt.node" with
// { type: "file" }` (src/native.ts) gives the addon's path, as it does in a
// compiled executable. Plain `bun` refuses to import a Node-API file at all, so
// without this no in-process test could load src/native.ts (or src/extra.ts,
// or vzcptsim's `node host`). Only relative imports are redirected; the
// loader's own require(path) still loads the addon.

import { dirname, resolve } from "node:path";
import { plugin } from "bun";

const SUFFIX = "?path";

plugin({
  name: "addon-import-as-path",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/.*\.node$/ }, (args) => ({
      // A namespace and suffix of our own: a path ending in .node would be dlopen()ed.
      path: `${resolve(dirname(args.importer), args.path)}${SUFFIX}`,
      namespace: "addon-path",
    }));
    build.onLoad({ filter: /.*/, namespace: "addon-path" }, (args) => ({
      exports: { default: args.path.slice(0, -SUFFIX.length) },
      loader: "object",
    }));
  },
});
