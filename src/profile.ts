// `vzcptcheck profile`, the collection: this machine as a node record (kernel,
// OpenVZ generation, what /proc/cpt and /proc/rst say, CPUID, IPv6) plus the
// CPT flags its CPUID predicts. Everything the machine is asked goes through
// ProfileHost, so tests can describe any machine; profile-cli.ts prints it.
// The record's JSON Schema is man/vzcptcheck-profile.schema.json (schemaVersion 1).

import type { Backend } from "./backend.ts";
import { type CpuidFn, type CpuidWords, decodeCpuid, readHostCpuid } from "./cpt/cpuid.ts";
import { type Generation, generationFromRelease, NEWEST_GENERATION } from "./cpt/generations.ts";
import { nodeFlags } from "./cpt/nodeflags.ts";
import {
  CPT_PATH,
  CPT_SET_ERRORFD,
  CPT_TEST_CAPS,
  CPT_TEST_VERSION,
  RST_PATH,
} from "./cpt/requests.ts";
import { explainWord } from "./explain.ts";
import { hex32 } from "./numbers.ts";

export const PROFILE_SCHEMA_VERSION = 1;

/** What profile asks of the machine (the native module in production). */
export interface ProfileHost {
  uname(): { sysname: string; release: string; version: string; machine: string };
  hostname(): string;
  /** CPUID, or null where there is none (not x86). */
  cpuid(): CpuidFn | null;
  /** The kernel behind /proc/cpt and /proc/rst. */
  backend(): Backend;
  exists(path: string): boolean;
}

export interface Word {
  readonly value: number;
  readonly hex: string;
  /** Set bits, lowest first, with the generation's name for each. */
  readonly bits: readonly { bit: number; name: string; defined: boolean }[];
}

/** A value the kernel gave, or null and why not. */
export interface Answer {
  readonly value: number | null;
  readonly hex: string | null;
  readonly error: string | null;
}

export interface ProfileRecord {
  readonly schemaVersion: 1;
  readonly kind: "vzcptcheck-profile";
  readonly hostname: string;
  readonly kernel: { sysname: string; release: string; version: string; machine: string };
  readonly arch64: boolean;
  /** The OpenVZ generation recognised from the release; null: not recognised (not OpenVZ,
   *  or a release of no known generation even if the kernel answers CPT requests). */
  readonly openvz: { generation: string; title: string } | null;
  readonly cpt: {
    readonly version: Answer;
    /** rst CPT_TEST_CAPS: the flags the kernel reports; kernelMessages: its error-pipe text. */
    readonly caps: Answer & { kernelMessages: string };
  };
  readonly cpu: {
    readonly vendor: string;
    readonly family: number;
    readonly model: number;
    readonly stepping: number;
    readonly brand: string | null;
    readonly features: readonly string[];
    /** The raw words (as sim/types.ts CpuidWords wants them, less vendor/family/model). */
    readonly cpuid: Readonly<
      Record<Exclude<keyof CpuidWords, "vendor" | "family" | "model">, number>
    >;
  } | null;
  readonly cpuError: string | null;
  readonly ipv6: { loaded: boolean; evidence: string | null };
  /** Read from the reported caps' bit 24 when the kernel answered; else assumed false. */
  readonly slmWithoutDmprst: boolean | null;
  readonly flags: {
    /** The generation the prediction is for; assumed (the newest) when not OpenVZ. */
    readonly generation: string;
    readonly generationAssumed: boolean;
    readonly predicted: Word | null;
    readonly reported: Word | null;
    /** Bits predicted from CPUID that the kernel does not report (a CPUID mask?), and the reverse. */
    readonly onlyPredicted: readonly { bit: number; name: string }[] | null;
    readonly onlyReported: readonly { bit: number; name: string }[] | null;
    readonly match: boolean | null;
    readonly interpretation: string;
  };
  /** What this run could not find out, one sentence each. */
  readonly unknown: readonly string[];
}

const answer = (value: number | null, error: string | null): Answer => ({
  value,
  hex: value === null ? null : `0x${value.toString(16)}`,
  error,
});

