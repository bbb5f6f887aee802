// The state store as the commands use it: the state body (src/model/recorded.ts) inside the
// envelope of src/state/ (lineage, serial, checksum, atomic write). Bigints travel as "0x…";
// the simulator snapshot inside the body is kept as the simulator wrote it.
import type { BackendKind, StateBody } from '../model/recorded.js';
import { emptyStateBody } from '../model/recorded.js';
import { reviveBigintsInPlace } from '../plan/encode.js';
import type { PlanBasis } from '../plan/plan.js';
import { newLineageState, nextState, readStateFileIfExists, writeStateFile } from '../state/state-file.js';

export interface LoadedState {
  /** null when there is no state file yet (empty state). */
  readonly envelope: { readonly lineage: string; readonly serial: number } | null;
  readonly body: StateBody;
}

export type LoadResult = { readonly ok: true; readonly state: LoadedState } | { readonly ok: false; readonly code: string; readonly message: string };

export function basisOf(state: LoadedState): PlanBasis {
  return state.envelope ? { lineage: state.envelope.lineage, serial: state.envelope.serial } : { lineage: null, serial: 0 };
}

/**
 * The body as parsed from the state file, revived in place (the parsed tree is this function's
 * alone: readStateFile hands over a fresh parse), so a load never holds two copies of it.
 */
function decodeBody(raw: unknown): StateBody | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const { sim, ...rest } = raw as { sim?: unknown };
  const body = { ...reviveBigintsInPlace(rest as Omit<StateBody, 'sim'>), sim: sim ?? null };
  if (!Array.isArray(body.ioas) || !Array.isArray(body.memory) || typeof body.options !== 'object') return null;
  return body as StateBody;
}

export async function loadState(path: string, backend: BackendKind): Promise<LoadResult> {
  const read = await readStateFileIfExists(path);
  if (!read.ok) return { ok: false, code: read.error.code, message: `${path}: ${read.error.message}` };
  if (read.state === null) return { ok: true, state: { envelope: null, body: emptyStateBody(backend) } };
  const body = decodeBody(read.state.body);
  if (!body) return { ok: false, code: 'STATE_BAD_BODY', message: `${path}: the state body is not an ioasform state` };
  if (body.backend !== backend) {
    return { ok: false, code: 'STATE_OTHER_BACKEND', message: `${path} records the ${body.backend} backend; run with --backend ${body.backend} or use another --state file` };
  }
  return { ok: true, state: { envelope: { lineage: read.state.lineage, serial: read.state.serial }, body } };
}

/** Writes `body` as the next serial of the loaded lineage (or starts a lineage). */
export async function saveState(path: string, previous: LoadedState['envelope'], body: StateBody): Promise<{ ok: true; envelope: { lineage: string; serial: number } } | { ok: false; code: string; message: string }> {
  const unsealed = previous ? nextState(previous, body) : newLineageState(body);
  const written = await writeStateFile(path, unsealed);
  if (!written.ok) return { ok: false, code: written.error.code, message: written.error.message };
  return { ok: true, envelope: { lineage: written.state.lineage, serial: written.state.serial } };
}
