// plan, apply, show and destroy through the holder agent (`--agent PATH`). The agent plans and
// applies on the backend it holds; this side renders with the very renderers of the local path,
// so the output and the exit codes are the same (plan 0/2/1, apply and destroy 0/1/3).
import { writeFile } from 'node:fs/promises';
import type { ApplyEvent, ApplyReport } from '../../apply/apply.js';
import type { RecoveryReport } from '../../apply/session.js';
import type { AgentClient } from '../../agent/client.js';
import { connectAgent } from '../../agent/client.js';
import type { LostReport } from '../../agent/instance.js';
import type { LastOperation } from '../../agent/service.js';
import type { Reply } from '../../agent/protocol.js';
import { readLayoutText } from '../../config/load.js';
import { emptyStateBody, type BackendKind, type StateBody } from '../../model/recorded.js';
import { encodeJson, encodePlan, reviveBigints, toJsonValue } from '../../plan/encode.js';
import type { Plan } from '../../plan/plan.js';
import { planHasChanges } from '../../plan/plan.js';
import type { CliIo } from '../io.js';
import type { Drift } from '../../apply/drift.js';
import { renderDrift } from '../drift-view.js';
import { memlockView, renderPredictedFailure, renderState, writePlan } from '../plan-view.js';
import type { PredictedFailure } from '../../apply/predict.js';
import { renderTextMap, stateToIovaMap } from '../../graph/index.js';
import { printOutcome, readSavedPlan } from './apply.js';
import type { GlobalOptions } from './common.js';
import { confirm, progress, reportRecovery, styleFor, warnAttention } from './common.js';
import type { PlanOptions } from './plan.js';
import { loadLayoutOrReport } from './plan.js';
import type { ShowOptions } from './show.js';
import { SHOW_FORMAT_VERSION } from './show.js';

type Connected = { client: AgentClient; lost: LostReport | null; backend: BackendKind };

/** Connects and checks that a --backend given on the command line is the agent's. */
async function connected(globals: GlobalOptions, io: CliIo): Promise<Connected | null> {
  const path = globals.agent!;
  const c = await connectAgent(path);
  if (!c.ok) {
    io.stderr(`Error: ${c.message}\n`);
    return null;
  }
  const hello = await c.client.request('hello');
  if (!hello.ok) {
    io.stderr(`Error: the agent at ${path} refused: ${hello.error.code}: ${hello.error.message}\n`);
    c.client.close();
    return null;
  }
  const info = hello.result as { backend: BackendKind; lost: LostReport | null };
  if (globals.backendGiven && info.backend !== globals.backend) {
    io.stderr(`Error: --backend ${globals.backend} does not match the agent at ${path}, which holds the ${info.backend} backend; leave --backend out or use --backend ${info.backend}\n`);
    c.client.close();
    return null;
  }
  return { client: c.client, lost: info.lost, backend: info.backend };
}

function failed(reply: Reply, io: CliIo): number {
  if (reply.ok) return 0;
  const recovery = (reply.error as { recovery?: unknown }).recovery;
  if (recovery) reportRecovery(reviveRecovery(recovery), io);
  const wouldFail = (reply.error as { wouldFail?: unknown }).wouldFail;
  io.stderr(`Error: ${wouldFail ? renderPredictedFailure(revive<PredictedFailure>(wouldFail)).trimEnd() : reply.error.message}\n`);
  return 1;
}

const revive = <T>(value: unknown): T => reviveBigints(value) as T;

function reviveRecovery(raw: unknown): RecoveryReport | null {
  return raw ? revive<RecoveryReport>(raw) : null;
}

async function withAgent(globals: GlobalOptions, io: CliIo, work: (c: Connected) => Promise<number>): Promise<number> {
  const c = await connected(globals, io);
  if (!c) return 1;
  try {
    return await work(c);
  } finally {
    c.client.close();
  }
}

