// Thin system-call shims for the ioasform kernel backend (plain N-API, no node-addon-api).
//
// This file does only what TypeScript cannot do: open a device, ioctl on a byte buffer (or on the
// environment's scratch buffer, the fast path of every iommufd call), map and
// unmap backing memory at a chosen alignment, and pass fds over a Unix socket. It has no policy
// and knows no iommufd struct: encoding lives in src/backends/kernel/structs.ts. Every failure
// is reported as a positive errno number (never a string, never a thrown JS exception); a
// thrown TypeError only means the caller passed arguments of the wrong JS type.
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

#define MAX_PASSED_FDS 64

// ---- small helpers ------------------------------------------------------------------------

static napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static napi_value make_bigint(napi_env env, uint64_t v) {
  napi_value out;
  napi_create_bigint_uint64(env, v, &out);
  return out;
}

static void set_prop(napi_env env, napi_value obj, const char *name, napi_value v) {
  napi_set_named_property(env, obj, name, v);
}

// An object {errno: n} for a failed call.
static napi_value errno_object(napi_env env, int err) {
  napi_value obj;
  napi_create_object(env, &obj);
  set_prop(env, obj, "errno", make_int(env, err));
  return obj;
}

static int get_int(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static int get_u64(napi_env env, napi_value v, uint64_t *out) {
  napi_valuetype t;
  bool lossless;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_bigint) return napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok && lossless;
  if (t == napi_number) {
    int64_t i;
    if (napi_get_value_int64(env, v, &i) != napi_ok || i < 0) return 0;
    *out = (uint64_t)i;
    return 1;
  }
  return 0;
}

// The bytes of a Uint8Array/Buffer argument (its own view, not the whole ArrayBuffer).
static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is_typed;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *ptr;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = ptr;
  return 1;
}

static size_t get_args(napi_env env, napi_callback_info info, napi_value *argv, size_t max) {
  size_t argc = max;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argc;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t cap) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok) return 0;
  return len < cap - 1;
}

// ---- open / close / ioctl ------------------------------------------------------------------

// open(path: string, flags: number) -> fd | -errno. O_CLOEXEC is always added.
static napi_value Open(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[4096];
  int64_t flags;
  if (get_args(env, info, argv, 2) < 2 || !get_string(env, argv[0], path, sizeof path) ||
      !get_int(env, argv[1], &flags))
    return type_error(env, "open(path: string, flags: number)");
  int fd = open(path, (int)flags | O_CLOEXEC);
  return make_int(env, fd < 0 ? -errno : fd);
}

// close(fd: number) -> 0 | errno
static napi_value Close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t fd;
  if (get_args(env, info, argv, 1) < 1 || !get_int(env, argv[0], &fd))
    return type_error(env, "close(fd: number)");
  return make_int(env, close((int)fd) < 0 ? errno : 0);
}

// ioctl(fd: number, cmd: number, arg: Uint8Array) -> 0 | errno. `arg` is read and written in
// place; the kernel sees the address of its first byte.
static napi_value Ioctl(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t fd, cmd;
  uint8_t *data;
  size_t len;
  if (get_args(env, info, argv, 3) < 3 || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &cmd) ||
      !get_bytes(env, argv[2], &data, &len))
    return type_error(env, "ioctl(fd: number, cmd: number, arg: Uint8Array)");
  int rc = ioctl((int)fd, (unsigned long)cmd, (void *)data);
  return make_int(env, rc < 0 ? errno : 0);
}

// ioctlWithBuffer(fd, cmd, arg: Uint8Array, pointerOffset: number, data: Uint8Array) -> 0 | errno.
// Writes the address of `data` as a little-endian u64 at `pointerOffset` inside `arg`, then runs
// the ioctl. This is how structs that carry a user pointer to an array (IOVA_RANGES,
// ALLOW_IOVAS) reach the kernel without TypeScript ever handling raw pointers to JS memory.
static napi_value IoctlWithBuffer(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int64_t fd, cmd, off;
  uint8_t *arg, *data;
  size_t arg_len, data_len;
  if (get_args(env, info, argv, 5) < 5 || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &cmd) ||
      !get_bytes(env, argv[2], &arg, &arg_len) || !get_int(env, argv[3], &off) ||
      !get_bytes(env, argv[4], &data, &data_len))
    return type_error(env, "ioctlWithBuffer(fd, cmd, arg: Uint8Array, pointerOffset, data: Uint8Array)");
  if (off < 0 || (uint64_t)off + 8 > arg_len) return make_int(env, EINVAL);
  uint64_t addr = data_len == 0 ? 0 : (uint64_t)(uintptr_t)data;
  for (int i = 0; i < 8; i++) arg[off + i] = (uint8_t)(addr >> (8 * i));
  int rc = ioctl((int)fd, (unsigned long)cmd, (void *)arg);
  return make_int(env, rc < 0 ? errno : 0);
}

