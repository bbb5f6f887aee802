// The public API of the ioasform package. Only what users of the library need; everything else
// is internal.
export * from './model/uapi.js';
export type { Access, Backing, Copy, CopySource, Ioas, Layout, LayoutOptions, Mapping, MemoryRegion, RlimitMode } from './model/layout.js';
export type { Diagnostic, Severity } from './diagnostics.js';
export { openKernel, KernelUnavailableError } from './backends/kernel/kernel.js';
export type { KernelContext, KernelOptions, KernelUnavailableCode, RawResult } from './backends/kernel/kernel.js';
