// A plan crosses JSON (saved plan files, the agent protocol) and must come back with the same
// bigints, and only those: the pinned-memory section's before/after are byte counts, while the
// attribute rows' before/after are display strings even when they look like hex.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLayoutText } from '../../src/config/parse.js';
import { decodePlan, encodePlan, reviveBigints, reviveBigintsInPlace } from '../../src/plan/encode.js';
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

describe('reviveBigintsInPlace (the state load)', () => {
  // Keys that revive, keys that revive only under `pinned`, and keys that never do; values that
  // match the hex pattern and values that almost do.
  const key = fc.constantFrom('iova', 'length', 'offset', 'userVa', 'size', 'pageSize', 'start', 'last', 'predictedIova', 'before', 'after', 'pinned', 'name', 'entries', 'memory', 'sim');
  const leaf = fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => `0x${v.toString(16)}`),
    fc.constantFrom('0x', '0X10', '0x1g', ' 0x1', '0xABC', 'r83', ''),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
  );
  const tree = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('node'), { maxLength: 4 }),
    object: fc.dictionary(key, tie('node'), { maxKeys: 6 }),
  })).node;

  it('gives exactly what the copying reviveBigints gives, on the same parsed JSON', () => {
    fc.assert(
      fc.property(tree, (value) => {
        const text = JSON.stringify(value);
        expect(reviveBigintsInPlace(JSON.parse(text))).toStrictEqual(reviveBigints(JSON.parse(text)));
      }),
      { numRuns: 2000 },
    );
  });

  it('revives the parsed objects themselves, not a copy', () => {
    const parsed = JSON.parse('{"ioas":[{"entries":[{"areas":[{"iova":"0x1000","memory":"r1"}]}]}]}') as { ioas: { entries: { areas: { iova: unknown }[] }[] }[] };
    const area = parsed.ioas[0]!.entries[0]!.areas[0]!;
    expect(reviveBigintsInPlace(parsed)).toBe(parsed);
    expect(area.iova).toBe(0x1000n);
  });
});
