// What a CLI connected to an agent prints about a recovered journal must be what a local CLI
// prints: the recovery report crosses the wire whole (its "had completed" and "lost with its
// backend" parts included), minus the simulator snapshot.
import { describe, expect, it } from 'vitest';
import { recoveryForWire } from '../../src/agent/service.js';
import { frameJson } from '../../src/agent/protocol.js';
import { reportRecovery } from '../../src/cli/commands/common.js';
import type { CliIo } from '../../src/cli/io.js';
import type { RecoveryReport } from '../../src/apply/session.js';
import { emptyStateBody } from '../../src/model/recorded.js';
import { reviveBigints } from '../../src/plan/encode.js';

function printed(recovery: RecoveryReport | null): string {
  let text = '';
  const io: CliIo = { stdout: (t) => (text += t), stderr: (t) => (text += t), isTTY: false, color: false };
  reportRecovery(recovery, io);
  return text;
}

const overWire = (recovery: RecoveryReport): RecoveryReport =>
  reviveBigints(JSON.parse(frameJson(recoveryForWire(recovery)))) as RecoveryReport;

const report = { outcome: 'applied' as const, body: emptyStateBody('sim'), executed: 3, failure: null, undos: [], leftovers: [] };

describe('recovery reports over the agent protocol', () => {
  it('an interrupted apply that had completed is printed as such, as locally', () => {
    const recovery: RecoveryReport = { operation: 'apply', report, finished: { outcome: 'applied', at: '2026-11-26T01:00:00.000Z' } };
    const remote = printed(overWire(recovery));
    expect(remote).toContain('had completed: the layout of 2026-11-26T01:00:00.000Z is in effect');
    expect(remote).toBe(printed(recovery));
  });

  it('a journal lost with its backend names the instance, as locally', () => {
    const recovery: RecoveryReport = { operation: 'destroy', report, lostWithBackend: 'kernel:1234:boot-x' };
    const remote = printed(overWire(recovery));
    expect(remote).toContain('made on backend instance kernel:1234:boot-x');
    expect(remote).toBe(printed(recovery));
  });

  it('the simulator snapshot stays on the agent', () => {
    const recovery: RecoveryReport = { operation: 'apply', report: { ...report, body: { ...report.body, sim: { big: 'snapshot' } as never } } };
    expect(JSON.stringify(recoveryForWire(recovery))).not.toContain('snapshot');
  });
});
