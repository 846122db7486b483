/*
 * libvzcptsim.so: an LD_PRELOAD forwarder that hands a program's opens of
 * /proc/cpt and /proc/rst, and the ioctls on them, to a vzcptsim node server
 * (sim/server.ts) over a Unix socket named by $VZCPTSIM_SOCKET. All ioctl
 * logic lives in the TypeScript model; this file only forwards, so one model
 * answers both the in-process path and any real program.
 *
 * Wire protocol (version 1; all integers little-endian, fixed sizes; the same
 * text heads sim/server.ts):
 *   Each open of /proc/cpt or /proc/rst is one SOCK_STREAM connection; the
 *   connected socket itself is returned as the device fd, and closing it (its
 *   last fd) ends the kernel file.
 *   client -> server, 16 bytes each:
 *     u8 op, u8 version (1), u16 zero, u32 a, u32 b, u32 c
 *     OPEN  (op 1, first message, once): a = 0 for /proc/cpt, 1 for /proc/rst;
 *                                        b = geteuid(); c = open flags
 *     IOCTL (op 2): a = request; b = arg (the C int's 32-bit pattern);
 *                   c = bit 0: arg is an open fd in the caller (only tested
 *                   for CPT_SET_ERRORFD, otherwise 0)
 *   server -> client:
 *     OPEN reply,  8 bytes: i32 ret (0 or -1), i32 errno
 *     IOCTL reply, 12 bytes + n: i32 ret, i32 errno, u32 n, then n bytes the
 *                  kernel wrote into the error fd CPT_SET_ERRORFD installed
 *   A connection whose first byte is '{' is a control connection instead:
 *   JSON lines, one request and one reply per line (see sim/server.ts).
 *
 * The kernel's reference to the error fd: after a successful CPT_SET_ERRORFD
 * the fd is dup()ed and kept with the device fd (replacing an earlier one), so
 * the pipe stays writable after the program closes its write end, as with the
 * real kernel; error bytes are written there (a full non-blocking pipe drops
 * them, as a kernel write would) and the dup is closed with the device file.
 * The dup is checked by identity too before each use: a program that closes
 * it behind our back (closefrom) loses the error bytes, and a file that got
 * its number never receives them.
 *
 * read() and write() on a device fd never reach the socket: they are answered
 * here as the kernel's proc file does. The cpt and rst modules keep procfs's
 * generic read and write for their entries: read is the legacy read_proc,
 * which lists the live contexts under a head line; write has no write_proc
 * and fails with EIO. So a read gets the head line and then end of file (live
 * contexts are not listed); a write fails with EIO; either on an fd opened
 * without that access fails with EBADF, as the VFS checks that first.
 *
 * Device fds are known by the socket's identity (st_dev, st_ino), not by fd
 * number: a dup of a device fd (`echo x > /proc/cpt` in a shell dup2()s it to
 * fd 1) is the same device file, and dup2()/dup3()/close_range()/closefrom()
 * (or any close we do not see) can replace or close a device fd and let its
 * number name an unrelated file. So ioctl, read and write fstat() the fd and
 * treat it as a device only if it is one of the table's sockets; anything
 * else passes through to libc untouched. An entry whose fd number turns out
 * to name something else (seen there, at an open returning that number, at
 * close, or when the table is full) moves to another fd of the same socket
 * found in /proc/self/fd, or is forgotten when there is none; so is an entry
 * whose fd is closed. Device fds inherited through execve (`cat < /proc/cpt`)
 * are found at start-up the same way: sockets connected to $VZCPTSIM_SOCKET.
 *
 * Probe: with VZCPTSIM_PROBE=1 in the environment the constructor writes
 * PROBE_MARKER to fd 1, so vzcptsim can prove that ld.so really preloads this
 * file (a noexec directory makes ld.so ignore it with only a warning).
 *
 * Not thread-safe (vzcptcheck is single-threaded); a table of MAX_DEVICES
 * entries holds the device fds. Everything else passes straight to the next
 * definition.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define PROTO_VERSION 1
#define OP_OPEN 1
#define OP_IOCTL 2
#define MAX_DEVICES 32
/* _IOW('-', 21, int): the request whose arg is an fd the kernel keeps. */
#define CPT_SET_ERRORFD 0x40042d15u
/* What the probe writes (sim/preload-file.ts expects exactly this). */
#define PROBE_MARKER "libvzcptsim.so: preloaded, protocol 1\n"
/* The head line of the kernel's context listing, all a read returns here. */
static const char LISTING_HEAD[] = "Ctx      Id       VE       State\n";

