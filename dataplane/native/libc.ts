// kubewire's native binding: a handful of libc calls through koffi (FFI
// with prebuilt binaries, no compiler), shared by the VXLAN data path, the
// DNS server's batched UDP, and the netlink sockets (netlink/socket.ts) of the
// proxy's nf_tables batches and of the pod side of sandboxes. Starting processes
// (posix_spawn, waitpid, setns) declares its few calls in spawn.ts, on the
// same loaded library (libcLibrary).
//
// Why: Node has no ioctl (needed for TUNSETIFF / TUNSETOFFLOAD on a TAP), no
// sendmmsg/recvmmsg, its dgram sockets cannot set UDP_SEGMENT or UDP_GRO
// (what makes a user-space VXLAN path fast, see
// shared/notes/vxlan-userspace.md), and it has no netlink sockets. Everything else, all packet logic
// included, stays in TypeScript; this module only declares functions and
// constants and never interprets packets.
//
// Calls take addresses as plain numbers (uintptr_t): a Buffer's memory is
// stable once allocated off the V8 heap (allocUnsafeSlow, or any buffer of
// more than 64 bytes), so the data path computes `base + offset` without
// allocating a subarray per frame. A failed call returns -1; read errno()
// right after it, before any other FFI call. Linux on a 64-bit little-endian
// CPU (x86-64, arm64) only: the structure layouts in mmsg.ts assume LP64.
import koffi from 'koffi'

export const O_RDWR = 0x2
export const O_NONBLOCK = 0x800
export const O_CLOEXEC = 0x80000

export const EINTR = 4
export const EAGAIN = 11
export const EINVAL = 22

export const AF_UNIX = 1
export const AF_INET = 2
export const SOCK_DGRAM = 2
export const SOCK_CLOEXEC = 0x80000
export const SOCK_NONBLOCK = 0x800
export const SOCK_RAW = 3
export const AF_NETLINK = 16
export const NETLINK_ROUTE = 0
export const NETLINK_NETFILTER = 12
export const SOL_NETLINK = 270
export const NETLINK_CAP_ACK = 10
export const SOL_SOCKET = 1
export const SO_REUSEADDR = 2
export const SO_SNDBUF = 7
export const SO_RCVBUF = 8
export const SO_SNDBUFFORCE = 32
export const SO_RCVBUFFORCE = 33
export const SOL_UDP = 17
export const UDP_SEGMENT = 103
export const UDP_GRO = 104
export const MSG_DONTWAIT = 0x40
export const MSG_TRUNC = 0x20

export const POLLIN = 0x1
export const POLLOUT = 0x4

export const TUNSETIFF = 0x400454ca
export const TUNSETOFFLOAD = 0x400454d0
export const IFF_TAP = 0x0002
export const IFF_NO_PI = 0x1000
export const IFF_VNET_HDR = 0x4000
export const TUN_F_CSUM = 0x01
export const TUN_F_TSO4 = 0x02
export const TUN_F_TSO_ECN = 0x08

export interface Libc {
  open(path: string, flags: number): number
  close(fd: number): number
  /** ioctl with a pointer or an integer argument. */
  ioctl(fd: number, request: number, arg: number): number
  read(fd: number, buf: number, count: number): number
  write(fd: number, buf: number, count: number): number
  writev(fd: number, iov: number, iovcnt: number): number
  socket(domain: number, type: number, protocol: number): number
  /** Both ends of a connected socket pair, or undefined (see errno()). */
  socketpair(domain: number, type: number): [number, number] | undefined
  bind(fd: number, addr: number, addrLen: number): number
  setsockopt(fd: number, level: number, name: number, value: number, valueLen: number): number
  getsockopt(fd: number, level: number, name: number, value: number, valueLenPtr: number): number
  recv(fd: number, buf: number, len: number, flags: number): number
  sendmmsg(fd: number, vec: number, vlen: number, flags: number): number
  recvmmsg(fd: number, vec: number, vlen: number, flags: number, timeout: number): number
  poll(fds: number, nfds: number, timeoutMs: number): number
  /** Run the calling thread under SCHED_FIFO at this priority (1-99), or the normal scheduler (0); -1 and errno on failure. */
  setThreadRealtime(priority: number): number
  /** Bind the calling thread to these CPUs (sched_setaffinity on tid 0); -1 and errno on failure. */
  setThreadCpus(cpus: readonly number[]): number
  /** The CPUs the calling thread may run on (sched_getaffinity). */
  threadCpus(): number[]
  errno(): number
  strerror(errnum: number): string
  /** Address of a Buffer's first byte (stable for buffers outside the V8 heap). */
  addressOf(buf: Uint8Array): number
  /** Zeroed native memory that never moves, as a Buffer view, with its address. */
  allocNative(bytes: number): { buf: Buffer; address: number }
}

const SCHED_OTHER = 0
const SCHED_FIFO = 1
/** cpu_set_t as glibc sizes it: 1024 CPUs. */
const CPU_MASK_BYTES = 128

let library: ReturnType<typeof koffi.load> | undefined
let loaded: Libc | undefined

