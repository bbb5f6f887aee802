// The view of what is applied: the recorded state's layout, with every entry drawn at the IOVA
// the kernel actually gave it (its first area), so automatic entries are placed, not predicted.
import type { StateBody } from '../model/recorded.js';
import { entryExtent, recordedLayout } from '../model/recorded.js';
import { layoutToIovaMap } from './from-layout.js';
import type { Placement } from './from-layout.js';
import type { IovaMap } from './model.js';

/** Observed IOVAs of every recorded entry that has areas. */
export function statePlacements(body: StateBody): Placement[] {
  return body.ioas.flatMap((ioas) =>
    ioas.entries.flatMap((entry) => {
      const extent = entryExtent(entry);
      return extent ? [{ ioas: ioas.name, entry: entry.name, iova: extent.iova, predicted: false }] : [];
    }),
  );
}

export function stateToIovaMap(body: StateBody): IovaMap {
  return layoutToIovaMap(recordedLayout(body), statePlacements(body));
}
