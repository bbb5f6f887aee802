import { describe, expect, it } from 'vitest';
import { desiredIovaMap, planToIovaMap, predictedPlacements, statePlacements, stateToIovaMap } from '../../src/graph/index.js';
import type { Box, IovaMap } from '../../src/graph/index.js';
import { change, copyOf, layoutOf, mapping, mapStep, MiB, planOf, recorded, stateBody } from './state-plan-fixtures.js';

function box(map: IovaMap, id: string): Box | undefined {
  return map.lanes.flatMap((l) => l.boxes).find((b) => b.id === id);
}

const auto = mapping('auto', null, 4n * MiB);
const fixed = mapping('fixed', 0x10_0000n);

describe('stateToIovaMap', () => {
  it('draws automatic entries at the IOVA of their first recorded area, as observed', () => {
    const body = stateBody([{ name: 'dp', entries: [recorded({ kind: 'mapping', mapping: fixed }, 0x10_0000n, 2n * MiB), recorded({ kind: 'mapping', mapping: auto }, 0x4000_0000n, 4n * MiB, 2)] }]);
    const map = stateToIovaMap(body);
    expect(box(map, 'dp/mapping.auto')).toMatchObject({ iova: 0x4000_0000n, length: 4n * MiB, status: 'same' });
    expect(box(map, 'dp/mapping.auto')?.predicted).toBeUndefined();
    expect(box(map, 'dp/mapping.fixed')).toMatchObject({ iova: 0x10_0000n });
    expect(map.lanes[0]?.unplaced ?? []).toEqual([]);
  });

  it('resolves a copy of an automatic mapping to its recorded source range', () => {
    const mirror = copyOf('mirror', 'dp', 'auto', null, 4n * MiB);
    const body = stateBody([
      { name: 'dp', entries: [recorded({ kind: 'mapping', mapping: auto }, 0x4000_0000n, 4n * MiB)] },
      { name: 'peer', entries: [recorded({ kind: 'copy', copy: mirror }, 0x8000_0000n, 4n * MiB)] },
    ]);
    const copy = box(stateToIovaMap(body), 'peer/copy.mirror');
    expect(copy).toMatchObject({ iova: 0x8000_0000n, kind: 'copy', memory: 'pool' });
    expect(copy?.source).toMatchObject({ lane: 'dp', boxId: 'dp/mapping.auto', range: { start: 0x4000_0000n, last: 0x4000_0000n + 4n * MiB - 1n } });
  });

  it('an entry without areas gets no placement (listed, not guessed)', () => {
    const body = stateBody([{ name: 'dp', entries: [{ name: 'auto', spec: { kind: 'mapping', mapping: auto }, areas: [] }] }]);
    expect(statePlacements(body)).toEqual([]);
    expect(stateToIovaMap(body).lanes[0]?.unplaced).toEqual(['auto']);
  });
});

describe('plans', () => {
  it('predictedPlacements takes the predicted IOVA of automatic map steps only', () => {
    const plan = planOf(layoutOf([{ name: 'dp', mappings: [auto, fixed] }]), [mapStep('dp', fixed), mapStep('dp', auto, 0x2000_0000n)], []);
    expect(predictedPlacements(plan)).toEqual([{ ioas: 'dp', entry: 'auto', iova: 0x2000_0000n, predicted: true }]);
  });

  it('desiredIovaMap keeps recorded IOVAs of untouched automatic entries and predicts new ones', () => {
    const other = mapping('other', null);
    const before = stateBody([{ name: 'dp', entries: [recorded({ kind: 'mapping', mapping: auto }, 0x4000_0000n, 4n * MiB)] }]);
    const desired = layoutOf([{ name: 'dp', mappings: [auto, other] }]);
    const plan = planOf(desired, [mapStep('dp', other, 0x4040_0000n)], [change('ioas.dp/mapping.auto', 'no-op'), change('ioas.dp/mapping.other', 'create')]);
    const map = desiredIovaMap(plan, before);
    expect(box(map, 'dp/mapping.auto')).toMatchObject({ iova: 0x4000_0000n });
    expect(box(map, 'dp/mapping.auto')?.predicted).toBeUndefined();
    expect(box(map, 'dp/mapping.other')).toMatchObject({ iova: 0x4040_0000n, predicted: true });
  });

  it('planToIovaMap marks added, removed and replaced boxes against the recorded state', () => {
    const gone = mapping('gone', 0x100_0000n);
    const moved = mapping('fixed', 0x20_0000n);
    const added = mapping('added', null);
    const before = stateBody([{ name: 'dp', entries: [recorded({ kind: 'mapping', mapping: fixed }, 0x10_0000n, 2n * MiB), recorded({ kind: 'mapping', mapping: gone }, 0x100_0000n, 2n * MiB)] }]);
    const desired = layoutOf([{ name: 'dp', mappings: [moved, added] }]);
    const plan = planOf(desired, [mapStep('dp', moved), mapStep('dp', added, 0x4000_0000n)], [change('ioas.dp/mapping.fixed', 'replace'), change('ioas.dp/mapping.gone', 'delete'), change('ioas.dp/mapping.added', 'create')]);
    const map = planToIovaMap(plan, before);
    expect(box(map, 'dp/mapping.added')).toMatchObject({ status: 'add', iova: 0x4000_0000n });
    expect(box(map, 'dp/mapping.gone')).toMatchObject({ status: 'remove', iova: 0x100_0000n });
    expect(box(map, 'dp/mapping.fixed')).toMatchObject({ status: 'replace', iova: 0x20_0000n, previous: { iova: 0x10_0000n, length: 2n * MiB } });
  });

  it('a replaced automatic entry is drawn at its new predicted IOVA, not its recorded one', () => {
    const before = stateBody([{ name: 'dp', entries: [recorded({ kind: 'mapping', mapping: auto }, 0x4000_0000n, 4n * MiB)] }]);
    const plan = planOf(layoutOf([{ name: 'dp', mappings: [auto] }]), [mapStep('dp', auto, 0x8000_0000n)], [change('ioas.dp/mapping.auto', 'replace')]);
    expect(box(planToIovaMap(plan, before), 'dp/mapping.auto')).toMatchObject({ status: 'replace', iova: 0x8000_0000n, predicted: true });
  });

  it('against an empty state everything is added, and a whole IOAS that goes away is removed', () => {
    const empty = stateBody([]);
    const plan = planOf(layoutOf([{ name: 'dp', mappings: [fixed] }]), [mapStep('dp', fixed)], []);
    const map = planToIovaMap(plan, empty);
    expect(map.lanes.map((l) => [l.ioas, l.status])).toEqual([['dp', 'add']]);
    const destroyAll = planToIovaMap(planOf(layoutOf([]), [], []), stateBody([{ name: 'dp', entries: [recorded({ kind: 'mapping', mapping: fixed }, 0x10_0000n, 2n * MiB)] }]));
    expect(destroyAll.lanes.map((l) => [l.ioas, l.status])).toEqual([['dp', 'remove']]);
    expect(box(destroyAll, 'dp/mapping.fixed')?.status).toBe('remove');
  });
});
