// Host-only profiling aid for the kernel micro-benchmark (no VM, no /dev/iommu needed): the
// per-call cost of openKernel's parts, natively. The struct codecs plus the result object (no
// syscall), with fresh buffers and with a StructScratch, and the addon's ioctl on /dev/null
// (N-API crossing + a syscall that answers ENOTTY at once); compare with C's ioctl(2) on
// /dev/null. Figures are in bench/README.md ("Kernel micro-benchmark").
//   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/kernel/host-costs.js
import { openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as NativeModule from '../../src/backends/kernel/native.js';
import type * as StructsModule from '../../src/backends/kernel/structs.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const built = async <T>(relative: string): Promise<T> => (await import(pathToFileURL(join(repoRoot, 'dist', relative)).href)) as T;
const S = await built<typeof StructsModule>('backends/kernel/structs.js');
const { loadNative } = await built<typeof NativeModule>('backends/kernel/native.js');
const native = loadNative();
if (!native.ok) throw new Error(native.reason);
const addon = native.addon;
const fd = openSync('/dev/null', 'r');
const CALLS = 400_000;
const WARMUP = 40_000;

function time(label: string, body: () => unknown): void {
  let start = 0n;
  for (let i = 0; i < CALLS + WARMUP; i++) {
    if (i === WARMUP) start = process.hrtime.bigint();
    body();
  }
  process.stdout.write(`${label.padEnd(40)} ${(Number(process.hrtime.bigint() - start) / CALLS).toFixed(0).padStart(6)} ns/call\n`);
}

const ok = <T extends object>(outputs: T) => ({ errno: 0, code: 'OK', ...outputs });
const map = { flags: 7, ioasId: 1, userVa: 0x7f00_0000_0000n, length: 4096n, iova: 0x100000n };
const scratch = new S.StructScratch(S.STRUCT_SCRATCH_SIZE);
const ranges = new S.StructScratch(64 * S.STRUCT_SIZE.iovaRange);
time('codecs + result, MAP, fresh buffer', () => ok(S.decodeIoasMapOut(S.encodeIoasMap(map))));
time('codecs + result, MAP, scratch', () => ok(S.decodeIoasMapOut(S.encodeIoasMap(map, scratch))));
time('codecs + result, UNMAP, fresh buffer', () => ok(S.decodeIoasUnmapOut(S.encodeIoasUnmap({ ioasId: 1, iova: 0x100000n, length: 4096n }))));
time('codecs + result, OPTION, fresh buffer', () => ok(S.decodeOptionOut(S.encodeOption({ optionId: 1, op: 1, objectId: 1, val64: 0n }))));
time('addon.ioctl /dev/null, fresh buffer', () => addon.ioctl(fd, 0x3b85, new Uint8Array(40)));
time('addon.ioctl /dev/null, scratch', () => addon.ioctl(fd, 0x3b85, scratch.take(40).bytes));
time('addon.ioctlWithBuffer /dev/null, fresh', () => addon.ioctlWithBuffer(fd, 0x3b84, new Uint8Array(32), 16, new Uint8Array(64)));
time('addon.ioctlWithBuffer /dev/null, scratch', () => addon.ioctlWithBuffer(fd, 0x3b84, scratch.take(32).bytes, 16, ranges.take(64).bytes));
