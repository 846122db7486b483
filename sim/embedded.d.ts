// `import p from "../build/libvzcptsim.so" with { type: "file" }` gives the
// interposer's path: on disk under `bun`, inside the executable once compiled.
declare module "*/libvzcptsim.so" {
  const path: string;
  export default path;
}
