// The simulator backend: openSimulator() returns one simulated iommufd context.
import { Simulator } from './context.js';
import { decodeState } from './snapshot.js';
import { emptyState, resolveOptions } from './state.js';
import type { SimContext, SimOptions } from './types.js';

export type { SimArea, SimContext, SimOptions, TestAddReservedArgs } from './types.js';
export type { SimSnapshot, SimSnapshotArea, SimSnapshotIoas, SimSnapshotPages, SimSnapshotRange } from './snapshot.js';
export { decodeState as decodeSimSnapshot, SIM_SNAPSHOT_FORMAT, SIM_SNAPSHOT_VERSION } from './snapshot.js';

/**
 * Opens a simulated iommufd context (like open("/dev/iommu")), empty or restored from
 * `options.state`. Throws a RangeError for an invalid pageSize and a TypeError for an invalid
 * state (validate untrusted data first with `decodeSimSnapshot`).
 */
export function openSimulator(options: SimOptions = {}): SimContext {
  let state;
  if (options.state !== undefined) {
    const decoded = decodeState(options.state);
    if (!decoded.ok) throw new TypeError(decoded.error);
    state = decoded.state;
  } else {
    state = emptyState(resolveOptions(options));
  }
  return new Simulator(state, options.numberFastPath ?? true);
}