/* One open device file (one connection). Any fd referring to its socket (the
 * one open returned, or a dup) is a device fd; `fd` is one of them. */
struct device {
  int fd;       /* home: an fd of the socket, at first the one open returned; -1 = free slot */
  int error_fd; /* our dup of the CPT_SET_ERRORFD fd, or -1 */
  dev_t err_dev; /* its identity: the program may close it (closefrom) and reuse the number */
  ino_t err_ino;
  int accmode;  /* O_RDONLY, O_WRONLY or O_RDWR as opened */
  dev_t st_dev; /* the socket's identity, to tell a reused fd number */
  ino_t st_ino;
  size_t pos; /* read position in LISTING_HEAD */
};

static struct device devices[MAX_DEVICES];
static int devices_ready;
static int devices_used; /* entries in use: 0 lets read/write skip the table */

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef int (*close_fn)(int);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*read_chk_fn)(int, void *, size_t, size_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);

static open_fn real_open, real_open64;
static openat_fn real_openat, real_openat64;
static open2_fn real___open_2, real___open64_2;
static ioctl_fn real_ioctl;
static close_fn real_close;
static read_fn real_read;
static read_chk_fn real___read_chk;
static write_fn real_write;

extern void __chk_fail(void) __attribute__((noreturn));

/* dlsym through a union: ISO C forbids casting object pointers to functions. */
static void *next_symbol(const char *name) { return dlsym(RTLD_NEXT, name); }

#define RESOLVE(var, type, name)                                                                   \
  do {                                                                                             \
    if (!(var)) {                                                                                  \
      union {                                                                                      \
        void *p;                                                                                   \
        type f;                                                                                    \
      } u_;                                                                                        \
      u_.p = next_symbol(name);                                                                    \
      (var) = u_.f;                                                                                \
    }                                                                                              \
  } while (0)

static void resolve_all(void) {
  RESOLVE(real_open, open_fn, "open");
  RESOLVE(real_open64, open_fn, "open64");
  RESOLVE(real_openat, openat_fn, "openat");
  RESOLVE(real_openat64, openat_fn, "openat64");
  RESOLVE(real___open_2, open2_fn, "__open_2");
  RESOLVE(real___open64_2, open2_fn, "__open64_2");
  RESOLVE(real_ioctl, ioctl_fn, "ioctl");
  RESOLVE(real_close, close_fn, "close");
  RESOLVE(real_read, read_fn, "read");
  RESOLVE(real___read_chk, read_chk_fn, "__read_chk");
  RESOLVE(real_write, write_fn, "write");
}

/* write(2) without going through our own write(). */
static void write_raw(int fd, const char *buf, size_t len) {
  RESOLVE(real_write, write_fn, "write");
  while (real_write && len > 0) {
    ssize_t n = real_write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buf += n;
    len -= (size_t)n;
  }
}

/* 0 for /proc/cpt, 1 for /proc/rst, -1 for any other path. */
static int device_kind(const char *path) {
  if (!path) return -1;
  if (strcmp(path, "/proc/cpt") == 0) return 0;
  if (strcmp(path, "/proc/rst") == 0) return 1;
  return -1;
}

static int close_quietly(int fd) {
  int saved = errno;
  RESOLVE(real_close, close_fn, "close");
  int r = real_close ? real_close(fd) : -1;
  errno = saved;
  return r;
}

/* fstat without disturbing errno; 0 on success. */
static int identity(int fd, struct stat *st) {
  int saved = errno;
  int r = fd < 0 ? -1 : fstat(fd, st);
  errno = saved;
  return r;
}

static int same_file(const struct device *dev, const struct stat *st) {
  return dev->fd >= 0 && st->st_dev == dev->st_dev && st->st_ino == dev->st_ino;
}

/* The open device file this fd refers to (itself or through a dup). */
static struct device *find_identity(const struct stat *st) {
  for (int i = 0; i < MAX_DEVICES; i++)
    if (same_file(&devices[i], st)) return &devices[i];
  return NULL;
}

/* The entry whose home fd has this number, stale or not. */
static struct device *find_home(int fd) {
  if (fd < 0 || devices_used == 0) return NULL;
  for (int i = 0; i < MAX_DEVICES; i++)
    if (devices[i].fd == fd) return &devices[i];
  return NULL;
}

/* The kept error fd, or -1 when the program has closed it behind our back
 * (closefrom(), close_range()): its number may name one of its files now. */
static int error_fd_of(struct device *dev) {
  struct stat st;
  if (dev->error_fd >= 0 && (identity(dev->error_fd, &st) < 0 || st.st_dev != dev->err_dev ||
                             st.st_ino != dev->err_ino))
    dev->error_fd = -1;
  return dev->error_fd;
}

