// `import p from ".../vzcpt.node" with { type: "file" }` gives the addon's path:
// on disk under `bun`/`bun test`, inside the executable once compiled.
declare module "*/vzcpt.node" {
  const path: string;
  export default path;
}
