// A plan crosses JSON (saved plan files, the agent protocol) and must come back with the same
// bigints, and only those: the pinned-memory section's before/after are byte counts, while the
// attribute rows' before/after are display strings even when they look like hex.
import { describe, expect, it } from 'vitest';
import { parseLayoutText } from '../../src/config/parse.js';
import { decodePlan, encodePlan, reviveBigints } from '../../src/plan/encode.js';
import { makePlan } from '../../src/plan/plan.js';
import { emptyStateBody } from '../../src/model/recorded.js';
import { readFileSync } from 'node:fs';

describe('plan JSON round trip', () => {
  it('the pinned section of a device layout comes back as bigints, equal to the plan made', () => {
    const parsed = parseLayoutText(readFileSync('examples/nic-passthrough.yaml', 'utf8'), 'examples/nic-passthrough.yaml');
    if (!parsed.layout) throw new Error('example does not parse');
    const made = makePlan({ desired: parsed.layout, recorded: emptyStateBody('sim'), basis: { lineage: null, serial: 0 }, host: { backend: 'sim', hostname: 'h', pageSize: 4096n }, layoutFile: 'x.yaml' });
    if (!made.ok) throw new Error('no plan');
    const plan = made.plan;
    expect(plan.pinned?.length).toBeGreaterThan(0);
    const decoded = decodePlan(encodePlan(plan));
    if (!decoded.ok) throw new Error(decoded.message);
    expect(decoded.plan.pinned).toEqual(plan.pinned);
    expect(typeof decoded.plan.pinned?.[0]?.after).toBe('bigint');
  });

  it('before/after outside the pinned section stay strings, even hex-looking ones', () => {
    const revived = reviveBigints({ changes: [{ attributes: [{ name: 'iova', before: '0x1000', after: '0x2000' }] }], pinned: [{ ioas: 'a', before: '0x0', after: '0x10' }] }) as {
      changes: { attributes: { before: unknown; after: unknown }[] }[];
      pinned: { before: unknown; after: unknown }[];
    };
    expect(revived.changes[0]?.attributes[0]).toMatchObject({ before: '0x1000', after: '0x2000' });
    expect(revived.pinned[0]).toMatchObject({ before: 0n, after: 0x10n });
  });
});