/** Asks the agent for a plan of a layout file (checked here first, so problems print exactly as locally). */
/** A plan made by the agent, with what its rendering needs from the agent's side. */
interface AgentPlan {
  readonly plan: Plan;
  readonly attention: StateBody['attention'];
  /** The agent's RLIMIT_MEMLOCK (it pins the memory): null = unlimited, undefined = unknown. */
  readonly memlockLimit: bigint | null | undefined;
}

async function planLayout(client: AgentClient, file: string, io: CliIo, json = false): Promise<AgentPlan | number> {
  const layout = await loadLayoutOrReport(file, io);
  if (!layout) return 1;
  const read = await readLayoutText(file);
  if ('diagnostic' in read) {
    io.stderr(`Error: ${read.diagnostic.message}\n`);
    return 1;
  }
  return planReply(await client.request('plan', { layout: read.text, file }), io, json);
}

/** The agent's plan; on the kernel its drift check comes with it and is printed before the plan, as Terraform does. */
function planReply(reply: Reply, io: CliIo, json = false): AgentPlan | number {
  if (!reply.ok) return failed(reply, io);
  const result = reply.result as { plan: unknown; attention: unknown; drift?: unknown; memlockLimit?: unknown };
  const drift = Array.isArray(result.drift) ? (result.drift as Drift[]) : [];
  // With --json stdout is the plan document alone.
  (json ? io.stderr : io.stdout)(renderDrift(drift, styleFor(io)));
  return { plan: revive<Plan>(result.plan), attention: revive<StateBody['attention']>(result.attention), memlockLimit: memlockFromWire(result.memlockLimit) };
}

/** The agent sends its limit as "0x…", "unlimited", or nothing when it could not read it. */
function memlockFromWire(value: unknown): bigint | null | undefined {
  if (value === 'unlimited') return null;
  return typeof value === 'string' && /^0x[0-9a-f]+$/.test(value) ? BigInt(value) : undefined;
}

export async function remotePlan(file: string, options: PlanOptions, globals: GlobalOptions, io: CliIo): Promise<number> {
  return withAgent(globals, io, async ({ client }) => {
    const made = await planLayout(client, file, io, options.json === true);
    if (typeof made === 'number') return made;
    warnAttention({ attention: made.attention } as StateBody, io);
    const plan = made.plan;
    if (options.json) io.stdout(encodePlan(plan));
    else writePlan(plan, styleFor(io), { calls: options.calls === true, ...memlockView(plan, () => made.memlockLimit) }, io.stdout);
    if (options.out) {
      await writeFile(options.out, encodePlan(plan));
      if (!options.json) io.stdout(`\nSaved the plan to ${options.out}. To perform exactly these actions, run:\n  ioasform apply ${options.out}\n`);
    }
    return planHasChanges(plan) ? 2 : 0;
  });
}

/** Renders, confirms and sends the plan; Ctrl-C sends `cancel` (the agent stops before its next call and rolls back). */
async function runRemote(client: AgentClient, plan: Plan, io: CliIo, options: { autoApprove: boolean; saved: boolean; verb: 'apply' | 'destroy'; memlockLimit?: bigint | null }): Promise<number> {
  const st = styleFor(io);
  const view = { calls: false, ...memlockView(plan, () => options.memlockLimit) };
  if (!planHasChanges(plan)) {
    writePlan(plan, st, view, io.stdout);
    return 0;
  }
  if (!options.saved) {
    writePlan(plan, st, view, io.stdout);
    if (!options.autoApprove) {
      if (!io.isTTY || process.stdin.isTTY !== true) {
        io.stderr(`Error: not a terminal, so nobody can confirm: pass --auto-approve to ${options.verb} without asking\n`);
        return 1;
      }
      if (!(await confirm(io, `\nDo you want to ${options.verb}?`))) {
        io.stderr('Cancelled: nothing was changed.\n');
        return 1;
      }
    }
  }
  const bar = progress(io);
  const onSignal = (): void => void client.request('cancel');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let reply: Reply;
  try {
    reply = await client.request(options.verb, { plan: toJsonValue(plan) }, { onEvent: (e) => bar.onEvent(revive<ApplyEvent>(e)) });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar.stop();
  }
  if (!reply.ok) return failed(reply, io);
  const result = reply.result as { report: unknown; recovery: unknown };
  reportRecovery(reviveRecovery(result.recovery), io);
  if (result.report === null) return 0;
  return printOutcome({ kind: 'ran', report: revive<ApplyReport>(result.report), verb: options.verb === 'destroy' ? 'Destroy' : 'Apply' }, io);
}

