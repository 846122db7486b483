// Loading what a command names: custom kernel profiles (--profile FILE), then
// node files, FLEET:NODE references and fleet files, checked against the
// kernels and CPUs the simulator knows, and built into node models.

import { CPU_CATALOG } from "../cpu/catalog.ts";
import { type KernelProfile, knownProfileIds, loadProfileFile } from "../kernel/profiles.ts";
import { NodeModel } from "../node.ts";
import { findNode, loadFleetFile, loadNodeRef, type SchemaContext } from "../schema.ts";
import type { FleetSpec, NodeSpec } from "../types.ts";
import { CliError } from "./common.ts";

/** The option every command that reads nodes takes. */
export const PROFILE_OPTION = "profile";
export const PROFILE_HELP =
  "  --profile FILE   load a custom kernel profile (YAML/JSON, `extends` a generation);\n" +
  "                   node files may then name its id as their kernel (repeatable)\n";

export interface Loaded {
  readonly profiles: readonly KernelProfile[];
  readonly ctx: SchemaContext;
}

/** Custom profiles in order (a later one may extend an earlier one). */
export function loadProfiles(files: readonly string[]): Loaded {
  const profiles: KernelProfile[] = [];
  for (const f of files) profiles.push(loadProfileFile(f, profiles));
  return {
    profiles,
    ctx: { kernelIds: knownProfileIds(profiles), cpuIds: CPU_CATALOG.map((c) => c.id) },
  };
}

/** A node model from its spec; model errors become one-line CLI errors. */
export function buildModel(spec: NodeSpec, loaded: Loaded): NodeModel {
  try {
    return new NodeModel(spec, { profiles: loaded.profiles });
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}

/** A node file or FLEET_FILE:NODE, loaded and built. */
export function loadNode(ref: string, loaded: Loaded): NodeModel {
  return buildModel(loadNodeRef(ref, loaded.ctx), loaded);
}

export function loadFleet(file: string, loaded: Loaded): FleetSpec {
  return loadFleetFile(file, loaded.ctx);
}

/** A fleet's node by name, built. */
export function fleetNode(fleet: FleetSpec, name: string, file: string, loaded: Loaded): NodeModel {
  return buildModel(findNode(fleet, name, file), loaded);
}