// ---- the per-environment scratch buffer --------------------------------------------------
//
// One zeroed ArrayBuffer per Node environment (main thread or worker), created when the module
// loads and kept alive by a reference in the instance data. The TypeScript side encodes every
// struct of a call into it (structs.ts StructScratch) and calls ioctlScratch(fd, cmd): the
// address is known here, so no typed array is resolved per call, which was the larger part of
// the N-API crossing (bench/README.md, "Kernel micro-benchmark"). An ArrayBuffer's backing
// store never moves, and ioctls are synchronous, so one buffer serves every context of the
// environment.

#define SCRATCH_BYTES 2048

typedef struct {
  uint8_t *data;
  napi_ref buffer;
} scratch_t;

static void scratch_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  scratch_t *s = data;
  napi_delete_reference(env, s->buffer);
  free(s);
}

static int scratch_init(napi_env env) {
  scratch_t *s = calloc(1, sizeof *s);
  if (!s) return 0;
  napi_value buffer;
  void *data;
  if (napi_create_arraybuffer(env, SCRATCH_BYTES, &data, &buffer) != napi_ok ||
      napi_create_reference(env, buffer, 1, &s->buffer) != napi_ok) {
    free(s);
    return 0;
  }
  memset(data, 0, SCRATCH_BYTES);
  s->data = data;
  if (napi_set_instance_data(env, s, scratch_finalize, NULL) != napi_ok) {
    napi_delete_reference(env, s->buffer);
    free(s);
    return 0;
  }
  return 1;
}

static scratch_t *scratch_of(napi_env env) {
  void *s = NULL;
  napi_get_instance_data(env, &s);
  return s;
}

// structScratch() -> ArrayBuffer: the environment's scratch buffer (the same object every time).
static napi_value StructScratch(napi_env env, napi_callback_info info) {
  (void)info;
  scratch_t *s = scratch_of(env);
  napi_value out;
  if (!s || napi_get_reference_value(env, s->buffer, &out) != napi_ok) return type_error(env, "structScratch: no scratch buffer");
  return out;
}

// ioctlScratch(fd: number, cmd: number) -> 0 | errno: the ioctl on the scratch buffer's first byte.
static napi_value IoctlScratch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  int32_t fd;
  uint32_t cmd;
  scratch_t *s = scratch_of(env);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_uint32(env, argv[1], &cmd) != napi_ok || !s)
    return type_error(env, "ioctlScratch(fd: number, cmd: number)");
  int rc = ioctl(fd, (unsigned long)cmd, (void *)s->data);
  napi_value out;
  napi_create_int32(env, rc < 0 ? errno : 0, &out);
  return out;
}

// ioctlScratchArray(fd, cmd, pointerOffset, arrayOffset) -> 0 | errno: writes the address of
// scratch + arrayOffset (u64 LE) at pointerOffset of the scratch struct, then the ioctl; the
// struct's array (IOVA_RANGES, ALLOW_IOVAS) lives in the same buffer, after the struct.
static napi_value IoctlScratchArray(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc = 4;
  int32_t fd;
  uint32_t cmd, pointer_off, array_off;
  scratch_t *s = scratch_of(env);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_uint32(env, argv[1], &cmd) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &pointer_off) != napi_ok || napi_get_value_uint32(env, argv[3], &array_off) != napi_ok || !s)
    return type_error(env, "ioctlScratchArray(fd: number, cmd: number, pointerOffset: number, arrayOffset: number)");
  napi_value out;
  if ((uint64_t)pointer_off + 8 > SCRATCH_BYTES || array_off > SCRATCH_BYTES) {
    napi_create_int32(env, EINVAL, &out);
    return out;
  }
  uint64_t addr = (uint64_t)(uintptr_t)(s->data + array_off);
  for (int i = 0; i < 8; i++) s->data[pointer_off + i] = (uint8_t)(addr >> (8 * i));
  int rc = ioctl(fd, (unsigned long)cmd, (void *)s->data);
  napi_create_int32(env, rc < 0 ? errno : 0, &out);
  return out;
}