export async function remoteApply(file: string, options: { autoApprove?: boolean }, globals: GlobalOptions, io: CliIo): Promise<number> {
  const saved = await readSavedPlan(file);
  if (saved && 'error' in saved) {
    io.stderr(`Error: ${saved.error}\n`);
    return 1;
  }
  return withAgent(globals, io, async ({ client }) => {
    let plan: Plan;
    let memlock: bigint | null | undefined;
    if (saved) {
      plan = saved.plan;
    } else {
      const made = await planLayout(client, file, io);
      if (typeof made === 'number') return made;
      warnAttention({ attention: made.attention } as StateBody, io);
      plan = made.plan;
      memlock = made.memlockLimit;
    }
    return runRemote(client, plan, io, { autoApprove: options.autoApprove === true, saved: saved !== null, verb: 'apply', ...(memlock !== undefined ? { memlockLimit: memlock } : {}) });
  });
}

export async function remoteDestroy(options: { autoApprove?: boolean }, globals: GlobalOptions, io: CliIo): Promise<number> {
  return withAgent(globals, io, async ({ client }) => {
    const made = planReply(await client.request('plan', { destroy: true }), io);
    if (typeof made === 'number') return made;
    warnAttention({ attention: made.attention } as StateBody, io);
    return runRemote(client, made.plan, io, { autoApprove: options.autoApprove === true, saved: false, verb: 'destroy', ...(made.memlockLimit !== undefined ? { memlockLimit: made.memlockLimit } : {}) });
  });
}

interface ShowResult {
  readonly lineage: string | null;
  readonly serial: number | null;
  readonly state: Omit<StateBody, 'sim'> | null;
  readonly journal: boolean;
  readonly busy: boolean;
  readonly lost: LostReport | null;
  readonly lastOperation: LastOperation | null;
  readonly agent: { pid: number; startedAt: string };
}

export async function remoteShow(options: ShowOptions, globals: GlobalOptions, io: CliIo): Promise<number> {
  return withAgent(globals, io, async ({ client, backend }) => {
    const reply = await client.request('show');
    if (!reply.ok) return failed(reply, io);
    const shown = revive<ShowResult>(reply.result);
    // What only an agent knows goes to stderr, so stdout is what the local `show` prints.
    if (shown.lost) io.stderr(`Note: the agent (pid ${shown.agent.pid}, started ${shown.agent.startedAt}) ${shown.lost.message}.\n`);
    const last = shown.lastOperation;
    if (last) io.stderr(`Note: the agent's last operation: ${last.operation} -> ${last.outcome} at ${last.finishedAt} (${last.executed} call(s))${last.clientGone ? ', finished after its client disconnected' : ''}${last.message ? `: ${last.message}` : ''}.\n`);
    if (shown.journal) io.stderr('Note: an apply journal exists: an apply is running, or was interrupted and the next plan/apply will finish its undo.\n');
    const envelope = shown.lineage !== null && shown.serial !== null ? { lineage: shown.lineage, serial: shown.serial } : null;
    if (options.json) {
      io.stdout(encodeJson({ formatVersion: SHOW_FORMAT_VERSION, lineage: shown.lineage, serial: shown.serial, state: shown.state }));
      return 0;
    }
    // An agent with no state yet shows the empty state of the backend it holds (not --backend's default).
    const body: StateBody = shown.state ? { ...shown.state, sim: null } : emptyStateBody(backend);
    io.stdout(renderState(body, envelope));
    if (options.map !== false && body.ioas.length > 0) io.stdout(`\nIOVA map:\n${renderTextMap(stateToIovaMap(body), { color: io.color })}`);
    return 0;
  });
}
