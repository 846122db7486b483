// `vzcptcheck profile [--json]`: argv and output for the node record that
// profile.ts collects. Loaded only when the first argument is "profile".

import type { Output } from "./backend.ts";
import { type Answer, collectProfile, type ProfileHost, type ProfileRecord } from "./profile.ts";

export const PROFILE_HELP = `Usage: vzcptcheck profile [--json]

Describe this machine as a migration node: kernel release and the OpenVZ
generation it belongs to, the CPT version and flags the kernel reports (root
and the vzcpt/vzrst modules needed), the CPU from CPUID, whether IPv6 is
loaded, and the CPT flags the CPUID predicts for this generation next to the
ones the kernel reports. A difference reveals a CPUID mask or a drift.

  --json       print the record as JSON (schemaVersion 1; JSON Schema in
               vzcptcheck-profile.schema.json, see vzcptcheck(8)); vzcptsim
               accepts such a record as a node file
  -h, --help   print this help

Runs as any user and on machines without OpenVZ: what it cannot find out is
null in the JSON and "unknown" in the text, with the reason.

Exit status: 0 the record was printed; 1 bad arguments or no kernel facts.
`;

const LABEL = 16;
const line = (label: string, text: string): string => `${label.padEnd(LABEL)}${text}\n`;

/** Words joined into lines of at most `width` columns, indented under the labels. */
function wrap(words: readonly string[], width = 100): string {
  const lines: string[] = [];
  let cur = "";
  for (const w of words) {
    if (cur !== "" && LABEL + cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur === "" ? w : `${cur} ${w}`;
  }
  if (cur !== "") lines.push(cur);
  return lines.join(`\n${" ".repeat(LABEL)}`);
}

const known = (a: Answer, show: (v: number) => string): string =>
  a.value === null ? `unknown: ${a.error}` : show(a.value);

function text(r: ProfileRecord): string {
  const f = r.flags;
  let t = line("Node", r.hostname);
  t += line(
    "Kernel",
    `${r.kernel.sysname} ${r.kernel.release} ${r.kernel.machine} (${r.arch64 ? "64-bit" : "not x86_64"})`,
  );
  // A release we do not recognise is "not OpenVZ" only if the CPT devices are
  // silent too; a kernel that answers them is OpenVZ of an unknown generation.
  const answers = r.cpt.version.value !== null || r.cpt.caps.value !== null;
  const predictedFor = `flags below are predicted for ${f.generation}, the newest generation`;
  t += line(
    "OpenVZ",
    r.openvz
      ? `${r.openvz.generation} (${r.openvz.title})`
      : answers
        ? `unrecognised release, but CPT answers (${predictedFor})`
        : `not OpenVZ (${predictedFor})`,
  );
  t += line(
    "CPT version",
    known(r.cpt.version, (v) => `${v} (0x${v.toString(16)})`),
  );
  t += line(
    "CPT caps",
    known(r.cpt.caps, (v) => `${v} (0x${v.toString(16).padStart(8, "0")})`),
  );
  if (r.cpt.caps.kernelMessages !== "") {
    t += line("", `kernel said: ${r.cpt.caps.kernelMessages.trimEnd().replace(/\n/g, " / ")}`);
  }
  if (r.cpu) {
    const brand = r.cpu.brand ? `: ${r.cpu.brand}` : "";
    t += line(
      "CPU",
      `${r.cpu.vendor} family ${r.cpu.family} model ${r.cpu.model} stepping ${r.cpu.stepping}${brand}`,
    );
    t += line("CPU features", wrap(r.cpu.features));
  } else t += line("CPU", `unknown: ${r.cpuError}`);
  t += line("IPv6", r.ipv6.loaded ? `loaded (${r.ipv6.evidence} exists)` : "not loaded");
  const flagsText = (w: NonNullable<ProfileRecord["flags"]["predicted"]>) =>
    `${w.hex} (${w.value})\n${" ".repeat(LABEL)}${wrap(w.bits.map((b) => (b.defined ? b.name : `${b.name}(undefined)`)))}`;
  t += line("Flags predicted", f.predicted ? flagsText(f.predicted) : "unknown: no CPUID");
  t += line("Flags reported", f.reported ? flagsText(f.reported) : `unknown: ${r.cpt.caps.error}`);
  if (f.match !== null) {
    const list = (xs: readonly { name: string }[] | null) =>
      xs && xs.length > 0 ? xs.map((x) => x.name).join(" ") : "none";
    t += line(
      "Difference",
      f.match
        ? "none"
        : `predicted only: ${list(f.onlyPredicted)}; reported only: ${list(f.onlyReported)}`,
    );
  }
  t += line("Note", f.interpretation);
  if (r.unknown.length > 0) {
    t += "\nNot known on this machine:\n";
    for (const u of r.unknown) t += `  - ${u}\n`;
  }
  return t;
}

/** Run `vzcptcheck profile ARGS`; returns the exit code. */
export function runProfile(args: readonly string[], host: ProfileHost, out: Output): number {
  let json = false;
  for (const a of args) {
    if (a === "--help" || a === "-h") {
      out.stdout(PROFILE_HELP);
      return 0;
    }
  }
  for (const a of args) {
    if (a === "--json") json = true;
    else {
      out.stderr(
        `vzcptcheck profile: unexpected argument ${JSON.stringify(a)} (see vzcptcheck profile --help)\n`,
      );
      return 1;
    }
  }
  let record: ProfileRecord;
  try {
    record = collectProfile(host);
  } catch (e) {
    out.stderr(`vzcptcheck profile: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  out.stdout(json ? `${JSON.stringify(record, null, 2)}\n` : text(record));
  return 0;
}
