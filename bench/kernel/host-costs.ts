// Host-only profiling aid for the kernel micro-benchmark (no VM, no /dev/iommu needed): the
// per-call cost of openKernel's parts, natively. The empty N-API crossing (close(-1): the
// cheapest system call, EBADF at once), the addon's ioctl entries on /dev/null (N-API + a
// syscall that answers ENOTTY at once), the struct writers/readers plus the result object (no
// syscall), and whole openKernel calls on /dev/null (every step but the kernel's work). Compare
// with the same system calls from C: bench/kernel/host-costs.c. Figures: bench/README.md
// ("Kernel micro-benchmark"). Each line is the best of ROUNDS rounds (the machine is shared).
//   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/kernel/host-costs.js [CALLS] [ROUNDS]
// (defaults 200000 and 5; fewer inside the TCG VM, where each call is ~20x slower).
import { openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as KernelModule from '../../src/backends/kernel/kernel.js';
import type * as NativeModule from '../../src/backends/kernel/native.js';
import type * as StructsModule from '../../src/backends/kernel/structs.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const built = async <T>(relative: string): Promise<T> => (await import(pathToFileURL(join(repoRoot, 'dist', relative)).href)) as T;
const S = await built<typeof StructsModule>('backends/kernel/structs.js');
const { openKernel } = await built<typeof KernelModule>('backends/kernel/kernel.js');
const { loadNative, loadFastIoctl } = await built<typeof NativeModule>('backends/kernel/native.js');
const fast = loadFastIoctl();
const native = loadNative();
if (!native.ok) throw new Error(native.reason);
const addon = native.addon;
const fd = openSync('/dev/null', 'r');
const CALLS = Number(process.argv[2] ?? 200_000);
const WARMUP = Math.ceil(CALLS / 10);
const ROUNDS = Number(process.argv[3] ?? 5);

const best = new Map<string, number>();
function time(label: string, body: () => unknown): void {
  let start = 0n;
  for (let i = 0; i < CALLS + WARMUP; i++) {
    if (i === WARMUP) start = process.hrtime.bigint();
    body();
  }
  const ns = Number(process.hrtime.bigint() - start) / CALLS;
  best.set(label, Math.min(best.get(label) ?? Infinity, ns));
}

const map = { flags: 7, ioasId: 1, userVa: 0x7f00_0000_0000n, length: 4096n, iova: 0x100000n };
const view = S.structView(new ArrayBuffer(256));
const bytes40 = new Uint8Array(40);
const k = openKernel({ fd });
const hasScratch = typeof addon.ioctlScratch === 'function' && typeof addon.ioctlScratchArray === 'function';

for (let round = 0; round < ROUNDS; round++) {
  time('N-API floor: addon.close(-1)', () => addon.close(-1));
  time('addon.ioctl /dev/null, typed array', () => addon.ioctl(fd, 0x3b85, bytes40));
  if (hasScratch) {
    time('addon.ioctlScratch /dev/null', () => addon.ioctlScratch!(fd, 0x3b85));
    time('addon.ioctlScratchArray /dev/null', () => addon.ioctlScratchArray!(fd, 0x3b84, 16, 128));
  }
  if (fast) {
    // The fast-call addon (V8 fast API calls from optimized code; IOASFORM_FAST_IOCTL=0 skips it).
    time('fast.ioctlScratch /dev/null', () => fast.ioctlScratch(fd, 0x3b85));
    time('fast.ioctlScratchArray /dev/null', () => fast.ioctlScratchArray(fd, 0x3b84, 16, 128));
  }
  time('MAP write + read + result (no syscall)', () => {
    S.writeIoasMap(view, map);
    return { errno: 0, code: 'OK', iova: S.readIoasMapIova(view) };
  });
  time('MAP encode/decode fresh buffers (old)', () => ({ errno: 0, code: 'OK', ...S.decodeIoasMapOut(S.encodeIoasMap(map)) }));
  time('openKernel ioasMap on /dev/null', () => k.ioasMap(map));
  time('openKernel ioasIovaRanges(4) /dev/null', () => k.ioasIovaRanges({ ioasId: 1, numIovas: 4 }));
  time('openKernel option on /dev/null', () => k.option({ optionId: 1, op: 1, objectId: 1, val64: 0n }));
  time('openKernel ioasUnmap on /dev/null', () => k.ioasUnmap({ ioasId: 1, iova: 0x100000n, length: 4096n }));
}
for (const [label, ns] of best) process.stdout.write(`${label.padEnd(42)} ${ns.toFixed(0).padStart(6)} ns/call\n`);