/* The last fd of a device file is gone: forget it, and let go of the error fd
 * as the kernel does when the file is released. */
static void drop(struct device *dev) {
  if (error_fd_of(dev) >= 0) close_quietly(dev->error_fd);
  dev->fd = -1;
  dev->error_fd = -1;
  devices_used--;
}

/* Call visit(fd, ctx) for each open fd of this process (from /proc/self/fd,
 * read with raw system calls: no allocation, no interposed call) until it
 * returns nonzero; returns that value, or 0. Without /proc it visits none. */
struct dirent64_raw {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static int each_fd(int (*visit)(int fd, void *ctx), void *ctx) {
  int saved = errno;
  int dir = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int found = 0;
  if (dir < 0) {
    errno = saved;
    return 0;
  }
  for (;;) {
    char buf[2048] __attribute__((aligned(8)));
    long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n && !found;) {
      const struct dirent64_raw *d = (const struct dirent64_raw *)(buf + off);
      off += d->d_reclen;
      char *end;
      long fd = strtol(d->d_name, &end, 10);
      if (end != d->d_name && *end == '\0' && fd != dir) found = visit((int)fd, ctx);
    }
    if (found) break;
  }
  syscall(SYS_close, dir);
  errno = saved;
  return found;
}

static int rehome_visit(int fd, void *ctx) {
  struct device *dev = ctx;
  struct stat st;
  if (identity(fd, &st) == 0 && st.st_dev == dev->st_dev && st.st_ino == dev->st_ino) {
    dev->fd = fd;
    return 1;
  }
  return 0;
}

/* The entry's home fd no longer refers to its file: move home to another fd
 * that does (a dup), or forget the entry when there is none. */
static void rehome_or_drop(struct device *dev) {
  if (!each_fd(rehome_visit, dev)) drop(dev);
}

/* The device file fd refers to, or NULL. One fstat; an entry whose home fd
 * turns out to be reused for something else (even another device's dup) is
 * fixed on the way. */
static struct device *device_of(int fd) {
  struct stat st;
  if (!devices_ready || devices_used == 0 || identity(fd, &st) < 0) return NULL;
  struct device *dev = find_identity(&st);
  struct device *home = find_home(fd);
  if (home && home != dev) rehome_or_drop(home);
  return dev;
}

/* A new fd with this number exists: an entry at home there is stale. */
static void forget_fd(int fd) {
  struct device *stale = find_home(fd);
  if (stale) rehome_or_drop(stale);
}

static struct device *free_slot(void) {
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < MAX_DEVICES; i++)
      if (devices[i].fd < 0) return &devices[i];
    for (int i = 0; i < MAX_DEVICES; i++) { /* full: sweep out stale entries */
      struct stat st;
      if (devices[i].fd < 0) continue;
      if (identity(devices[i].fd, &st) < 0 || !same_file(&devices[i], &st))
        rehome_or_drop(&devices[i]);
    }
  }
  return NULL;
}

static struct device *install(int fd, const struct stat *st, int accmode) {
  struct device *slot = free_slot();
  if (!slot) return NULL;
  slot->fd = fd;
  slot->error_fd = -1;
  slot->accmode = accmode;
  slot->st_dev = st->st_dev;
  slot->st_ino = st->st_ino;
  slot->pos = 0;
  devices_used++;
  return slot;
}

/* A device fd inherited through execve (say `cat < /proc/cpt`: the shell
 * opened it) is a socket connected to $VZCPTSIM_SOCKET: adopt it, so that it
 * is not read as a raw socket. Its access mode, read position and error fd
 * stayed with the old program: taken as O_RDWR, 0 and none. */
static int adopt_visit(int fd, void *ctx) {
  const char *path = ctx;
  struct stat st;
  struct sockaddr_un peer;
  socklen_t len = sizeof peer;
  if (identity(fd, &st) < 0 || !S_ISSOCK(st.st_mode) || find_identity(&st)) return 0;
  memset(&peer, 0, sizeof peer);
  if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0 || peer.sun_family != AF_UNIX) return 0;
  if (len <= offsetof(struct sockaddr_un, sun_path)) return 0;
  if (strncmp(peer.sun_path, path, sizeof peer.sun_path) == 0) install(fd, &st, O_RDWR);
  return 0;
}