/** cpt CPT_TEST_VERSION, as `vzcptcheck version` asks it. */
function readVersion(k: Backend): Answer {
  const fd = k.open(CPT_PATH);
  if (fd.ret < 0) return answer(null, `Can't open ${CPT_PATH}: ${k.strerror(fd.errno)}`);
  const r = k.ioctl(fd.ret, CPT_TEST_VERSION, 0);
  k.close(fd.ret);
  if (r.ret > 0) return answer(r.ret, null);
  return answer(null, `Error in ioctl(CPT_TEST_VERSION): ${k.strerror(r.errno)}`);
}

const decoder = new TextDecoder();

/** rst CPT_TEST_CAPS with an error pipe, as `vzcptcheck caps` asks it. */
function readCaps(k: Backend): Answer & { kernelMessages: string } {
  const fail = (error: string, kernelMessages = "") => ({ ...answer(null, error), kernelMessages });
  const p = k.pipe();
  if (p.ret < 0) return fail(`Can't create pipe: ${k.strerror(p.errno)}`);
  let writeOpen = true;
  try {
    const fd = k.open(RST_PATH);
    if (fd.ret < 0) return fail(`Can't open ${RST_PATH}: ${k.strerror(fd.errno)}`);
    const set = k.ioctl(fd.ret, CPT_SET_ERRORFD, p.writeFd);
    if (set.ret < 0) {
      k.close(fd.ret);
      return fail(`Error in ioctl(CPT_SET_ERRORFD): ${k.strerror(set.errno)}`);
    }
    k.close(p.writeFd);
    writeOpen = false;
    const r = k.ioctl(fd.ret, CPT_TEST_CAPS, 0);
    const kernelMessages = decoder.decode(k.drain(p.readFd));
    k.close(fd.ret);
    if (r.ret > 0) return { ...answer(r.ret >>> 0, null), kernelMessages };
    return fail(`Error in ioctl(CPT_TEST_CAPS): ${k.strerror(r.errno)}`, kernelMessages);
  } finally {
    k.close(p.readFd);
    if (writeOpen) k.close(p.writeFd);
  }
}

/** Leaves 0x80000002-4: the CPU's brand string, if it has one. */
function brandString(cpuid: CpuidFn): string | null {
  if (cpuid(0x80000000, 0).eax >>> 0 < 0x80000004) return null;
  let s = "";
  for (let leaf = 0x80000002; leaf <= 0x80000004; leaf++) {
    const r = cpuid(leaf, 0);
    for (const reg of [r.eax, r.ebx, r.ecx, r.edx]) {
      for (let i = 0; i < 4; i++) {
        const c = (reg >>> (8 * i)) & 0xff;
        if (c !== 0) s += String.fromCharCode(c); // NUL-padded
      }
    }
  }
  const text = s.replace(/\s+/g, " ").trim();
  return text === "" ? null : text;
}

const word = (value: number, g: Generation): Word => ({
  value,
  hex: hex32(value),
  bits: explainWord(value, g).map((b) => ({ bit: b.bit, name: b.name, defined: b.defined })),
});

const namesOf = (value: number, g: Generation) =>
  explainWord(value, g).map((b) => ({ bit: b.bit, name: b.name }));

/** Where IPv6 shows itself: the first path that exists (the address list, then the sysctl tree). */
export const IPV6_EVIDENCE = ["/proc/net/if_inet6", "/proc/sys/net/ipv6"] as const;

function interpret(
  gen: Generation,
  predicted: number | null,
  reported: number | null,
  assumed: boolean,
): string {
  if (predicted === null) return "no prediction: this machine's CPUID could not be read";
  if (reported === null) {
    return assumed
      ? `predicted for ${gen.id}, the newest generation, as if this machine ran it; the kernel reports no flags here`
      : "the kernel's own flags are unknown (see cpt.caps.error), so the prediction cannot be checked";
  }
  if (predicted === reported) return "the kernel reports exactly the flags CPUID predicts";
  return gen.flagSource === "raw-cpuid"
    ? `${gen.id} reads raw CPUID, so a difference is drift between this model and the kernel (or SLM/IPv6 state)`
    : `${gen.id} reads masked CPU capabilities: CPU bits predicted but not reported are probably hidden by its CPUID mask (cpuid masking)`;
}

