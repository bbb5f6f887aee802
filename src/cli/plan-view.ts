// Plans, apply reports and states as text for people, Terraform style. Pure: returns strings;
// color is a parameter (the command decides: a TTY and no NO_COLOR).
import { diffArrays } from 'diff';
import { deviceSourceText } from '../model/layout.js';
import type { StateBody } from '../model/recorded.js';
import { formatBacking, formatRanges, hex, humanBytes } from '../model/format.js';
import type { Step } from '../model/step.js';
import { callName } from '../model/step.js';
import type { ApplyReport } from '../apply/apply.js';
import type { PredictedFailure } from '../apply/predict.js';
import type { AttributeChange, Change } from '../plan/diff.js';
import { formatCopySource } from '../plan/diff.js';
import type { Plan } from '../plan/plan.js';
import { planHasChanges } from '../plan/plan.js';

export interface Style {
  readonly green: (s: string) => string;
  readonly red: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
}

const ansi = (code: number, reset: number) => (s: string): string => `\u001b[${code}m${s}\u001b[${reset}m`;
export const COLOR: Style = { green: ansi(32, 39), red: ansi(31, 39), yellow: ansi(33, 39), cyan: ansi(36, 39), bold: ansi(1, 22), dim: ansi(2, 22) };
const id = (s: string): string => s;
export const PLAIN: Style = { green: id, red: id, yellow: id, cyan: id, bold: id, dim: id };

const SYMBOL: Record<Change['action'], string> = { create: '+', delete: '-', replace: '-/+', update: '~', 'no-op': ' ' };
const HEADLINE: Record<Change['action'], string> = {
  create: 'will be created',
  delete: 'will be destroyed',
  replace: 'must be replaced',
  update: 'will be updated in place',
  'no-op': 'is unchanged',
};

function symbolStyle(action: Change['action'], st: Style): (s: string) => string {
  switch (action) {
    case 'create': return st.green;
    case 'delete': return st.red;
    case 'replace': return (s) => st.red(s.slice(0, 1)) + s.slice(1, 2) + st.green(s.slice(2));
    case 'update': return st.yellow;
    case 'no-op': return id;
  }
}

/** Splits a formatted range list back into its items for an element-wise diff. */
function rangeItems(text: string): string[] {
  const inner = /^\[(.*)\]/.exec(text)?.[1] ?? '';
  return inner === '' ? [] : inner.split(', ');
}

/** Attributes that are byte counts get their size in binary units after the hex (display only). */
const SIZE_ATTRIBUTES = new Set(['size', 'length']);

function withUnits(name: string, value: string | null): string | null {
  if (value === null || !SIZE_ATTRIBUTES.has(name) || !/^0x[0-9a-f]+$/.test(value)) return value;
  return `${value} (${humanBytes(BigInt(value))})`;
}

function attributeLines(change: Change, st: Style): string[] {
  const width = Math.max(0, ...change.attributes.map((a) => a.name.length));
  const lines: string[] = [];
  const pad = (a: AttributeChange): string => a.name.padEnd(width);
  for (const raw of change.attributes) {
    const a: AttributeChange = { ...raw, before: withUnits(raw.name, raw.before), after: withUnits(raw.name, raw.after) };
    if (change.action === 'create') {
      const value = a.name === 'iova' && a.after === '(auto)' && change.predictedIova !== undefined ? `(auto: ${hex(change.predictedIova)} predicted)` : a.after;
      lines.push(`      ${st.green('+')} ${pad(a)} = ${value}`);
    } else if (change.action === 'delete') {
      lines.push(`      ${st.red('-')} ${pad(a)} = ${a.before}`);
    } else if (a.before !== a.after) {
      const note = a.forcesReplacement ? st.red(' # forces replacement') : '';
      lines.push(`      ${st.yellow('~')} ${pad(a)} = ${a.before} -> ${a.after}${note}`);
      // Long lists (allowed ranges) read better as an element diff than as one long line.
      if (a.name === 'allowed_iovas' && a.before !== null && a.after !== null) {
        for (const part of diffArrays(rangeItems(a.before), rangeItems(a.after))) {
          if (!part.added && !part.removed) continue;
          for (const item of part.value) lines.push(`          ${part.added ? st.green(`+ ${item}`) : st.red(`- ${item}`)}`);
        }
      }
    } else {
      const value = a.name === 'iova' && a.after === '(auto)' && change.predictedIova !== undefined ? `(auto: ${hex(change.predictedIova)} predicted)` : a.after;
      lines.push(`        ${pad(a)} = ${value}`);
    }
  }
  return lines;
}