__attribute__((constructor)) static void init(void) {
  int saved = errno;
  for (int i = 0; i < MAX_DEVICES; i++) {
    devices[i].fd = -1;
    devices[i].error_fd = -1;
  }
  devices_ready = 1;
  resolve_all();
  const char *probe = getenv("VZCPTSIM_PROBE");
  if (probe && strcmp(probe, "1") == 0) {
    write_raw(1, PROBE_MARKER, sizeof PROBE_MARKER - 1);
    unsetenv("VZCPTSIM_PROBE"); /* the probe's own children stay quiet */
  }
  const char *socket_path = getenv("VZCPTSIM_SOCKET");
  if (socket_path && *socket_path) each_fd(adopt_visit, (void *)socket_path);
  errno = saved;
}

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int send_all(int fd, const unsigned char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static int recv_all(int fd, unsigned char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = recv(fd, buf, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1; /* error or the server went away */
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static int send_message(int fd, unsigned op, uint32_t a, uint32_t b, uint32_t c) {
  unsigned char msg[16] = {(unsigned char)op, PROTO_VERSION, 0, 0};
  put_u32(msg + 4, a);
  put_u32(msg + 8, b);
  put_u32(msg + 12, c);
  return send_all(fd, msg, sizeof msg);
}

/* One line on stderr, written directly: stdio may not be usable here. */
static void complain(const char *path, const char *why) {
  char line[512];
  int n = snprintf(line, sizeof line, "libvzcptsim: cannot reach node server at %s: %s\n", path,
                   why);
  if (n > 0) write_raw(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Open a simulated device: one connection to the node server per open. */
static int device_open(int kind, int flags) {
  const char *path = getenv("VZCPTSIM_SOCKET");
  struct sockaddr_un addr;
  struct stat st;
  int fd;

  resolve_all();
  if (!free_slot()) {
    errno = EMFILE;
    return -1;
  }
  if (!path || !*path) {
    complain("$VZCPTSIM_SOCKET", "variable not set");
    errno = ENOENT;
    return -1;
  }
  if (strlen(path) >= sizeof addr.sun_path) {
    complain(path, "socket path too long");
    errno = ENOENT;
    return -1;
  }
  fd = socket(AF_UNIX, SOCK_STREAM | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0), 0);
  if (fd < 0) {
    complain(path, strerror(errno));
    errno = ENOENT;
    return -1;
  }
  forget_fd(fd); /* the number was a device fd closed behind our back */
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, strlen(path) + 1);
  int r;
  do {
    r = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  } while (r < 0 && errno == EINTR);
  unsigned char reply[8];
  if (r < 0 || send_message(fd, OP_OPEN, (uint32_t)kind, (uint32_t)geteuid(), (uint32_t)flags) < 0 ||
      recv_all(fd, reply, sizeof reply) < 0 || fstat(fd, &st) < 0) {
    complain(path, r < 0 ? strerror(errno) : "connection closed by the server");
    close_quietly(fd);
    errno = ENOENT;
    return -1;
  }
  int ret = (int)get_u32(reply);
  int err = (int)get_u32(reply + 4);
  if (ret < 0) {
    close_quietly(fd);
    errno = err;
    return -1;
  }
  install(fd, &st, flags & O_ACCMODE); /* a slot is free: checked above */
  return fd;
}

/* Write the kernel's error bytes to the kept error fd, as the kernel would. */
static void write_error_bytes(int error_fd, const unsigned char *buf, size_t len) {
  if (error_fd >= 0) write_raw(error_fd, (const char *)buf, len);
}

/* An ioctl on fd (the device's home fd or a dup of it: the same connection). */
static int device_ioctl(struct device *dev, int fd, unsigned long request, int arg) {
  uint32_t fd_valid = 0;
  if (request == CPT_SET_ERRORFD) fd_valid = fcntl(arg, F_GETFD) != -1;
  unsigned char head[12];
  if (send_message(fd, OP_IOCTL, (uint32_t)request, (uint32_t)arg, fd_valid) < 0 ||
      recv_all(fd, head, sizeof head) < 0) {
    errno = EIO; /* the node server went away */
    return -1;
  }
  int ret = (int)get_u32(head);
  int err = (int)get_u32(head + 4);
  uint32_t left = get_u32(head + 8);
  if (request == CPT_SET_ERRORFD && ret >= 0 && fd_valid) {
    int kept = fcntl(arg, F_DUPFD_CLOEXEC, 0);
    struct stat st;
    if (kept >= 0 && identity(kept, &st) == 0) {
      if (error_fd_of(dev) >= 0) close_quietly(dev->error_fd);
      dev->error_fd = kept;
      dev->err_dev = st.st_dev;
      dev->err_ino = st.st_ino;
    } else if (kept >= 0) {
      close_quietly(kept);
    }
  }
  while (left > 0) {
    unsigned char chunk[4096];
    size_t n = left < sizeof chunk ? left : sizeof chunk;
    if (recv_all(fd, chunk, n) < 0) {
      errno = EIO;
      return -1;
    }
    write_error_bytes(error_fd_of(dev), chunk, n);
    left -= (uint32_t)n;
  }
  if (ret < 0) errno = err;
  return ret;
}

/* The proc file's read: the listing's head line, then end of file. */
static ssize_t device_read(struct device *dev, void *buf, size_t count) {
  if (dev->accmode == O_WRONLY) {
    errno = EBADF;
    return -1;
  }
  size_t left = sizeof LISTING_HEAD - 1 - dev->pos;
  size_t n = count < left ? count : left;
  memcpy(buf, LISTING_HEAD + dev->pos, n);
  dev->pos += n;
  return (ssize_t)n;
}

/* The proc file has no write handler: EIO (EBADF if not opened for writing). */
static ssize_t device_write(const struct device *dev) {
  errno = dev->accmode == O_RDONLY ? EBADF : EIO;
  return -1;
}

static int mode_arg(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

/* A pass-through open's result: a number still in the table is stale there. */
static int opened(int fd) {
  if (fd >= 0) forget_fd(fd);
  return fd;
}

int open(const char *path, int flags, ...) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  va_list ap;
  va_start(ap, flags);
  int mode = mode_arg(flags, ap);
  va_end(ap);
  RESOLVE(real_open, open_fn, "open");
  return opened(real_open(path, flags, mode));
}

int open64(const char *path, int flags, ...) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  va_list ap;
  va_start(ap, flags);
  int mode = mode_arg(flags, ap);
  va_end(ap);
  RESOLVE(real_open64, open_fn, "open64");
  return opened(real_open64(path, flags, mode));
}

/* An absolute path ignores dirfd, so "/proc/cpt" is the device here too. */
int openat(int dirfd, const char *path, int flags, ...) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  va_list ap;
  va_start(ap, flags);
  int mode = mode_arg(flags, ap);
  va_end(ap);
  RESOLVE(real_openat, openat_fn, "openat");
  return opened(real_openat(dirfd, path, flags, mode));
}

int openat64(int dirfd, const char *path, int flags, ...) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  va_list ap;
  va_start(ap, flags);
  int mode = mode_arg(flags, ap);
  va_end(ap);
  RESOLVE(real_openat64, openat_fn, "openat64");
  return opened(real_openat64(dirfd, path, flags, mode));
}

