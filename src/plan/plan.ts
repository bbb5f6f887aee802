// The Plan value: everything `plan` shows and `apply FILE` runs, as plain data. It records the
// state (lineage, serial) and host facts it was made against, so applying a saved plan can refuse
// when anything changed since ("saved plan is stale"). Pure.

import type { Layout } from '../model/layout.js';
import type { BackendKind, StateBody } from '../model/recorded.js';
import { recordedLayout } from '../model/recorded.js';
import type { Step } from '../model/step.js';
import type { Change } from './diff.js';
import { countActions, diff, hasChanges } from './diff.js';
import type { OrderError } from './order.js';
import { order } from './order.js';
import { pinnedChanges, type PinnedIoas } from './pinning.js';

export const PLAN_FORMAT_VERSION = 1;

/** Facts about where the plan will run; a saved plan is stale when they differ at apply time. */
export interface HostFacts {
  readonly backend: BackendKind;
  readonly hostname: string;
  readonly pageSize: bigint;
}

/** The state a plan was made against; lineage null means "no state yet" (empty state). */
export interface PlanBasis {
  readonly lineage: string | null;
  readonly serial: number;
}

export interface PlanSummary {
  readonly add: number;
  readonly replace: number;
  readonly destroy: number;
  readonly update: number;
}

export interface Plan {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  /** The layout file the plan was made from (informational). */
  readonly layoutFile: string | null;
  readonly basis: PlanBasis;
  readonly host: HostFacts;
  readonly changes: readonly Change[];
  readonly steps: readonly Step[];
  readonly summary: PlanSummary;
  /** The desired layout: what the state will describe after a successful apply. */
  readonly desired: Layout;
  /** Per IOAS with a device attached (before or after): pinned bytes. Absent when none pins. */
  readonly pinned?: readonly PinnedIoas[];
}

export interface MakePlanInput {
  readonly desired: Layout;
  readonly recorded: StateBody;
  readonly basis: PlanBasis;
  readonly host: HostFacts;
  readonly layoutFile?: string | null;
}

export type MakePlanResult = { readonly ok: true; readonly plan: Plan } | { readonly ok: false; readonly error: OrderError };

export function makePlan(input: MakePlanInput): MakePlanResult {
  const changes = diff(input.desired, input.recorded);
  const ordered = order(input.desired, input.recorded, changes);
  if (!ordered.ok) return ordered;
  const pinned = pinnedChanges(input.desired, recordedLayout(input.recorded));
  return {
    ok: true,
    plan: {
      formatVersion: PLAN_FORMAT_VERSION,
      layoutFile: input.layoutFile ?? null,
      basis: input.basis,
      host: input.host,
      changes,
      steps: ordered.steps,
      summary: countActions(changes),
      desired: input.desired,
      ...(pinned.length > 0 ? { pinned } : {}),
    },
  };
}

export function planHasChanges(plan: Plan): boolean {
  return hasChanges(plan.changes);
}

/** Why a saved plan may not be applied now, or null when it still fits. */
export function staleReason(plan: Plan, now: PlanBasis, host: HostFacts): string | null {
  if (plan.basis.lineage !== now.lineage) {
    return plan.basis.lineage === null
      ? `the plan was made on empty state, but the state now has lineage ${now.lineage}`
      : `the plan was made against state lineage ${plan.basis.lineage}, the state is now lineage ${now.lineage ?? '(none)'}`;
  }
  if (plan.basis.serial !== now.serial) return `the plan was made against state serial ${plan.basis.serial}, the state is now serial ${now.serial}`;
  for (const key of ['backend', 'hostname', 'pageSize'] as const) {
    if (plan.host[key] !== host[key]) return `host fact ${key} was ${String(plan.host[key])} when planned, is ${String(host[key])} now`;
  }
  return null;
}
