// The public API of the ioasform package. Only what users of the library need; everything else
// is internal.
export * from './model/uapi.js';
export type { Access, Backing, Copy, CopySource, Ioas, Layout, LayoutOptions, Mapping, MemoryRegion, RlimitMode } from './model/layout.js';
export type { Diagnostic, Severity } from './diagnostics.js';
export { openSimulator, decodeSimSnapshot, SIM_SNAPSHOT_FORMAT, SIM_SNAPSHOT_VERSION } from './backends/sim/index.js';
export type { SimArea, SimContext, SimOptions, SimSnapshot, TestAddReservedArgs } from './backends/sim/index.js';
export type { IovaRange } from './model/layout.js';
export { parseLayoutText, type ParseResult } from './config/parse.js';
export { loadLayoutFile, type LoadResult } from './config/load.js';
export { formatLayout, formatLayoutText, type FormatResult } from './config/format.js';
export { LAYOUT_CODES, type LayoutCode } from './config/codes.js';
export { makePlan, staleReason, PLAN_FORMAT_VERSION, type Plan, type HostFacts, type PlanBasis } from './plan/plan.js';
export { diff, type Change, type Action } from './plan/diff.js';
export { encodePlan, decodePlan } from './plan/encode.js';
export { inverse, type Step, type StepOutput, type Area } from './model/step.js';
export type { StateBody, RecordedIoas, RecordedEntry, RecordedMemory } from './model/recorded.js';
export { runStep, runTableStep } from './apply/runner.js';
export { WorkingTable } from './apply/working-table.js';
export { applySteps, undoExecuted } from './apply/apply.js';
export { withFault } from './backends/faulty.js';
export { openKernel, KernelUnavailableError } from './backends/kernel/kernel.js';
export type { KernelContext, KernelOptions, KernelUnavailableCode, RawResult } from './backends/kernel/kernel.js';
export { connectAgent, type AgentClient, type ConnectResult } from './agent/client.js';
export { requestHandover, type Handover, type HandoverResult } from './agent/handover.js';
export { startAgent, type AgentOptions, type RunningAgent } from './agent/server.js';
export { PROTOCOL_VERSION, OPS, encodeFrame, FrameSplitter, type Reply, type Request, type Op } from './agent/protocol.js';
