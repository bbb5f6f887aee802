// Plan (and state body) <-> JSON. Every bigint is written as a "0x…" string; decoding turns
// back into bigints exactly the fields that hold 64-bit quantities (a whitelist, so a file path
// or a name that happens to look like hex stays a string). Keys keep their insertion order, which
// the producers make stable, so the same plan always encodes to the same text.

import type { Plan } from './plan.js';
import { PLAN_FORMAT_VERSION } from './plan.js';

const BIGINT_KEYS = new Set([
  'iova', 'length', 'offset', 'userVa', 'size', 'pageSize', 'start', 'last', 'predictedIova',
]);

const HEX = /^0x[0-9a-f]+$/;

export function toJsonValue(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
}

export function encodeJson(value: unknown, indent = 2): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), indent)}\n`;
}

/**
 * Keys that hold 64-bit quantities only inside one parent: elsewhere the same names mean other
 * things (a plan's attribute rows carry display strings under `before`/`after`).
 */
const SCOPED_BIGINT_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  pinned: new Set(['before', 'after']),
};

/** Revives "0x…" strings under the known 64-bit keys into bigints. */
export function reviveBigints(value: unknown): unknown {
  return revive(value, undefined);
}

/** Whether member `key` = `value` is an encoded 64-bit quantity ("0x…" under a bigint key). */
function holdsBigint(key: string, value: unknown, scoped: ReadonlySet<string> | undefined): value is string {
  return (BIGINT_KEYS.has(key) || scoped?.has(key) === true) && typeof value === 'string' && HEX.test(value);
}

function revive(value: unknown, scoped: ReadonlySet<string> | undefined): unknown {
  if (Array.isArray(value)) return value.map((item) => revive(item, scoped));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = holdsBigint(k, v, scoped) ? BigInt(v) : revive(v, SCOPED_BIGINT_KEYS[k]);
    }
    return out;
  }
  return value;
}

/**
 * reviveBigints for a value nobody else holds (freshly parsed JSON): the same result, made by
 * replacing the "0x…" strings where they are instead of copying every object and array. Loading
 * a state of 100k entries otherwise held the parsed tree and its revived copy at once (~50 MB).
 * Only the revived leaves are written. The one difference: a parsed "__proto__" key stays an own
 * property here, where the copy's assignment set the copy's prototype instead; ioasform never
 * writes such a key.
 */
export function reviveBigintsInPlace<T>(value: T): T {
  reviveInPlace(value, undefined);
  return value;
}

function reviveInPlace(value: unknown, scoped: ReadonlySet<string> | undefined): void {
  if (Array.isArray(value)) {
    for (const item of value) reviveInPlace(item, scoped);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const k of Object.keys(record)) {
    const v = record[k];
    if (holdsBigint(k, v, scoped)) record[k] = BigInt(v);
    else reviveInPlace(v, SCOPED_BIGINT_KEYS[k]);
  }
}

export function encodePlan(plan: Plan): string {
  return encodeJson(plan);
}

export type DecodePlanResult = { readonly ok: true; readonly plan: Plan } | { readonly ok: false; readonly code: 'plan-unreadable' | 'plan-version'; readonly message: string };

/** Parses a saved plan file. Structural checks are shallow: plan files are written by ioasform. */
export function decodePlan(text: string): DecodePlanResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, code: 'plan-unreadable', message: `not JSON: ${(e as Error).message}` };
  }
  if (raw === null || typeof raw !== 'object' || !('formatVersion' in raw)) {
    return { ok: false, code: 'plan-unreadable', message: 'not an ioasform plan (no formatVersion)' };
  }
  if ((raw as { formatVersion: unknown }).formatVersion !== PLAN_FORMAT_VERSION) {
    return { ok: false, code: 'plan-version', message: `plan formatVersion ${String((raw as { formatVersion: unknown }).formatVersion)} is not supported (this ioasform reads ${PLAN_FORMAT_VERSION})` };
  }
  const plan = reviveBigints(raw) as Plan;
  if (!Array.isArray(plan.steps) || !Array.isArray(plan.changes) || typeof plan.basis !== 'object') {
    return { ok: false, code: 'plan-unreadable', message: 'plan file is missing steps, changes or basis' };
  }
  return { ok: true, plan };
}