/** For a device: what happens to it, e.g. ` (attach to ioas.dp0)`. */
function deviceNote(change: Change): string {
  if (change.kind !== 'device') return '';
  const ioas = change.attributes.find((a) => a.name === 'ioas');
  const from = ioas?.before ?? null;
  const to = ioas?.after ?? null;
  if (change.action === 'create') return ` (attach to ioas.${to})`;
  if (change.action === 'delete') return ` (detach from ioas.${from})`;
  if (change.action === 'replace') return ` (detach from ioas.${from}, attach to ioas.${to})`;
  return '';
}

export function renderChange(change: Change, st: Style): string[] {
  const symbol = SYMBOL[change.action];
  const lines = [`  ${st.bold(`# ${change.address}`)} ${HEADLINE[change.action]}`];
  for (const reason of change.reasons) lines.push(`  ${st.dim(`# (${reason})`)}`);
  lines.push(`${symbolStyle(change.action, st)(symbol.padStart(3))} ${change.address}${deviceNote(change)} {`);
  lines.push(...attributeLines(change, st));
  lines.push('    }');
  return lines;
}

export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  const update = s.update > 0 ? `${s.update} to update in place, ` : '';
  return `Plan: ${s.add} to add, ${update}${s.replace} to replace, ${s.destroy} to destroy.`;
}

export function describeStep(step: Step): string {
  switch (step.op) {
    case 'attach': return `device=${step.device.name} ${deviceSourceText(step.device.source)} ioas=${step.ioas} profile=${step.device.profile}`;
    case 'detach': return `device=${step.device.name} ${deviceSourceText(step.device.source)} ioas=${step.ioas}`;
    case 'create-memory': return `memory=${step.memory.name} size=${hex(step.memory.size)} backing=${formatBacking(step.memory.backing)}`;
    case 'release-memory': return `memory=${step.memory.name} user_va=${hex(step.userVa)}`;
    case 'set-rlimit-mode': return `rlimit_mode ${step.previous} -> ${step.mode}`;
    case 'alloc-ioas': return `ioas=${step.ioas}`;
    case 'destroy-ioas': return `ioas=${step.ioas}`;
    case 'allow-iovas': return `ioas=${step.ioas} ranges=${formatRanges(step.ranges)}`;
    case 'set-huge-pages': return `ioas=${step.ioas} huge_pages=${step.enabled ? 1 : 0}`;
    case 'map': {
      const iova = step.iova !== null ? `${hex(step.iova)} (fixed)` : step.predictedIova !== undefined ? `${hex(step.predictedIova)} (auto, predicted)` : '(auto)';
      return `ioas=${step.ioas} memory=${step.memory}+${hex(step.offset)} length=${hex(step.length)} iova=${iova} access=${step.access}`;
    }
    case 'copy': {
      const iova = step.iova !== null ? `${hex(step.iova)} (fixed)` : step.predictedIova !== undefined ? `${hex(step.predictedIova)} (auto, predicted)` : '(auto)';
      const from = step.from.kind === 'entry' ? `ioas.${step.from.ioas}/${step.from.entry}+${hex(step.from.offset)}` : `ioas.${step.from.ioas}@${hex(step.from.iova)}`;
      return `ioas=${step.ioas} from=${from} length=${hex(step.length)} iova=${iova} access=${step.access}`;
    }
    case 'unmap': {
      const first = step.areas[0];
      const length = step.areas.reduce((sum, a) => sum + a.length, 0n);
      return `ioas=${step.ioas} iova=${first ? hex(first.iova) : '?'} length=${hex(length)} (${step.areas.length} area${step.areas.length === 1 ? '' : 's'})`;
    }
  }
}

export function renderCalls(steps: readonly Step[], st: Style): string[] {
  const width = String(steps.length).length;
  return steps.map((s, i) => `  ${String(i + 1).padStart(width)}. ${st.cyan(callName(s))} ${describeStep(s)}  ${st.dim(`# ${s.address}`)}`);
}

/**
 * The pinned-memory section: per IOAS what the apply adds, and the total against the memlock
 * limit (`null`: unlimited, undefined: unknown) in the layout's accounting mode.
 */
export function renderPinned(plan: Plan, st: Style, memlockLimit: bigint | null | undefined): string[] {
  const pinned = plan.pinned ?? [];
  if (pinned.length === 0) return [];
  const mode = plan.desired.options.rlimitMode;
  const lines = [`Pinned memory (a device pins every mapping of its IOAS; RLIMIT_MEMLOCK accounting: ${mode === 'user' ? 'user (per user)' : 'process (per process)'}):`];
  let total = 0n;
  for (const p of pinned) {
    const delta = p.after - p.before;
    // Exact binary units, as the plan's size attributes show them; --json keeps the byte strings.
    const sign = delta >= 0n ? `+${humanBytes(delta)}` : `-${humanBytes(-delta)}`;
    lines.push(`  ioas.${p.ioas}: ${humanBytes(p.before)} -> ${humanBytes(p.after)} (${sign})`);
    total += p.after;
  }
  let verdict: string;
  if (memlockLimit === undefined) verdict = 'memlock limit unknown here';
  else if (memlockLimit === null) verdict = 'memlock limit unlimited';
  else if (total > memlockLimit) verdict = st.red(`exceeds the memlock limit ${humanBytes(memlockLimit)}: pinning fails ENOMEM unless the applier has CAP_IPC_LOCK`);
  else verdict = `within the memlock limit ${humanBytes(memlockLimit)}`;
  lines.push(`  total after apply: ${humanBytes(total)}, ${verdict}`, '');
  return lines;
}

/**
 * The plan's view options for the memlock verdict: the limit of the process that will pin the
 * memory (this one locally, the agent through --agent), read only when the plan pins anything.
 */
export function memlockView(plan: Plan, limit: () => bigint | null | undefined): { memlockLimit?: bigint | null } {
  return plan.pinned ? { memlockLimit: limit() } : {};
}

export function renderPlan(plan: Plan, st: Style, options: { calls: boolean; memlockLimit?: bigint | null }): string {
  const parts: string[] = [];
  writePlan(plan, st, options, (text) => parts.push(text));
  return parts.join('');
}

/** Text handed to `write` in pieces of about this many characters. */
const WRITE_BATCH_CHARS = 64 * 1024;

/**
 * renderPlan's text, handed to `write` in pieces of ~64 KiB as it is produced: a plan of 100k
 * changes is ~22 MB of text made of ~900k lines, which as one string (its lines, their join, and
 * the write's UTF-8 copy) took ~300 MB of heap at once.
 */
export function writePlan(plan: Plan, st: Style, options: { calls: boolean; memlockLimit?: bigint | null }, write: (text: string) => void): void {
  if (!planHasChanges(plan)) {
    write(`${st.green('No changes.')} The recorded state matches the layout; nothing to apply.\n`);
    return;
  }
  let batch: string[] = [];
  let batchChars = 0;
  const emit = (lines: readonly string[]): void => {
    for (const line of lines) {
      batch.push(line);
      batchChars += line.length + 1;
      if (batchChars >= WRITE_BATCH_CHARS) flush();
    }
  };
  const flush = (): void => {
    if (batch.length > 0) write(`${batch.join('\n')}\n`);
    batch = [];
    batchChars = 0;
  };
  emit(['ioasform will perform the following actions:', '']);
  for (const change of plan.changes) {
    if (change.action === 'no-op') continue;
    emit([...renderChange(change, st), '']);
  }
  emit(renderPinned(plan, st, options.memlockLimit));
  if (options.calls) emit(['Calls, in order:', ...renderCalls(plan.steps, st), '']);
  emit([st.bold(summaryLine(plan))]);
  flush();
}

export function renderPredictedFailure(f: PredictedFailure): string {
  return `This plan would fail at call ${f.index + 1}: ${f.call} for ${f.step.address} (${describeStep(f.step)}) -> ${f.code}: ${f.meaning}.\n`;
}

export function renderApplyReport(report: ApplyReport, st: Style, verb: 'Apply' | 'Destroy' = 'Apply'): string {
  const lines: string[] = [];
  if (report.failure) {
    const f = report.failure;
    if (f.code === 'INTERRUPTED') lines.push(st.red(`Interrupted before ${f.call} for ${f.step.address}: ${f.meaning}.`));
    else lines.push(st.red(`Error: ${f.call} for ${f.step.address} failed: ${f.code}: ${f.meaning}.`), `  call: ${describeStep(f.step)}`);
  }
  if (report.undos.length > 0 || report.failure) {
    lines.push(report.undos.length > 0 ? 'Rolling back, in reverse:' : 'Nothing had been done; nothing to roll back.');
    for (const u of report.undos) {
      lines.push(`  ${u.ok ? st.green('ok  ') : st.red('FAIL')} ${u.call} ${describeStep(u.step)}  # ${u.step.address}${u.ok ? '' : ` -> ${u.code}: ${u.meaning ?? ''}`}`);
    }
  }
  if (report.outcome === 'rolled-back') lines.push('Rollback complete: the backend and the state are as they were before the apply.');
  if (report.outcome === 'attention') {
    lines.push(st.red('Rollback INCOMPLETE. Left on the backend:'), ...report.leftovers.map((l) => `  ${l}`), 'The state is marked as needing attention.');
  }
  if (report.outcome === 'applied') lines.push(st.green(`${verb} complete: ${report.executed} call${report.executed === 1 ? '' : 's'} made.`));
  return `${lines.join('\n')}\n`;
}

export function renderState(body: StateBody, envelope: { lineage: string; serial: number } | null): string {
  if (!envelope) return 'No state: nothing has been applied.\n';
  const lines = [`# state lineage ${envelope.lineage} serial ${envelope.serial} (backend ${body.backend})`, `options: rlimit_mode = ${body.options.rlimitMode}`];
  if (body.attention) lines.push(`ATTENTION: ${body.attention.reason}`, ...body.attention.leftovers.map((l) => `  ${l}`));
  for (const m of body.memory) lines.push('', `memory.${m.name}:`, `  size    = ${hex(m.size)}`, `  backing = ${formatBacking(m.backing)}`, `  user_va = ${hex(m.userVa)}`);
  for (const i of body.ioas) {
    lines.push('', `ioas.${i.name}: (id ${i.id})`, `  allowed_iovas = ${formatRanges(i.allowedIovas)}`, `  huge_pages    = ${i.hugePages}`);
    for (const e of i.entries) {
      const what = e.spec.kind === 'mapping' ? `memory.${e.spec.mapping.memory}+${hex(e.spec.mapping.offset)}` : `copy of ${formatCopySource(e.spec.copy.from)}`;
      lines.push(`  ${e.spec.kind}.${e.name}: ${what}`);
      for (const a of e.areas) lines.push(`    area iova ${hex(a.iova)}-${hex(a.iova + a.length - 1n)} length ${hex(a.length)} user_va ${hex(a.userVa)} access ${a.access}`);
    }
  }
  for (const d of body.devices ?? []) {
    lines.push('', `device.${d.name}: (dev id ${d.devId}, hwpt id ${d.ptId})`, `  source  = ${deviceSourceText(d.source)}`, `  ioas    = ${d.ioas}`, `  profile = ${d.profile}`);
  }
  return `${lines.join('\n')}\n`;
}