/* _FORTIFY_SOURCE's checked variants. */
int __open_2(const char *path, int flags) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  RESOLVE(real___open_2, open2_fn, "__open_2");
  return opened(real___open_2(path, flags));
}

int __open64_2(const char *path, int flags) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  RESOLVE(real___open64_2, open2_fn, "__open64_2");
  return opened(real___open64_2(path, flags));
}

int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  struct device *dev = device_of(fd);
  /* The int the caller passed is the low 32 bits of the register. */
  if (dev) return device_ioctl(dev, fd, request, (int)(intptr_t)arg);
  RESOLVE(real_ioctl, ioctl_fn, "ioctl");
  return real_ioctl(fd, request, arg);
}

/* read and write cost one counter test while no device is open, one fstat
 * while one is. */
ssize_t read(int fd, void *buf, size_t count) {
  struct device *dev = device_of(fd);
  if (dev) return device_read(dev, buf, count);
  RESOLVE(real_read, read_fn, "read");
  return real_read(fd, buf, count);
}

/* _FORTIFY_SOURCE's read. */
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen) {
  struct device *dev = device_of(fd);
  if (dev) {
    if (count > buflen) __chk_fail();
    return device_read(dev, buf, count);
  }
  RESOLVE(real___read_chk, read_chk_fn, "__read_chk");
  return real___read_chk(fd, buf, count, buflen);
}

ssize_t write(int fd, const void *buf, size_t count) {
  struct device *dev = device_of(fd);
  if (dev) return device_write(dev);
  RESOLVE(real_write, write_fn, "write");
  return real_write(fd, buf, count);
}

/* The close itself always goes to libc. Closing a device's home fd moves its
 * home to a dup, or forgets the device when none is left (the kernel releases
 * the file at its last close); a stale entry at home there goes the same way. */
int close(int fd) {
  RESOLVE(real_close, close_fn, "close");
  struct device *home = find_home(fd);
  int r = real_close(fd);
  if (home) {
    int saved = errno;
    rehome_or_drop(home);
    errno = saved;
  }
  return r;
}