/** Describe this machine (never throws for what the machine does not answer). */
export function collectProfile(host: ProfileHost): ProfileRecord {
  const unknown: string[] = [];
  const kernel = host.uname();
  const arch64 = kernel.machine === "x86_64";
  const recognised = generationFromRelease(kernel.release);
  const gen = recognised ?? NEWEST_GENERATION;
  // Only the generation is unknown here: whether /proc/cpt and /proc/rst answer
  // is asked below and listed on its own (a kernel may answer CPT requests
  // under a release this table does not recognise).
  if (!recognised) {
    unknown.push(
      `OpenVZ generation: kernel ${kernel.release} is not a release of a known OpenVZ generation (flags predicted for ${gen.id}, the newest)`,
    );
  }

  let k: Backend | null = null;
  let backendError: string | null = null;
  try {
    k = host.backend();
  } catch (e) {
    backendError = e instanceof Error ? e.message : String(e);
  }
  const version = k ? readVersion(k) : answer(null, backendError);
  const caps = k ? readCaps(k) : { ...answer(null, backendError), kernelMessages: "" };
  if (version.error) unknown.push(`CPT version: ${version.error}`);
  if (caps.error) unknown.push(`CPT flags reported by the kernel: ${caps.error}`);

  let cpu: ProfileRecord["cpu"] = null;
  let cpuError: string | null = null;
  let words: CpuidWords | null = null;
  try {
    const fn = host.cpuid();
    if (fn === null) throw new Error("no CPUID on this machine");
    words = readHostCpuid(fn);
    const { vendor, family, model, ...raw } = words;
    cpu = {
      vendor,
      family,
      model,
      stepping: fn(0, 0).eax >>> 0 >= 1 ? fn(1, 0).eax & 0xf : 0,
      brand: brandString(fn),
      features: [...decodeCpuid(words)],
      cpuid: raw,
    };
  } catch (e) {
    cpuError = e instanceof Error ? e.message : String(e);
    unknown.push(`CPU: ${cpuError}`);
  }

  const evidence = IPV6_EVIDENCE.find((p) => host.exists(p)) ?? null;
  const reported = caps.value;
  const slm = reported === null ? null : ((reported >>> 24) & 1) === 1;
  if (slm === null)
    unknown.push("SLM without slm_dmprst: only the kernel's flags show it (assumed off)");
  const predicted =
    words === null
      ? null
      : nodeFlags({
          cpuid: words,
          generation: gen,
          arch64,
          ipv6: evidence !== null,
          slmWithoutDmprst: slm ?? false,
        });
  const both = predicted !== null && reported !== null;
  return {
    schemaVersion: PROFILE_SCHEMA_VERSION,
    kind: "vzcptcheck-profile",
    hostname: host.hostname(),
    kernel: {
      sysname: kernel.sysname,
      release: kernel.release,
      version: kernel.version,
      machine: kernel.machine,
    },
    arch64,
    openvz: recognised ? { generation: recognised.id, title: recognised.title } : null,
    cpt: { version, caps },
    cpu,
    cpuError,
    ipv6: { loaded: evidence !== null, evidence },
    slmWithoutDmprst: slm,
    flags: {
      generation: gen.id,
      generationAssumed: recognised === null,
      predicted: predicted === null ? null : word(predicted, gen),
      reported: reported === null ? null : word(reported, gen),
      onlyPredicted: both ? namesOf((predicted & ~reported) >>> 0, gen) : null,
      onlyReported: both ? namesOf((reported & ~predicted) >>> 0, gen) : null,
      match: both ? predicted === reported : null,
      interpretation: interpret(gen, predicted, reported, recognised === null),
    },
    unknown,
  };
}
