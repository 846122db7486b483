// How a simulated kernel is driven: the in-process device (sim/device.ts) and
// the node server (sim/server.ts, for the LD_PRELOAD forwarder) both talk to
// the kernel model through this and nothing else.

export interface IoctlAnswer {
  readonly ret: number;
  /** errno when ret < 0, else 0. */
  readonly errno: number;
  /**
   * Bytes the kernel writes into the error fd that CPT_SET_ERRORFD installed
   * (the end-of-request flush of the context's message buffer), and that fd.
   */
  readonly errorFd: number | null;
  readonly errorBytes: Uint8Array;
}

/** One open of /proc/cpt or /proc/rst. */
export interface KernelFile {
  /**
   * ioctl(request, arg). `fdIsValid` says whether an fd number is open in the
   * calling process (CPT_SET_ERRORFD answers EBADF otherwise).
   */
  ioctl(request: number, arg: number, fdIsValid: (fd: number) => boolean): IoctlAnswer;
  close(): void;
}

export type OpenAnswer = { readonly file: KernelFile } | { readonly errno: number };

export interface SimKernel {
  /** open(path, O_RDWR) by a process with effective uid `euid`. */
  open(path: string, euid: number): OpenAnswer;
}
