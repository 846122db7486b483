// Linux x86_64 errno numbers and glibc's strerror() texts in the C locale.
// The production CLI asks libc (through the native module); the simulator and
// tests use this table, which must say exactly what glibc says.

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOTTY = 25;
export const ENOSPC = 28;
export const EPIPE = 32;
export const ENOSYS = 38;
export const ECONNREFUSED = 111;

const TEXTS: Readonly<Record<number, string>> = {
  0: "Success",
  [EPERM]: "Operation not permitted",
  [ENOENT]: "No such file or directory",
  [ESRCH]: "No such process",
  [EINTR]: "Interrupted system call",
  [EIO]: "Input/output error",
  [ENXIO]: "No such device or address",
  [EBADF]: "Bad file descriptor",
  [EAGAIN]: "Resource temporarily unavailable",
  [ENOMEM]: "Cannot allocate memory",
  [EACCES]: "Permission denied",
  [EFAULT]: "Bad address",
  [EBUSY]: "Device or resource busy",
  [EEXIST]: "File exists",
  [ENODEV]: "No such device",
  [ENOTDIR]: "Not a directory",
  [EISDIR]: "Is a directory",
  [EINVAL]: "Invalid argument",
  [ENFILE]: "Too many open files in system",
  [EMFILE]: "Too many open files",
  [ENOTTY]: "Inappropriate ioctl for device",
  [ENOSPC]: "No space left on device",
  [EPIPE]: "Broken pipe",
  [ENOSYS]: "Function not implemented",
  [ECONNREFUSED]: "Connection refused",
};

/** glibc's strerror() in the C locale, for the errno values this table knows. */
export function strerrorC(errno: number): string {
  return TEXTS[errno] ?? `Unknown error ${errno}`;
}

/** Symbolic names, for reports and file formats ("ESRCH" <-> 3). */
export const ERRNO_BY_NAME: Readonly<Record<string, number>> = {
  EPERM,
  ENOENT,
  ESRCH,
  EINTR,
  EIO,
  ENXIO,
  EBADF,
  EAGAIN,
  ENOMEM,
  EACCES,
  EFAULT,
  EBUSY,
  EEXIST,
  ENODEV,
  ENOTDIR,
  EISDIR,
  EINVAL,
  ENFILE,
  EMFILE,
  ENOTTY,
  ENOSPC,
  EPIPE,
  ENOSYS,
  ECONNREFUSED,
};