// ---- backing memory -------------------------------------------------------------------------

static int is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

static int log2_u64(uint64_t v) {
  int n = 0;
  while (v > 1) { v >>= 1; n++; }
  return n;
}

// Maps `size` bytes at an address aligned to `align`: reserve size+align of PROT_NONE address
// space, place the real mapping with MAP_FIXED at the first aligned address inside, and give
// back the slack on both sides.
static void *map_aligned(size_t size, size_t align, int prot, int flags, int fd) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (align < page) align = page;
  size_t span = size + align;
  if (span < size) { errno = EOVERFLOW; return MAP_FAILED; }
  uint8_t *base = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return MAP_FAILED;
  uintptr_t start = ((uintptr_t)base + align - 1) & ~((uintptr_t)align - 1);
  void *p = mmap((void *)start, size, prot, flags | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    int saved = errno;
    munmap(base, span);
    errno = saved;
    return MAP_FAILED;
  }
  size_t head = start - (uintptr_t)base;
  if (head) munmap(base, head);
  size_t tail = span - head - size;
  if (tail) munmap((uint8_t *)start + size, tail);
  return p;
}

// Maps at exactly `at` with MAP_FIXED_NOREPLACE (never replaces an existing mapping). Kernels
// before 4.17 ignore the flag and treat `at` as a hint, so a different address is undone and
// reported as EEXIST like a taken one.
static void *map_at(uintptr_t at, size_t size, int prot, int flags, int fd) {
  void *p = mmap((void *)at, size, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
  if (p == MAP_FAILED) return MAP_FAILED;
  if ((uintptr_t)p != at) {
    munmap(p, size);
    errno = EEXIST;
    return MAP_FAILED;
  }
  return p;
}

// mapMemory({kind, size, align, hugePageSize?, path?, at?}) -> {errno: 0, addr: bigint, fd} | {errno}
//   kind 'anonymous': private anonymous memory, fd -1.
//   kind 'memfd':     a memfd of `size` bytes mapped shared; the caller owns the fd.
//   kind 'hugetlb':   a hugetlb memfd (page size `hugePageSize`, default the system's), shared.
//   kind 'file':      the file at `path` (created 0600 if missing, grown to `size`), shared.
// `align` (a power of two, default the page size) is the alignment of the returned address.
// `at` (optional, page aligned): map exactly there or fail with EEXIST when the range is taken;
// `align` is then ignored.
static napi_value MapMemory(napi_env env, napi_callback_info info) {
  napi_value argv[1], v;
  char kind[32], path[4096];
  uint64_t size = 0, align = 0, huge = 0;
  bool has;
  if (get_args(env, info, argv, 1) < 1) return type_error(env, "mapMemory(options)");
  if (napi_get_named_property(env, argv[0], "kind", &v) != napi_ok || !get_string(env, v, kind, sizeof kind))
    return type_error(env, "mapMemory: kind must be a string");
  if (napi_get_named_property(env, argv[0], "size", &v) != napi_ok || !get_u64(env, v, &size))
    return type_error(env, "mapMemory: size must be a bigint or number");
  napi_has_named_property(env, argv[0], "align", &has);
  if (has) {
    napi_get_named_property(env, argv[0], "align", &v);
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t != napi_undefined && !get_u64(env, v, &align)) return type_error(env, "mapMemory: align must be a bigint or number");
  }
  napi_has_named_property(env, argv[0], "hugePageSize", &has);
  if (has) {
    napi_get_named_property(env, argv[0], "hugePageSize", &v);
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t != napi_undefined && !get_u64(env, v, &huge)) return type_error(env, "mapMemory: hugePageSize must be a bigint or number");
  }
  uint64_t at = 0;
  napi_has_named_property(env, argv[0], "at", &has);
  if (has) {
    napi_get_named_property(env, argv[0], "at", &v);
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t != napi_undefined && !get_u64(env, v, &at)) return type_error(env, "mapMemory: at must be a bigint or number");
  }
  path[0] = 0;
  napi_has_named_property(env, argv[0], "path", &has);
  if (has) {
    napi_get_named_property(env, argv[0], "path", &v);
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t != napi_undefined && !get_string(env, v, path, sizeof path)) return type_error(env, "mapMemory: path must be a string");
  }
  if (size == 0 || (align != 0 && !is_pow2(align)) || (huge != 0 && !is_pow2(huge)) || size > SIZE_MAX / 2)
    return errno_object(env, EINVAL);

  int fd = -1;
  int flags = MAP_SHARED;
  if (strcmp(kind, "anonymous") == 0) {
    flags = MAP_PRIVATE | MAP_ANONYMOUS;
  } else if (strcmp(kind, "memfd") == 0 || strcmp(kind, "hugetlb") == 0) {
    unsigned mfd_flags = MFD_CLOEXEC;
    if (kind[0] == 'h') {
      mfd_flags |= MFD_HUGETLB;
      if (huge) mfd_flags |= (unsigned)log2_u64(huge) << MAP_HUGE_SHIFT;
      if (huge > align) align = huge;  // a hugetlb mapping is at least huge-page aligned
    }
    fd = memfd_create("ioasform", mfd_flags);
    if (fd < 0) return errno_object(env, errno);
    if (ftruncate(fd, (off_t)size) < 0) { int e = errno; close(fd); return errno_object(env, e); }
  } else if (strcmp(kind, "file") == 0) {
    if (!path[0]) return errno_object(env, EINVAL);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return errno_object(env, errno);
    struct stat st;
    if (fstat(fd, &st) < 0 || ((uint64_t)st.st_size < size && ftruncate(fd, (off_t)size) < 0)) {
      int e = errno;
      close(fd);
      return errno_object(env, e);
    }
  } else {
    return errno_object(env, EINVAL);
  }

  void *p = at ? map_at((uintptr_t)at, (size_t)size, PROT_READ | PROT_WRITE, flags, fd)
               : map_aligned((size_t)size, (size_t)align, PROT_READ | PROT_WRITE, flags, fd);
  if (p == MAP_FAILED) {
    int e = errno;
    if (fd >= 0) close(fd);
    return errno_object(env, e);
  }
  napi_value obj;
  napi_create_object(env, &obj);
  set_prop(env, obj, "errno", make_int(env, 0));
  set_prop(env, obj, "addr", make_bigint(env, (uint64_t)(uintptr_t)p));
  set_prop(env, obj, "fd", make_int(env, fd));
  return obj;
}

