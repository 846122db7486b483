/*
 * vzcpt.node: the thin native layer of vzcptcheck.
 *
 * Only syscalls, libc and CPUID, no policy: every rule about what to open,
 * which request to send and what to print lives in TypeScript (src/modes.ts).
 * Each call returns what C would see: the syscall's return value and the errno
 * read right after it (0 when the call succeeded).
 *
 * Calls go through libc (open, ioctl, ...), never raw syscalls, so that an
 * LD_PRELOAD interposer (the simulator's libvzcptsim.so) can catch them.
 *
 * node-gyp compiles with -D_FILE_OFFSET_BITS=64. On x86_64 that changes no
 * type (off_t is 64-bit anyway), only symbol names: open -> open64 and, with
 * glibc >= 2.28 headers, fcntl -> fcntl64@GLIBC_2.28, which would make the
 * addon refuse to load on older nodes (CentOS 7 has glibc 2.17, as does the
 * Bun runtime's own floor). Undefining it keeps the plain names: open, fcntl.
 */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HAVE_CPUID 1
#else
#define HAVE_CPUID 0
#endif

#include <node_api.h>

#define DRAIN_CHUNK 4096

/* Bail out of a callback (returning NULL = undefined) when a N-API call fails;
 * N-API leaves a pending exception for the caller in that case. */
#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) != napi_ok) return NULL;                                                            \
  } while (0)

/* ---- argument helpers --------------------------------------------------- */

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  if (argc < want) {
    napi_throw_type_error(env, NULL, "vzcpt: missing argument");
    return -1;
  }
  return 0;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "vzcpt: expected a number");
    return -1;
  }
  return 0;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "vzcpt: expected a number");
    return -1;
  }
  return 0;
}

/* A freshly malloc'ed NUL-terminated copy of a JS string; NULL (with a pending
 * exception) when it is not a string or holds a NUL byte. */
static char *get_cstring(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "vzcpt: expected a string");
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    napi_throw_error(env, NULL, "vzcpt: out of memory");
    return NULL;
  }
  size_t copied = 0;
  if (napi_get_value_string_utf8(env, v, s, len + 1, &copied) != napi_ok) {
    free(s);
    return NULL;
  }
  if (strlen(s) != copied) { /* an embedded NUL would silently shorten the path */
    free(s);
    napi_throw_type_error(env, NULL, "vzcpt: string contains a NUL byte");
    return NULL;
  }
  return s;
}

/* ---- result helpers ----------------------------------------------------- */

static int set_i32(napi_env env, napi_value obj, const char *key, int32_t n) {
  napi_value v;
  if (napi_create_int32(env, n, &v) != napi_ok) return -1;
  return napi_set_named_property(env, obj, key, v) == napi_ok ? 0 : -1;
}

static int set_u32(napi_env env, napi_value obj, const char *key, uint32_t n) {
  napi_value v;
  if (napi_create_uint32(env, n, &v) != napi_ok) return -1;
  return napi_set_named_property(env, obj, key, v) == napi_ok ? 0 : -1;
}

static int set_str(napi_env env, napi_value obj, const char *key, const char *s) {
  napi_value v;
  if (napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v) != napi_ok) return -1;
  return napi_set_named_property(env, obj, key, v) == napi_ok ? 0 : -1;
}

/* {ret, errno}: errno is 0 whenever ret >= 0. */
static napi_value sys_result(napi_env env, int ret, int err) {
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  if (set_i32(env, obj, "ret", ret) < 0) return NULL;
  if (set_i32(env, obj, "errno", ret < 0 ? err : 0) < 0) return NULL;
  return obj;
}

/* ---- syscalls ------------------------------------------------------------ */

/* open(path) -> {ret, errno}: O_RDWR and nothing else, as the original did. */
static napi_value js_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv) < 0) return NULL;
  char *path = get_cstring(env, argv[0]);
  if (path == NULL) return NULL;
  int fd = open(path, O_RDWR);
  int err = errno;
  free(path);
  return sys_result(env, fd, err);
}

/* pipe() -> {ret, errno, readFd, writeFd}, both ends O_NONBLOCK: the kernel
 * must never block writing into it, and draining stops at "nothing left". */
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2] = {-1, -1};
  int ret = pipe(fds);
  int err = errno;
  for (int i = 0; ret == 0 && i < 2; i++) {
    int flags = fcntl(fds[i], F_GETFL);
    if (flags < 0 || fcntl(fds[i], F_SETFL, flags | O_NONBLOCK) < 0) {
      err = errno;
      close(fds[0]);
      close(fds[1]);
      fds[0] = fds[1] = -1;
      ret = -1;
    }
  }
  napi_value obj = sys_result(env, ret, err);
  if (obj == NULL) return NULL;
  if (set_i32(env, obj, "readFd", fds[0]) < 0) return NULL;
  if (set_i32(env, obj, "writeFd", fds[1]) < 0) return NULL;
  return obj;
}

/* ioctl(fd, request, arg) -> {ret, errno}; arg goes through the varargs as a
 * C int, exactly as the original passed it. */
static napi_value js_ioctl(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, arg;
  uint32_t request;
  if (get_args(env, info, 3, argv) < 0) return NULL;
  if (get_i32(env, argv[0], &fd) < 0 || get_u32(env, argv[1], &request) < 0 ||
      get_i32(env, argv[2], &arg) < 0)
    return NULL;
  int ret = ioctl(fd, (unsigned long)request, (int)arg);
  int err = errno;
  return sys_result(env, ret, err);
}

/* drain(fd) -> Buffer: read chunks of up to 4096 bytes until read() returns 0
 * or fails (EAGAIN on an empty non-blocking pipe included). */
