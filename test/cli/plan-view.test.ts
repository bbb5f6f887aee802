import { describe, expect, it } from 'vitest';
import { PLAIN, renderCalls, renderChange, renderPinned, renderPlan, summaryLine, writePlan } from '../../src/cli/plan-view.js';
import { planHasChanges, type Plan } from '../../src/plan/plan.js';
import { generateLayout } from '../../bench/generate.js';
import { parseLayoutText } from '../../src/config/parse.js';
import { makePlan } from '../../src/plan/plan.js';
import type { Layout } from '../../src/model/layout.js';
import { appliedState, ioas, layout, mapping, mem } from '../plan/helpers.js';

const host = { backend: 'sim' as const, hostname: 'h', pageSize: 4096n };

function planOf(desired: Layout, applied: Layout) {
  const made = makePlan({ desired, recorded: appliedState(applied), basis: { lineage: 'l', serial: 1 }, host });
  if (!made.ok) throw new Error(made.error.message);
  return made.plan;
}

describe('plan view', () => {
  it('shows an in-place allowed-range update with an element diff of the list', () => {
    const before = layout([mem('pool')], [ioas('dp', { allowedIovas: [{ start: 0x1000n, last: 0x1fffn }, { start: 0x4000n, last: 0x4fffn }] })]);
    const after = layout([mem('pool')], [ioas('dp', { allowedIovas: [{ start: 0x1000n, last: 0x1fffn }, { start: 0x8000n, last: 0x8fffn }] })]);
    const text = renderPlan(planOf(after, before), PLAIN, { calls: true });
    expect(text).toContain('  ~ ioas.dp {');
    expect(text).toContain('- 0x4000-0x4fff');
    expect(text).toContain('+ 0x8000-0x8fff');
    expect(text).not.toContain('- 0x1000-0x1fff');
    expect(text).toMatch(/1\. IOMMU_IOAS_ALLOW_IOVAS ioas=dp ranges=\[0x1000-0x1fff, 0x8000-0x8fff\]/);
    expect(text).toMatch(/^Plan: 0 to add, 1 to update in place, 0 to replace, 0 to destroy\.$/m);
  });

  it('summarizes adds, replacements and destroys in Terraform words', () => {
    const applied = layout([mem('pool')], [ioas('dp', { mappings: [mapping('a', 'pool', { iova: 0x10000n }), mapping('b', 'pool')] })]);
    const desired = layout([mem('pool')], [ioas('dp', { mappings: [mapping('a', 'pool', { iova: 0x20000n }), mapping('c', 'pool'), mapping('d', 'pool')] })]);
    expect(summaryLine(planOf(desired, applied))).toBe('Plan: 2 to add, 1 to replace, 1 to destroy.');
  });

  it('shows sizes and lengths in binary units next to the hex, exactly, and changes them on both sides', () => {
    const applied = layout([mem('pool', 3n << 30n)], [ioas('dp', { mappings: [mapping('a', 'pool', { iova: 0x10000n, length: 0x1800n })] })]);
    const desired = layout([mem('pool', 3n << 30n)], [ioas('dp', { mappings: [mapping('a', 'pool', { iova: 0x10000n, length: 0x200000n })] })]);
    expect(renderPlan(planOf(applied, layout([], [])), PLAIN, { calls: false })).toContain('+ size    = 0xc0000000 (3 GiB)');
    const text = renderPlan(planOf(desired, applied), PLAIN, { calls: false });
    expect(text).toContain('~ length = 0x1800 (6 KiB) -> 0x200000 (2 MiB) # forces replacement');
    expect(text).toContain('  offset = 0x0\n');
  });

  it('says there is nothing to do when nothing changes', () => {
    const l = layout([mem('pool')], [ioas('dp', { mappings: [mapping('a', 'pool')] })]);
    expect(renderPlan(planOf(l, l), PLAIN, { calls: false })).toMatch(/^No changes\./);
  });

  it('writePlan hands out the text in ~64 KiB pieces that add up to the whole rendering', () => {
    // The rendering as it was built before writePlan (all lines, one join), as the reference.
    const wholeText = (plan: Plan, calls: boolean): string => {
      if (!planHasChanges(plan)) return renderPlan(plan, PLAIN, { calls });
      const lines = ['ioasform will perform the following actions:', ''];
      for (const change of plan.changes) if (change.action !== 'no-op') lines.push(...renderChange(change, PLAIN), '');
      lines.push(...renderPinned(plan, PLAIN, undefined));
      if (calls) lines.push('Calls, in order:', ...renderCalls(plan.steps, PLAIN), '');
      lines.push(summaryLine(plan));
      return `${lines.join('\n')}\n`;
    };
    const desired = parseLayoutText(generateLayout({ count: 3000, seed: 3 }).text).layout!;
    const plan = planOf(desired, layout([], []));
    for (const calls of [false, true]) {
      const pieces: string[] = [];
      writePlan(plan, PLAIN, { calls }, (text) => pieces.push(text));
      expect(pieces.length).toBeGreaterThan(3);
      expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(80 * 1024);
      expect(pieces.join('')).toBe(wholeText(plan, calls));
      expect(renderPlan(plan, PLAIN, { calls })).toBe(wholeText(plan, calls));
    }
  });
});