// unmapMemory(addr: bigint, size: bigint) -> 0 | errno
static napi_value UnmapMemory(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint64_t addr, size;
  if (get_args(env, info, argv, 2) < 2 || !get_u64(env, argv[0], &addr) || !get_u64(env, argv[1], &size))
    return type_error(env, "unmapMemory(addr: bigint, size: bigint)");
  return make_int(env, munmap((void *)(uintptr_t)addr, (size_t)size) < 0 ? errno : 0);
}

// ---- Unix sockets ---------------------------------------------------------------------------

// socketPair() -> {errno: 0, fds: [a, b]} | {errno}: a connected AF_UNIX stream pair.
static napi_value SocketPair(napi_env env, napi_callback_info info) {
  (void)info;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return errno_object(env, errno);
  napi_value obj, arr;
  napi_create_object(env, &obj);
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, make_int(env, sv[0]));
  napi_set_element(env, arr, 1, make_int(env, sv[1]));
  set_prop(env, obj, "errno", make_int(env, 0));
  set_prop(env, obj, "fds", arr);
  return obj;
}

// sendFds(socketFd, fds: number[], payload: Uint8Array) -> bytes sent | -errno.
// The payload must be non-empty: a stream socket carries ancillary data only with data bytes.
static napi_value SendFds(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t sock;
  uint8_t *data;
  size_t len;
  bool is_array;
  uint32_t nfds;
  if (get_args(env, info, argv, 3) < 3 || !get_int(env, argv[0], &sock) ||
      napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || !get_bytes(env, argv[2], &data, &len))
    return type_error(env, "sendFds(socketFd: number, fds: number[], payload: Uint8Array)");
  napi_get_array_length(env, argv[1], &nfds);
  if (nfds > MAX_PASSED_FDS || len == 0) return make_int(env, -EINVAL);
  int fds[MAX_PASSED_FDS];
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value e;
    int64_t fd;
    napi_get_element(env, argv[1], i, &e);
    if (!get_int(env, e, &fd)) return type_error(env, "sendFds: fds must be numbers");
    fds[i] = (int)fd;
  }
  union { char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)]; struct cmsghdr align; } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = { .iov_base = data, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (nfds > 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do n = sendmsg((int)sock, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return make_int(env, n < 0 ? -errno : n);
}

// recvFds(socketFd, buffer: Uint8Array) -> {errno: 0, bytes, fds: number[]} | {errno}.
// Blocks until data arrives (unless the socket is non-blocking). Received fds are close-on-exec.
static napi_value RecvFds(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t sock;
  uint8_t *data;
  size_t len;
  if (get_args(env, info, argv, 2) < 2 || !get_int(env, argv[0], &sock) || !get_bytes(env, argv[1], &data, &len))
    return type_error(env, "recvFds(socketFd: number, buffer: Uint8Array)");
  union { char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)]; struct cmsghdr align; } control;
  struct iovec iov = { .iov_base = data, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  ssize_t n;
  do n = recvmsg((int)sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) return errno_object(env, errno);
  napi_value obj, arr;
  napi_create_object(env, &obj);
  napi_create_array(env, &arr);
  uint32_t count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *got = (int *)CMSG_DATA(c);
    for (size_t i = 0; i < k; i++) napi_set_element(env, arr, count++, make_int(env, got[i]));
  }
  set_prop(env, obj, "errno", make_int(env, 0));
  set_prop(env, obj, "bytes", make_int(env, n));
  set_prop(env, obj, "fds", arr);
  napi_value truncated;
  napi_get_boolean(env, (msg.msg_flags & MSG_CTRUNC) != 0, &truncated);
  set_prop(env, obj, "controlTruncated", truncated);
  return obj;
}