static napi_value js_drain(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (get_args(env, info, 1, argv) < 0 || get_i32(env, argv[0], &fd) < 0) return NULL;
  char *data = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (cap - len < DRAIN_CHUNK) {
      size_t ncap = cap == 0 ? DRAIN_CHUNK : cap * 2;
      char *n = realloc(data, ncap);
      if (n == NULL) break; /* keep what we have: the bytes are advisory text */
      data = n;
      cap = ncap;
    }
    ssize_t r = read(fd, data + len, DRAIN_CHUNK);
    if (r <= 0) break;
    len += (size_t)r;
  }
  napi_value buf;
  napi_status st = napi_create_buffer_copy(env, len, len ? data : "", NULL, &buf);
  free(data);
  return st == napi_ok ? buf : NULL;
}

/* close(fd) -> its return value. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  int32_t fd;
  if (get_args(env, info, 1, argv) < 0 || get_i32(env, argv[0], &fd) < 0) return NULL;
  CHECK(napi_create_int32(env, close(fd), &out));
  return out;
}

/* write(fd, bytes) -> {ret, errno}: one write(2) of a Uint8Array/Buffer;
 * the caller loops over short writes. */
static napi_value js_write(napi_env env, napi_callback_info info) {
  napi_value argv[2], ab;
  int32_t fd;
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  bool is_ta = false;
  if (get_args(env, info, 2, argv) < 0 || get_i32(env, argv[0], &fd) < 0) return NULL;
  CHECK(napi_is_typedarray(env, argv[1], &is_ta));
  if (!is_ta) {
    napi_throw_type_error(env, NULL, "vzcpt: expected a Uint8Array");
    return NULL;
  }
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &length, &data, &ab, &offset));
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "vzcpt: expected a Uint8Array");
    return NULL;
  }
  ssize_t r = write(fd, data, length);
  int err = errno;
  return sys_result(env, (int)r, err);
}

/* strerror(errno) -> glibc's text in the C locale, whatever the process's
 * locale is (the contract's messages are the C locale's). */
static napi_value js_strerror(napi_env env, napi_callback_info info) {
  static locale_t c_locale = (locale_t)0;
  napi_value argv[1], out;
  int32_t e;
  if (get_args(env, info, 1, argv) < 0 || get_i32(env, argv[0], &e) < 0) return NULL;
  if (c_locale == (locale_t)0) c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (c_locale == (locale_t)0) {
    napi_throw_error(env, NULL, "vzcpt: cannot get the C locale");
    return NULL;
  }
  CHECK(napi_create_string_utf8(env, strerror_l(e, c_locale), NAPI_AUTO_LENGTH, &out));
  return out;
}

/* ---- machine facts ------------------------------------------------------- */

/* cpuid(leaf, subleaf) -> {eax, ebx, ecx, edx}. */
static napi_value js_cpuid(napi_env env, napi_callback_info info) {
#if HAVE_CPUID
  napi_value argv[2], obj;
  uint32_t leaf, subleaf;
  if (get_args(env, info, 2, argv) < 0 || get_u32(env, argv[0], &leaf) < 0 ||
      get_u32(env, argv[1], &subleaf) < 0)
    return NULL;
  unsigned int a = 0, b = 0, c = 0, d = 0;
  __cpuid_count(leaf, subleaf, a, b, c, d);
  CHECK(napi_create_object(env, &obj));
  if (set_u32(env, obj, "eax", a) < 0 || set_u32(env, obj, "ebx", b) < 0 ||
      set_u32(env, obj, "ecx", c) < 0 || set_u32(env, obj, "edx", d) < 0)
    return NULL;
  return obj;
#else
  (void)info;
  napi_throw_error(env, NULL, "vzcpt: CPUID exists on x86 only");
  return NULL;
#endif
}

/* cpuVendor() -> leaf 0's vendor string ("GenuineIntel", "AuthenticAMD"...). */
static napi_value js_cpu_vendor(napi_env env, napi_callback_info info) {
  (void)info;
#if HAVE_CPUID
  unsigned int a = 0, b = 0, c = 0, d = 0;
  char vendor[13];
  napi_value out;
  __cpuid_count(0, 0, a, b, c, d);
  memcpy(vendor, &b, 4);
  memcpy(vendor + 4, &d, 4);
  memcpy(vendor + 8, &c, 4);
  vendor[12] = '\0';
  CHECK(napi_create_string_utf8(env, vendor, NAPI_AUTO_LENGTH, &out));
  return out;
#else
  napi_throw_error(env, NULL, "vzcpt: CPUID exists on x86 only");
  return NULL;
#endif
}

/* uname() -> {sysname, release, version, machine}. */
static napi_value js_uname(napi_env env, napi_callback_info info) {
  (void)info;
  struct utsname u;
  napi_value obj;
  if (uname(&u) < 0) {
    napi_throw_error(env, NULL, "vzcpt: uname() failed");
    return NULL;
  }
  CHECK(napi_create_object(env, &obj));
  if (set_str(env, obj, "sysname", u.sysname) < 0 || set_str(env, obj, "release", u.release) < 0 ||
      set_str(env, obj, "version", u.version) < 0 || set_str(env, obj, "machine", u.machine) < 0)
    return NULL;
  return obj;
}

/* ---- registration --------------------------------------------------------- */

NAPI_MODULE_INIT() {
  static const napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pipe", NULL, js_pipe, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ioctl", NULL, js_ioctl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"drain", NULL, js_drain, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"write", NULL, js_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"strerror", NULL, js_strerror, NULL, NULL, NULL, napi_enumerable, NULL},
      {"cpuid", NULL, js_cpuid, NULL, NULL, NULL, napi_enumerable, NULL},
      {"cpuVendor", NULL, js_cpu_vendor, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uname", NULL, js_uname, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    return NULL;
  return exports;
}
