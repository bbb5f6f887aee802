// A kernel agent's model of its own kernel context. Plans predict IOVAs (and whether every call
// will succeed) by dry-running on a simulator restored from the state's `sim` snapshot; a kernel
// state has no simulator in it, so a second plan would start from an empty simulator and
// predict, e.g., ENOENT for unmapping what the first apply mapped. The agent therefore sends
// every uapi call to the kernel and then to a shadow simulator (which answers as the kernel does,
// ids included: the differential test in the VM checks exactly that), and commits the shadow's
// snapshot with each state. The kernel's answer is the one returned; a shadow that answers
// differently is reported through `onDivergence` (drift the plan's drift check will show).
import { openSimulator } from '../backends/sim/index.js';
import type { SimContext } from '../backends/sim/index.js';
import type { StateBody } from '../model/recorded.js';
import type { UapiContext, UapiMethod } from '../model/uapi.js';

export interface Shadowed {
  readonly ctx: UapiContext;
  readonly shadow: SimContext;
  /** The body with the shadow simulator's snapshot in it (the kernel's model for predictions). */
  snapshot(body: StateBody): StateBody;
}

const METHODS: readonly UapiMethod[] = ['destroy', 'ioasAlloc', 'ioasAllowIovas', 'ioasIovaRanges', 'ioasMap', 'ioasCopy', 'ioasUnmap', 'option'];

export function shadowed(kernel: UapiContext, onDivergence: (method: string, kernelCode: string, shadowCode: string) => void = () => undefined): Shadowed {
  const shadow = openSimulator();
  const ctx = { close: () => kernel.close() } as Record<string, unknown>;
  for (const method of METHODS) {
    ctx[method] = async (args: never) => {
      const answer = await (kernel[method] as (a: never) => unknown)(args);
      const mirrored = (shadow[method] as (a: never) => unknown)(args);
      const code = (r: unknown): string => (r as { code: string }).code;
      if (code(answer) !== code(mirrored)) onDivergence(method, code(answer), code(mirrored));
      return answer;
    };
  }
  return { ctx: ctx as unknown as UapiContext, shadow, snapshot: (body) => ({ ...body, sim: shadow.snapshot() }) };
}
