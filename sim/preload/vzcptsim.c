/*
 * libvzcptsim.so: an LD_PRELOAD forwarder that hands a program's opens of
 * /proc/cpt and /proc/rst, and the ioctls on them, to a vzcptsim node server
 * (sim/server.ts) over a Unix socket named by $VZCPTSIM_SOCKET. All kernel
 * logic lives in the TypeScript model; this file only forwards, so one model
 * answers both the in-process path and any real program.
 *
 * Wire protocol (version 1; all integers little-endian, fixed sizes; the same
 * text heads sim/server.ts):
 *   Each open of /proc/cpt or /proc/rst is one SOCK_STREAM connection; the
 *   connected socket itself is returned as the device fd, and closing it ends
 *   the kernel file.
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
 * them, as a kernel write would) and the dup is closed with the device fd.
 *
 * Not thread-safe (vzcptcheck is single-threaded); a small fixed table holds
 * the device fds. Everything else passes straight to the next definition.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define PROTO_VERSION 1
#define OP_OPEN 1
#define OP_IOCTL 2
#define MAX_DEVICES 32
/* _IOW('-', 21, int): the request whose arg is an fd the kernel keeps. */
#define CPT_SET_ERRORFD 0x40042d15u

struct device {
  int fd;       /* the socket, returned as the device fd; -1 = free slot */
  int error_fd; /* our dup of the CPT_SET_ERRORFD fd, or -1 */
};

static struct device devices[MAX_DEVICES];
static int devices_ready;

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef int (*close_fn)(int);

static open_fn real_open, real_open64;
static openat_fn real_openat, real_openat64;
static open2_fn real___open_2, real___open64_2;
static ioctl_fn real_ioctl;
static close_fn real_close;

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
}

__attribute__((constructor)) static void init(void) {
  for (int i = 0; i < MAX_DEVICES; i++) {
    devices[i].fd = -1;
    devices[i].error_fd = -1;
  }
  devices_ready = 1;
  resolve_all();
}

static struct device *find_device(int fd) {
  if (fd < 0 || !devices_ready) return NULL;
  for (int i = 0; i < MAX_DEVICES; i++)
    if (devices[i].fd == fd) return &devices[i];
  return NULL;
}

/* 0 for /proc/cpt, 1 for /proc/rst, -1 for any other path. */
static int device_kind(const char *path) {
  if (!path) return -1;
  if (strcmp(path, "/proc/cpt") == 0) return 0;
  if (strcmp(path, "/proc/rst") == 0) return 1;
  return -1;
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
  if (n > 0) {
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    ssize_t w = write(2, line, len);
    (void)w;
  }
}

static int close_quietly(int fd) {
  int saved = errno;
  int r = real_close ? real_close(fd) : -1;
  errno = saved;
  return r;
}

/* Open a simulated device: one connection to the node server per open. */
static int device_open(int kind, int flags) {
  struct device *slot = NULL;
  const char *path = getenv("VZCPTSIM_SOCKET");
  struct sockaddr_un addr;
  int fd;

  resolve_all();
  for (int i = 0; i < MAX_DEVICES && !slot; i++)
    if (devices[i].fd < 0) slot = &devices[i];
  if (!slot) {
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
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, strlen(path) + 1);
  int r;
  do {
    r = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  } while (r < 0 && errno == EINTR);
  unsigned char reply[8];
  if (r < 0 || send_message(fd, OP_OPEN, (uint32_t)kind, (uint32_t)geteuid(), (uint32_t)flags) < 0 ||
      recv_all(fd, reply, sizeof reply) < 0) {
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
  slot->fd = fd;
  slot->error_fd = -1;
  return fd;
}

/* Write the kernel's error bytes to the kept error fd, as the kernel would. */
static void write_error_bytes(int error_fd, const unsigned char *buf, size_t len) {
  while (error_fd >= 0 && len > 0) {
    ssize_t n = write(error_fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; /* EAGAIN (full pipe) or a broken fd: the bytes are lost */
    buf += n;
    len -= (size_t)n;
  }
}

static int device_ioctl(struct device *dev, unsigned long request, int arg) {
  uint32_t fd_valid = 0;
  if (request == CPT_SET_ERRORFD) fd_valid = fcntl(arg, F_GETFD) != -1;
  unsigned char head[12];
  if (send_message(dev->fd, OP_IOCTL, (uint32_t)request, (uint32_t)arg, fd_valid) < 0 ||
      recv_all(dev->fd, head, sizeof head) < 0) {
    errno = EIO; /* the node server went away */
    return -1;
  }
  int ret = (int)get_u32(head);
  int err = (int)get_u32(head + 4);
  uint32_t left = get_u32(head + 8);
  if (request == CPT_SET_ERRORFD && ret >= 0 && fd_valid) {
    int kept = fcntl(arg, F_DUPFD_CLOEXEC, 0);
    if (kept >= 0) {
      if (dev->error_fd >= 0) close_quietly(dev->error_fd);
      dev->error_fd = kept;
    }
  }
  while (left > 0) {
    unsigned char chunk[4096];
    size_t n = left < sizeof chunk ? left : sizeof chunk;
    if (recv_all(dev->fd, chunk, n) < 0) {
      errno = EIO;
      return -1;
    }
    write_error_bytes(dev->error_fd, chunk, n);
    left -= (uint32_t)n;
  }
  if (ret < 0) errno = err;
  return ret;
}

static int mode_arg(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  va_list ap;
  va_start(ap, flags);
  int mode = mode_arg(flags, ap);
  va_end(ap);
  RESOLVE(real_open, open_fn, "open");
  return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  va_list ap;
  va_start(ap, flags);
  int mode = mode_arg(flags, ap);
  va_end(ap);
  RESOLVE(real_open64, open_fn, "open64");
  return real_open64(path, flags, mode);
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
  return real_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  va_list ap;
  va_start(ap, flags);
  int mode = mode_arg(flags, ap);
  va_end(ap);
  RESOLVE(real_openat64, openat_fn, "openat64");
  return real_openat64(dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE's checked variants. */
int __open_2(const char *path, int flags) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  RESOLVE(real___open_2, open2_fn, "__open_2");
  return real___open_2(path, flags);
}

int __open64_2(const char *path, int flags) {
  int kind = device_kind(path);
  if (kind >= 0) return device_open(kind, flags);
  RESOLVE(real___open64_2, open2_fn, "__open64_2");
  return real___open64_2(path, flags);
}

int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  struct device *dev = find_device(fd);
  /* The int the caller passed is the low 32 bits of the register. */
  if (dev) return device_ioctl(dev, request, (int)(intptr_t)arg);
  RESOLVE(real_ioctl, ioctl_fn, "ioctl");
  return real_ioctl(fd, request, arg);
}

int close(int fd) {
  struct device *dev = find_device(fd);
  RESOLVE(real_close, close_fn, "close");
  if (dev) {
    if (dev->error_fd >= 0) close_quietly(dev->error_fd);
    dev->fd = -1;
    dev->error_fd = -1;
  }
  return real_close(fd);
}
