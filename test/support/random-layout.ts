// Random layouts for property tests, and plan+apply of one layout on the simulator in memory (no
// files), with an optional injected failure. Shared by test/apply and test/reliability.
import fc from 'fast-check';
import type { ApplyReport, ApplySink } from '../../src/apply/apply.js';
import { applySteps } from '../../src/apply/apply.js';
import type { MemoryHolder } from '../../src/apply/holder.js';
import { faultyHolder, simHolder } from '../../src/apply/holder.js';
import { openTarget } from '../../src/apply/target.js';
import { withFault } from '../../src/backends/faulty.js';
import type { Layout, Mapping } from '../../src/model/layout.js';
import type { StateBody } from '../../src/model/recorded.js';
import type { UapiContext } from '../../src/model/uapi.js';
import { ERRNO } from '../../src/model/uapi.js';
import { makePlan } from '../../src/plan/plan.js';

export const PAGE = 0x1000n;
export const host = { backend: 'sim' as const, hostname: 'h', pageSize: PAGE };

export const layoutArb: fc.Arbitrary<Layout> = fc
  .record({
    rlimitMode: fc.constantFrom('user' as const, 'process' as const),
    memory: fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 3 }),
    ioas: fc.array(
      fc.record({
        hugePages: fc.boolean(),
        restricted: fc.boolean(),
        mappings: fc.array(fc.record({ mem: fc.nat(), start: fc.nat(), pages: fc.integer({ min: 1, max: 4 }), fixed: fc.boolean(), write: fc.boolean() }), { maxLength: 3 }),
        copies: fc.array(fc.record({ ioas: fc.nat(), entry: fc.nat() }), { maxLength: 2 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ rlimitMode, memory, ioas }) => {
    const regions = memory.map((pages, i) => ({ name: `m${i}`, size: BigInt(pages) * PAGE, backing: { kind: 'anonymous' as const } }));
    const withMappings = ioas.map((spec, i) => ({
      spec,
      mappings: spec.mappings.map((m, j): Mapping => {
        const region = regions[m.mem % regions.length]!;
        const regionPages = Number(region.size / PAGE);
        const start = m.start % regionPages;
        const pages = Math.min(m.pages, regionPages - start);
        // Fixed IOVAs get a private 1 MiB slot per (ioas, mapping): they never overlap.
        const iova = m.fixed ? 0x40000000n + BigInt(i * 8 + j) * 0x100000n : null;
        return { name: `map${j}`, memory: region.name, offset: BigInt(start) * PAGE, length: BigInt(pages) * PAGE, iova, access: m.write ? 'rw' : 'r' };
      }),
    }));
    return {
      version: 1,
      options: { rlimitMode },
      memory: regions,
      ioas: withMappings.map(({ spec, mappings }, i) => {
        const copies = spec.copies.flatMap((c, k) => {
          const source = withMappings[c.ioas % withMappings.length]!;
          const entry = source.mappings[c.entry % Math.max(1, source.mappings.length)];
          if (!entry) return [];
          return [{ name: `copy${k}`, from: { kind: 'entry' as const, ioas: `io${c.ioas % withMappings.length}`, entry: entry.name, offset: 0n, length: entry.length }, iova: null, access: 'r' as const }];
        });
        return { name: `io${i}`, allowedIovas: spec.restricted ? [{ start: 0x100000n, last: 0x3fffffffn }] : [], hugePages: spec.hugePages, mappings, copies };
      }),
    };
  });

const memorySink = (): ApplySink & { body: () => StateBody | null } => {
  let last: StateBody | null = null;
  return { journal: () => undefined, flush: async () => undefined, commit: async (b) => void (last = b), body: () => last };
};

/** How to break one apply: wrap the uapi context and the memory holder (share one call counter). */
export interface Injection {
  readonly wrap: (ctx: UapiContext) => UapiContext;
  readonly holder: MemoryHolder;
}

export function enomemAt(failCall: number): Injection {
  const counter = { n: 0 };
  return { wrap: (ctx) => withFault(ctx, { failCall, errno: ERRNO.ENOMEM }, counter), holder: faultyHolder(simHolder, failCall, ERRNO.ENOMEM, 'ENOMEM', counter) };
}

export async function applyInMemory(start: StateBody, desired: Layout, failCall?: number | Injection): Promise<{ outcome: string; body: StateBody; failure: ApplyReport['failure'] }> {
  const made = makePlan({ desired, recorded: start, basis: { lineage: null, serial: 0 }, host });
  if (!made.ok) throw new Error(made.error.message);
  const injection = typeof failCall === 'number' ? enomemAt(failCall) : failCall;
  const opened = openTarget('sim', start, injection ? { wrap: injection.wrap, holder: injection.holder } : {});
  if (!opened.ok) throw new Error(opened.message);
  const report = await applySteps(opened.target.env, memorySink(), { snapshot: opened.target.snapshot }, start, made.plan.steps, 'apply');
  await opened.target.close();
  return { outcome: report.outcome, body: report.body, failure: report.failure };
}

