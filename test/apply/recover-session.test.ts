// Recovery as every command runs it (withSession): a journal that outlived a finished apply is
// reported (finding F4), and a journal written on another instance of a held backend undoes
// nothing (its calls died with that backend's process).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simHolder } from '../../src/apply/holder.js';
import type { JournalRecord } from '../../src/apply/journal-records.js';
import { planFor } from '../../src/apply/make.js';
import type { RecoveryReport, SessionOptions } from '../../src/apply/session.js';
import { runSteps, withSession } from '../../src/apply/session.js';
import type { HeldBackend } from '../../src/apply/target.js';
import { openSimulator } from '../../src/backends/sim/index.js';
import type { Layout } from '../../src/model/layout.js';
import type { StateBody } from '../../src/model/recorded.js';
import { appendRecords, openJournal } from '../../src/state/journal.js';
import { journalPathFor } from '../../src/state/paths.js';
import { readStateFile } from '../../src/state/state-file.js';
import { applyLayout, exampleLayout, readBody, tempStatePath } from './support.js';

function heldSim(instance: string): HeldBackend & { calls: () => number } {
  const sim = openSimulator();
  let calls = 0;
  const ctx = new Proxy(sim, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'snapshot' || prop === 'close') return value;
      return (args: unknown): unknown => {
        calls += 1;
        return (value as (a: unknown) => unknown).call(target, args);
      };
    },
  });
  return { kind: 'sim', ctx, holder: simHolder, snapshot: (b: StateBody) => b, instance, calls: () => calls };
}

const options = (statePath: string, held?: HeldBackend): SessionOptions => ({ statePath, backend: 'sim', operation: 'plan', lockTimeoutMs: 0, ...(held ? { targetOptions: { held } } : {}) });

async function recoveryOf(statePath: string, held?: HeldBackend): Promise<RecoveryReport | null> {
  const r = await withSession(options(statePath, held), async () => ({ ok: true as const, value: null }));
  if (!r.ok) throw new Error(r.error.message);
  return r.recovery;
}

/** Leaves a journal as a process killed at the given point would: header + these records. */
async function leaveJournal(statePath: string, records: readonly JournalRecord[]): Promise<void> {
  const state = await readStateFile(statePath);
  if (!state.ok) throw new Error(state.error.message);
  const opened = await openJournal(statePath, { lineage: state.state.lineage, baseSerial: state.state.serial });
  if (!opened.ok) throw new Error(opened.error.message);
  const appended = await appendRecords(opened.journal, records);
  if (!appended.ok) throw new Error(appended.error.message);
}

async function applyHeld(statePath: string, held: HeldBackend, layout: Layout): Promise<void> {
  const r = await withSession({ ...options(statePath, held), operation: 'apply' }, async (s) => {
    const made = await planFor(s, layout, null);
    if (!made.ok) return { ok: false as const, error: made };
    const ran = await runSteps(s, made.plan.steps, 'apply');
    return ran.ok ? { ok: true as const, value: ran.report } : ran;
  });
  if (!r.ok) throw new Error(r.error.message);
  expect(r.value.outcome).toBe('applied');
}

describe('recovery of a journal left behind', () => {
  it('F4: a journal ending with its end record reports that the apply had completed, and when', async () => {
    const statePath = await tempStatePath();
    expect((await applyLayout(statePath, await exampleLayout('test-lab'))).outcome).toBe('applied');
    const body = await readBody(statePath);
    await leaveJournal(statePath, [
      { type: 'begin', operation: 'apply', firstSeq: 1, steps: body.journalSeq, at: '2026-11-25T10:00:00.000Z' },
      { type: 'end', outcome: 'applied', at: '2026-11-25T10:00:02.000Z' },
    ]);
    const recovery = await recoveryOf(statePath);
    expect(recovery?.finished).toEqual({ outcome: 'applied', at: '2026-11-25T10:00:02.000Z' });
    expect(recovery?.report.undos).toEqual([]);
    expect(existsSync(journalPathFor(statePath))).toBe(false);
    expect(await readBody(statePath)).toEqual(body);
    // Said once: the next command finds nothing.
    expect(await recoveryOf(statePath)).toBeNull();
  });

  it('a held backend of another instance: nothing is undone (those kernel objects died with it)', async () => {
    const statePath = await tempStatePath();
    const first = heldSim('agent pid 1');
    await applyHeld(statePath, first, await exampleLayout('test-lab'));
    const body = await readBody(statePath);
    const lastCall = body.journalSeq;
    // The agent died after its last call was committed, before the end record: the journal says
    // that call (here: huge pages off on the mirror) is in effect and must be undone.
    const killedBeforeEnd: JournalRecord[] = [
      { type: 'begin', operation: 'apply', firstSeq: lastCall, steps: 1, at: 't', backendInstance: 'agent pid 1' },
      { type: 'intent', seq: lastCall, phase: 'forward', index: 0, step: { op: 'set-huge-pages', address: 'ioas.mirror', ioas: 'mirror', enabled: false, previous: true } },
      { type: 'done', seq: lastCall, output: { op: 'set-huge-pages' } },
    ];
    await leaveJournal(statePath, killedBeforeEnd);
    const next = heldSim('agent pid 2');
    const recovery = await recoveryOf(statePath, next);
    expect(recovery?.lostWithBackend).toBe('agent pid 1');
    expect(next.calls()).toBe(0);
    expect(existsSync(journalPathFor(statePath))).toBe(false);

    // The same instance (an agent that survived its apply's storage failure): the committed call
    // is undone on the backend it still holds.
    await leaveJournal(statePath, killedBeforeEnd);
    const callsBefore = first.calls();
    const again = await recoveryOf(statePath, first);
    expect(again?.lostWithBackend).toBeUndefined();
    expect(again?.report.undos.map((u) => [u.call, u.ok])).toEqual([['IOMMU_OPTION(HUGE_PAGES, SET)', true]]);
    expect(first.calls()).toBe(callsBefore + 1);
  });
});