/** libc itself, loaded once per thread: this binding and spawn.ts declare their functions on it. */
export function libcLibrary(): ReturnType<typeof koffi.load> {
  if (library) return library
  if (process.platform !== 'linux' || !(process.arch === 'x64' || process.arch === 'arm64')) {
    throw new Error(`kubewire's native calls need Linux on x64 or arm64, not ${process.platform}/${process.arch}`)
  }
  library = koffi.load('libc.so.6')
  return library
}

/** The binding for this thread (each worker loads its own). */
export function libc(): Libc {
  if (loaded) return loaded
  const lib = libcLibrary()
  const open = lib.func('int open(const char *path, int flags)')
  const close = lib.func('int close(int fd)')
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, uintptr_t arg)')
  const read = lib.func('intptr_t read(int fd, uintptr_t buf, size_t count)')
  const write = lib.func('intptr_t write(int fd, uintptr_t buf, size_t count)')
  const writev = lib.func('intptr_t writev(int fd, uintptr_t iov, int iovcnt)')
  const socket = lib.func('int socket(int domain, int type, int protocol)')
  const socketpair = lib.func('int socketpair(int domain, int type, int protocol, uintptr_t sv)')
  const bind = lib.func('int bind(int fd, uintptr_t addr, uint32_t len)')
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, uintptr_t value, uint32_t len)')
  const getsockopt = lib.func('int getsockopt(int fd, int level, int name, uintptr_t value, uintptr_t len)')
  const recv = lib.func('intptr_t recv(int fd, uintptr_t buf, size_t len, int flags)')
  const sendmmsg = lib.func('int sendmmsg(int fd, uintptr_t vec, unsigned int vlen, int flags)')
  const recvmmsg = lib.func('int recvmmsg(int fd, uintptr_t vec, unsigned int vlen, int flags, uintptr_t timeout)')
  const poll = lib.func('int poll(uintptr_t fds, unsigned long nfds, int timeout)')
  const strerror = lib.func('const char *strerror(int errnum)')
  const setScheduler = lib.func('int sched_setscheduler(int pid, int policy, int *param)')
  const setAffinity = lib.func('int sched_setaffinity(int pid, size_t size, uint8_t *mask)')
  const getAffinity = lib.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)')
  loaded = {
    open: (path, flags) => open(path, flags) as number,
    close: fd => close(fd) as number,
    ioctl: (fd, request, arg) => ioctl(fd, request, arg) as number,
    read: (fd, buf, count) => read(fd, buf, count) as number,
    write: (fd, buf, count) => write(fd, buf, count) as number,
    writev: (fd, iov, iovcnt) => writev(fd, iov, iovcnt) as number,
    socket: (domain, type, protocol) => socket(domain, type, protocol) as number,
    socketpair(domain, type) {
      const sv = Buffer.alloc(8)
      if ((socketpair(domain, type, 0, Number(koffi.address(sv))) as number) !== 0) return undefined
      return [sv.readInt32LE(0), sv.readInt32LE(4)]
    },
    bind: (fd, addr, len) => bind(fd, addr, len) as number,
    setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len) as number,
    getsockopt: (fd, level, name, value, len) => getsockopt(fd, level, name, value, len) as number,
    recv: (fd, buf, len, flags) => recv(fd, buf, len, flags) as number,
    sendmmsg: (fd, vec, vlen, flags) => sendmmsg(fd, vec, vlen, flags) as number,
    recvmmsg: (fd, vec, vlen, flags, timeout) => recvmmsg(fd, vec, vlen, flags, timeout) as number,
    poll: (fds, nfds, timeout) => poll(fds, nfds, timeout) as number,
    setThreadRealtime(priority) {
      if (!Number.isInteger(priority) || priority < 0 || priority > 99) throw new RangeError(`no real-time priority ${priority}`)
      return setScheduler(0, priority > 0 ? SCHED_FIFO : SCHED_OTHER, [priority]) as number
    },
    setThreadCpus(cpus) {
      const mask = Buffer.alloc(CPU_MASK_BYTES)
      for (const cpu of cpus) {
        if (!Number.isInteger(cpu) || cpu < 0 || cpu >= CPU_MASK_BYTES * 8) throw new RangeError(`no CPU ${cpu}`)
        mask[cpu >> 3]! |= 1 << (cpu & 7)
      }
      return setAffinity(0, CPU_MASK_BYTES, mask) as number
    },
    threadCpus() {
      const mask = Buffer.alloc(CPU_MASK_BYTES)
      if ((getAffinity(0, CPU_MASK_BYTES, mask) as number) < 0) return []
      const cpus: number[] = []
      for (let cpu = 0; cpu < CPU_MASK_BYTES * 8; cpu++) if ((mask[cpu >> 3]! & (1 << (cpu & 7))) !== 0) cpus.push(cpu)
      return cpus
    },
    errno: () => koffi.errno(),
    strerror: errnum => String(strerror(errnum)),
    addressOf: buf => Number(koffi.address(buf)),
    allocNative(bytes) {
      const ptr: unknown = koffi.alloc('uint8_t', bytes)
      const buf = Buffer.from(koffi.view(ptr, bytes))
      buf.fill(0)
      return { buf, address: Number(koffi.address(ptr)) }
    },
  }
  return loaded
}

/** "EAGAIN (Resource temporarily unavailable)"-style text for logs and errors. */
export function errnoText(c: Libc, errnum: number): string {
  return `errno ${errnum} (${c.strerror(errnum)})`
}
