// The 32-bit CPT capability word: every bit's name, class, meaning and remedy.
// Which generation defines which bit is in generations.ts.

export type BitClass =
  | "isa" // instruction-set extension
  | "fpu" // FPU / extended register state
  | "abi" // system-call / execution ABI
  | "os" // an OS feature of the node (IPv6, namespaces, SLM)
  | "unsupported"; // a container feature the kernel cannot checkpoint

export const CLASS_TITLES: Readonly<Record<BitClass, string>> = {
  isa: "instruction-set extension",
  fpu: "FPU / register state",
  abi: "system-call ABI",
  os: "OS feature",
  unsupported: "unsupported container feature",
};

export interface CapBit {
  readonly bit: number;
  /** The kernel's own name where it prints one ("avx", "sse4_2"), else ours. */
  readonly name: string;
  readonly class: BitClass;
  readonly meaning: string;
  readonly remedy: string;
}

const CPU_REMEDY = "pick a destination whose CPU has it, or mask it on the source node";

export const CAP_BITS: readonly CapBit[] = [
  {
    bit: 0,
    name: "cmov",
    class: "isa",
    meaning: "conditional move instructions",
    remedy: CPU_REMEDY,
  },
  { bit: 1, name: "fxsr", class: "fpu", meaning: "FXSAVE/FXRSTOR FPU state", remedy: CPU_REMEDY },
  { bit: 2, name: "sse", class: "isa", meaning: "SSE instructions", remedy: CPU_REMEDY },
  { bit: 3, name: "sse2", class: "isa", meaning: "SSE2 instructions", remedy: CPU_REMEDY },
  { bit: 4, name: "mmx", class: "isa", meaning: "MMX instructions", remedy: CPU_REMEDY },
  { bit: 5, name: "3dnow", class: "isa", meaning: "AMD 3DNow! instructions", remedy: CPU_REMEDY },
  { bit: 6, name: "3dnowext", class: "isa", meaning: "AMD extended 3DNow!", remedy: CPU_REMEDY },
  {
    bit: 7,
    name: "sysenter",
    class: "abi",
    meaning: "SYSENTER system calls (Intel 32-bit vdso)",
    remedy: "migrate 32-bit containers between nodes of the same CPU vendor",
  },
  {
    bit: 8,
    name: "emt64",
    class: "abi",
    meaning: "64-bit mode (EM64T/AMD64)",
    remedy: "pick a node running a 64-bit kernel",
  },
  { bit: 9, name: "ia64", class: "abi", meaning: "Itanium", remedy: "pick an IA-64 node" },
  {
    bit: 10,
    name: "syscall",
    class: "abi",
    meaning: "SYSCALL system calls",
    remedy: "pick a destination whose CPU has SYSCALL",
  },
  {
    bit: 11,
    name: "syscall32",
    class: "abi",
    meaning: "SYSCALL from 32-bit code (AMD 32-bit vdso)",
    remedy: "migrate 32-bit containers between nodes of the same CPU vendor",
  },
  {
    bit: 12,
    name: "sep32",
    class: "abi",
    meaning: "SYSENTER from 32-bit code in a 64-bit kernel",
    remedy: "migrate 32-bit containers between nodes of the same CPU vendor",
  },
  { bit: 13, name: "sse4_1", class: "isa", meaning: "SSE4.1 instructions", remedy: CPU_REMEDY },
  { bit: 14, name: "sse4_2", class: "isa", meaning: "SSE4.2 instructions", remedy: CPU_REMEDY },
  { bit: 15, name: "sse4a", class: "isa", meaning: "AMD SSE4a instructions", remedy: CPU_REMEDY },
  {
    bit: 16,
    name: "external_process",
    class: "unsupported",
    meaning: "a process entered from the host (vzctl enter / vzctl exec) is inside the container",
    remedy: "end the vzctl enter/exec session, then retry",
  },
  {
    bit: 17,
    name: "namespaces",
    class: "os",
    meaning: "mount namespaces inside the container",
    remedy: "pick a destination whose kernel migrates mount namespaces (042stab)",
  },
  {
    bit: 18,
    name: "sched_policy",
    class: "unsupported",
    meaning: "a task uses a real-time scheduling policy",
    remedy: "switch the task to SCHED_OTHER (chrt -o) or stop it",
  },
  {
    bit: 19,
    name: "ptraced",
    class: "unsupported",
    meaning: "a task is ptraced from the host",
    remedy: "detach the debugger or tracer on the host",
  },
  {
    bit: 20,
    name: "unsupported_fs",
    class: "unsupported",
    meaning: "a mount of a filesystem that cannot be checkpointed",
    remedy: "unmount it inside the container",
  },
  {
    bit: 21,
    name: "bind_mount",
    class: "unsupported",
    meaning: "an unsupported bind mount",
    remedy: "remove the bind mount",
  },
  {
    bit: 22,
    name: "unsupported_netdev",
    class: "unsupported",
    meaning: "a network device that cannot be checkpointed",
    remedy: "remove the device from the container",
  },
  {
    bit: 23,
    name: "unsupported_misc",
    class: "unsupported",
    meaning: "an unsupported kernel feature in use (splice, keys, NUMA mempolicy...)",
    remedy: "stop the program using it",
  },
  {
    bit: 24,
    name: "slm_dmprst",
    class: "os",
    meaning: "SLM is enabled on the node without the slm_dmprst module",
    remedy: "load slm_dmprst on the destination",
  },
  { bit: 25, name: "xsave", class: "fpu", meaning: "XSAVE extended state", remedy: CPU_REMEDY },
  { bit: 26, name: "avx", class: "isa", meaning: "AVX instructions", remedy: CPU_REMEDY },
  { bit: 27, name: "aesni", class: "isa", meaning: "AES-NI instructions", remedy: CPU_REMEDY },
  {
    bit: 28,
    name: "no_ipv6",
    class: "os",
    meaning: "IPv6 is not loaded (on a node) / not used (in a container)",
    remedy: "load IPv6 on the source node, or pick a destination with IPv6 loaded",
  },
  { bit: 29, name: "rdrand", class: "isa", meaning: "RDRAND instruction", remedy: CPU_REMEDY },
];

export const BIT_BY_NAME: ReadonlyMap<string, CapBit> = new Map(CAP_BITS.map((b) => [b.name, b]));
export const BIT_BY_NUMBER: ReadonlyMap<number, CapBit> = new Map(CAP_BITS.map((b) => [b.bit, b]));

export const bitMask = (...names: string[]): number =>
  names.reduce((mask, name) => {
    const b = BIT_BY_NAME.get(name);
    if (!b) throw new Error(`unknown CPT bit name: ${name}`);
    return (mask | (1 << b.bit)) >>> 0;
  }, 0);

/** The bit numbers set in a 32-bit word, lowest first. */
export function bitsOf(word: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 32; i++) if ((word >>> i) & 1) out.push(i);
  return out;
}
