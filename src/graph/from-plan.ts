// The views of a plan: the desired layout with predicted IOVAs for automatic entries, and the
// plan picture (recorded state before, desired after) with add/remove/replace statuses.
import type { StateBody } from '../model/recorded.js';
import { entryAddress } from '../plan/diff.js';
import type { Plan } from '../plan/plan.js';
import { diffIovaMaps, layoutToIovaMap } from './from-layout.js';
import type { Placement } from './from-layout.js';
import { statePlacements, stateToIovaMap } from './from-state.js';
import type { IovaMap } from './model.js';

/** IOVAs the simulator predicted for the automatic entries a plan creates (or recreates). */
export function predictedPlacements(plan: Plan): Placement[] {
  return plan.steps.flatMap((step) =>
    (step.op === 'map' || step.op === 'copy') && step.iova === null && step.predictedIova !== undefined
      ? [{ ioas: step.ioas, entry: step.entry, iova: step.predictedIova, predicted: true }]
      : [],
  );
}

/**
 * The layout a plan leads to. Automatic entries the plan leaves alone keep the IOVA recorded in
 * `before` (the state the plan was made against); those it creates are at their predicted IOVA.
 */
export function desiredIovaMap(plan: Plan, before: StateBody): IovaMap {
  const created = predictedPlacements(plan);
  const recreated = new Set(created.map((p) => `${p.ioas}\u0000${p.entry}`));
  // An entry the plan replaces keeps no recorded IOVA: its old area is unmapped first.
  const untouched = statePlacements(before).filter((p) => !recreated.has(`${p.ioas}\u0000${p.entry}`) && !changedIn(plan, p));
  return layoutToIovaMap(plan.desired, [...untouched, ...created]);
}

/** The plan picture: before = recorded state, after = desired with predicted IOVAs. */
export function planToIovaMap(plan: Plan, before: StateBody): IovaMap {
  return diffIovaMaps(stateToIovaMap(before), desiredIovaMap(plan, before));
}

/** The plan recreates (or drops) this entry, so its recorded IOVA says nothing about after. */
function changedIn(plan: Plan, placement: Placement): boolean {
  const addresses = [entryAddress(placement.ioas, 'mapping', placement.entry), entryAddress(placement.ioas, 'copy', placement.entry)];
  return plan.changes.some((c) => addresses.includes(c.address) && c.action !== 'no-op' && c.action !== 'update');
}
