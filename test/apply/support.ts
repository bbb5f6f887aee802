// Helpers for apply tests: a fresh state directory, in-process plan+apply through the same session
// code the CLI uses (optionally with an injected failure), and a field-by-field view of a state.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { planFor } from '../../src/apply/make.js';
import type { ApplyReport } from '../../src/apply/apply.js';
import { faultyHolder, simHolder } from '../../src/apply/holder.js';
import type { SessionOptions } from '../../src/apply/session.js';
import { runSteps, withSession } from '../../src/apply/session.js';
import { loadState } from '../../src/apply/store.js';
import { withFault } from '../../src/backends/faulty.js';
import { loadLayoutFile } from '../../src/config/load.js';
import type { Layout } from '../../src/model/layout.js';
import type { StateBody } from '../../src/model/recorded.js';
import type { Plan } from '../../src/plan/plan.js';

export async function tempStatePath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'ioasform-apply-')), 'ioasform.state.json');
}

export async function exampleLayout(name: string): Promise<Layout> {
  const loaded = await loadLayoutFile(new URL(`../../examples/${name}.yaml`, import.meta.url).pathname);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return loaded.layout!;
}

export interface Fault {
  readonly failCall: number | readonly number[];
  readonly errno: number;
  readonly code: string;
}

function options(statePath: string, fault?: Fault): SessionOptions {
  const counter = { n: 0 };
  return {
    statePath,
    backend: 'sim',
    operation: 'apply',
    lockTimeoutMs: 0,
    ...(fault
      ? {
          targetOptions: {
            wrap: (ctx) => withFault(ctx, { failCall: fault.failCall, errno: fault.errno }, counter),
            holder: faultyHolder(simHolder, fault.failCall, fault.errno, fault.code, counter),
          },
        }
      : {}),
  };
}

export async function planOnly(statePath: string, desired: Layout): Promise<Plan> {
  const r = await withSession(options(statePath), async (s) => {
    const made = await planFor(s, desired, null);
    return made.ok ? { ok: true as const, value: made.plan } : { ok: false as const, error: made };
  });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

export async function applyLayout(statePath: string, desired: Layout, fault?: Fault): Promise<ApplyReport> {
  const r = await withSession(options(statePath, fault), async (s) => {
    const made = await planFor(s, desired, null);
    if (!made.ok) return { ok: false as const, error: made };
    const ran = await runSteps(s, made.plan.steps, 'apply');
    return ran.ok ? { ok: true as const, value: ran.report } : ran;
  });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

export async function readBody(statePath: string): Promise<StateBody> {
  const loaded = await loadState(statePath, 'sim');
  if (!loaded.ok) throw new Error(loaded.message);
  return loaded.state.body;
}

interface SnapshotArea { iova: string; last: string; pagesId: number; startByte: string; flags: number }
interface SnapshotPages { id: number; uptr: string }
interface Snapshot { accountMode: unknown; pages: SnapshotPages[]; objects: { id: number; hugePages: boolean; allowed: unknown; areas: SnapshotArea[] }[] }

/**
 * What a state says, field by field, without the values a rollback legitimately renews: the
 * journal position, the simulator's internal pages ids, and kernel object ids (undoing a destroy
 * allocates a NEW id). Instead of raw ids, each recorded IOAS is joined with the simulated kernel
 * object its id names, so a wrong id table still fails the comparison; objects nobody records
 * (leaks) show up in `unrecordedObjects`.
 */
export function comparable(body: StateBody): unknown {
  const sim = body.sim as Snapshot;
  const uptr = new Map(sim.pages.map((p) => [p.id, BigInt(p.uptr)]));
  const kernelView = (id: number): unknown => {
    const o = sim.objects.find((x) => x.id === id);
    if (!o) return 'missing';
    return {
      hugePages: o.hugePages,
      allowed: o.allowed,
      areas: o.areas.map((a) => ({ iova: a.iova, last: a.last, flags: a.flags, userVa: (uptr.get(a.pagesId) ?? 0n) + BigInt(a.startByte) })),
    };
  };
  const recordedIds = new Set(body.ioas.map((i) => i.id));
  return {
    ...body,
    journalSeq: 'ignored',
    ioas: body.ioas.map(({ id, ...rest }) => ({ ...rest, kernel: kernelView(id) })),
    // A fresh context's account mode is NONE, which behaves exactly like USER and reads back as 0
    // (spec §3, §11); undoing an RLIMIT_MODE change sets USER explicitly. Compare what it does.
    sim: { accountMode: sim.accountMode === 'none' ? 'user' : sim.accountMode, unrecordedObjects: sim.objects.filter((o) => !recordedIds.has(o.id)).length },
  };
}
