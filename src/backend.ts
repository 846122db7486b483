// The one seam between the CLI and "a kernel": the real one (native.ts, the
// N-API module) or a simulated one (sim/device.ts). Calls return C-style
// results: ret as the syscall returned it and errno when ret < 0 (else 0).

export interface SysResult {
  readonly ret: number;
  readonly errno: number;
}

export interface PipeResult extends SysResult {
  readonly readFd: number;
  readonly writeFd: number;
}

export interface Backend {
  /** open(path, O_RDWR). */
  open(path: string): SysResult;
  /** pipe() with O_NONBLOCK set on both ends. */
  pipe(): PipeResult;
  /** ioctl(fd, request, arg) with arg passed as a 32-bit C int. */
  ioctl(fd: number, request: number, arg: number): SysResult;
  /** Read fd in chunks of up to 4096 bytes until a read returns 0 or fails. */
  drain(fd: number): Uint8Array;
  close(fd: number): void;
  /** strerror(errno) in the C locale. */
  strerror(errno: number): string;
}

/** Where the flows write: stdout gets text, stderr text or raw kernel bytes. */
export interface Output {
  stdout(text: string): void;
  stderr(data: string | Uint8Array): void;
}
