// The simulator's CPU model: catalog, masking, and (re-exported from src/cpt)
// CPUID decoding and the node-flag rule.

export {
  applyMask,
  type CpuidMask,
  type CpuidWords,
  decodeCpuid,
  encodeCpuid,
  FEATURE_INFO,
  featureInfo,
} from "../../src/cpt/cpuid.ts";
export { describeFlags, type NodeFlagsInput, nodeFlags } from "../../src/cpt/nodeflags.ts";
export { CPU_CATALOG, type CpuModel, cpuById, cpuWords } from "./catalog.ts";
export { baselineMask, combineMasks, featuresHiddenBy, maskFromFeatures } from "./mask.ts";