// peerCred(socketFd) -> {errno: 0, pid, uid, gid} | {errno}: the peer's SO_PEERCRED.
static napi_value PeerCred(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t sock;
  if (get_args(env, info, argv, 1) < 1 || !get_int(env, argv[0], &sock))
    return type_error(env, "peerCred(socketFd: number)");
  struct ucred cred;
  socklen_t l = sizeof cred;
  if (getsockopt((int)sock, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0) return errno_object(env, errno);
  napi_value obj;
  napi_create_object(env, &obj);
  set_prop(env, obj, "errno", make_int(env, 0));
  set_prop(env, obj, "pid", make_int(env, cred.pid));
  set_prop(env, obj, "uid", make_int(env, cred.uid));
  set_prop(env, obj, "gid", make_int(env, cred.gid));
  return obj;
}

// ---- module ---------------------------------------------------------------------------------

static napi_value Init(napi_env env, napi_value exports) {
  if (!scratch_init(env)) {
    napi_throw_error(env, NULL, "iommufd addon: cannot allocate the scratch buffer");
    return NULL;
  }
  napi_property_descriptor props[] = {
    { "open", NULL, Open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, Close, NULL, NULL, NULL, napi_enumerable, NULL },
    { "ioctl", NULL, Ioctl, NULL, NULL, NULL, napi_enumerable, NULL },
    { "ioctlWithBuffer", NULL, IoctlWithBuffer, NULL, NULL, NULL, napi_enumerable, NULL },
    { "mapMemory", NULL, MapMemory, NULL, NULL, NULL, napi_enumerable, NULL },
    { "unmapMemory", NULL, UnmapMemory, NULL, NULL, NULL, napi_enumerable, NULL },
    { "socketPair", NULL, SocketPair, NULL, NULL, NULL, napi_enumerable, NULL },
    { "sendFds", NULL, SendFds, NULL, NULL, NULL, napi_enumerable, NULL },
    { "recvFds", NULL, RecvFds, NULL, NULL, NULL, napi_enumerable, NULL },
    { "peerCred", NULL, PeerCred, NULL, NULL, NULL, napi_enumerable, NULL },
    { "structScratch", NULL, StructScratch, NULL, NULL, NULL, napi_enumerable, NULL },
    { "ioctlScratch", NULL, IoctlScratch, NULL, NULL, NULL, napi_enumerable, NULL },
    { "ioctlScratchArray", NULL, IoctlScratchArray, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
