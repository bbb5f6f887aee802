// What the agent does for each op, independent of sockets: plan and show read the last committed
// state; apply and destroy run one at a time (a queue) through the very session, journal and
// rollback code the local CLI uses, on the backend the agent holds.
import { checkDrift } from '../apply/drift.js';
import { readMemlockLimit } from '../apply/host-profile.js';
import { planFor } from '../apply/make.js';
import type { ApplyEvent, ApplyReport } from '../apply/apply.js';
import type { RecoveryReport, Session, SessionOptions, SessionResult } from '../apply/session.js';
import { hostFacts, runSteps, withSession } from '../apply/session.js';
import type { LoadedState } from '../apply/store.js';
import { basisOf, loadState } from '../apply/store.js';
import { MAX_LAYOUT_BYTES } from '../config/load.js';
import { parseLayoutText } from '../config/parse.js';
import { hasErrors } from '../diagnostics.js';
import { EMPTY_LAYOUT } from '../model/layout.js';
import type { Layout } from '../model/layout.js';
import type { BackendKind, StateBody } from '../model/recorded.js';
import { encodePlan, reviveBigints } from '../plan/encode.js';
import type { Plan } from '../plan/plan.js';
import { PLAN_FORMAT_VERSION, planHasChanges, staleReason } from '../plan/plan.js';
import { existsSync } from 'node:fs';
import { journalPathFor } from '../state/paths.js';
import type { AgentBackend, HandoverFd } from './backend.js';
import type { AgentInstance, LostReport } from './instance.js';

export type OpResult = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly code: string; readonly message: string; readonly extra?: Record<string, unknown> };

/** What the agent remembers about the last apply/destroy it ran (for `show`). */
export interface LastOperation {
  readonly id: number;
  readonly operation: 'apply' | 'destroy';
  readonly outcome: ApplyReport['outcome'] | 'no-changes' | 'refused' | 'error';
  readonly finishedAt: string;
  readonly executed: number;
  /** The client that asked had gone before it finished (the operation ran to its end anyway). */
  readonly clientGone: boolean;
  readonly message?: string;
}

export interface ServiceConfig {
  readonly kind: BackendKind;
  readonly statePath: string;
  readonly backend: AgentBackend;
  readonly instance: AgentInstance;
  readonly lost: LostReport | null;
  readonly stepDelayMs?: number;
}

/** The connection an operation was asked on: where its events go, and whether it is still there. */
export interface Asker {
  /** The same object for every request of one connection. */
  readonly connection: object;
  sendEvent(event: ApplyEvent): void;
  gone(): boolean;
}

interface Running {
  readonly asker: Asker;
  stop: boolean;
}

const stripSim = (body: StateBody): Omit<StateBody, 'sim'> => {
  const { sim: _sim, ...rest } = body;
  return rest;
};

export function reportForWire(report: ApplyReport): unknown {
  return { ...report, body: stripSim(report.body) };
}

/** The whole recovery report (the CLI prints "had completed" and "lost with its backend" from it), minus the simulator snapshot. */
export function recoveryForWire(recovery: RecoveryReport | null | undefined): unknown {
  return recovery ? { ...recovery, report: reportForWire(recovery.report) } : null;
}

export class AgentService {
  private committed: LoadedState;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly running = new Set<Running>();
  private last: LastOperation | null = null;
  private operations = 0;
  private stopping = false;
  private readonly config: ServiceConfig;

  private constructor(config: ServiceConfig, committed: LoadedState) {
    this.config = config;
    this.committed = committed;
  }

  /** Opens the service: recovers an interrupted operation the journal shows, then reads the state. */
  static async open(config: ServiceConfig): Promise<{ ok: true; service: AgentService; recovery: RecoveryReport | null } | { ok: false; code: string; message: string }> {
    const recovered = await withSession(sessionOptionsFor(config, 'agent-start'), async () => ({ ok: true, value: null }));
    if (!recovered.ok) return { ok: false, code: recovered.error.code, message: recovered.error.message };
    const loaded = await loadState(config.statePath, config.kind);
    if (!loaded.ok) return loaded;
    return { ok: true, service: new AgentService(config, loaded.state), recovery: recovered.recovery };
  }

  hello(): OpResult {
    return {
      ok: true,
      result: { protocol: 1, backend: this.config.kind, agent: this.config.instance, lost: this.config.lost, serial: this.committed.envelope?.serial ?? null },
    };
  }

  show(): OpResult {
    const { envelope, body } = this.committed;
    return {
      ok: true,
      result: {
        formatVersion: 1,
        lineage: envelope?.lineage ?? null,
        serial: envelope?.serial ?? null,
        state: envelope ? stripSim(body) : null,
        journal: existsSync(journalPathFor(this.config.statePath)),
        busy: this.running.size > 0,
        lost: this.config.lost,
        lastOperation: this.last,
        agent: this.config.instance,
      },
    };
  }

  /** `{layout, file}` plans a layout text; `{destroy: true}` plans the removal of everything. */
  async plan(fields: Record<string, unknown>): Promise<OpResult> {
    const desired = this.desiredFrom(fields);
    if (!desired.ok) return desired;
    // On the kernel, first compare the recorded state with what the kernel holds. The check makes
    // probe calls, so it takes its turn in the queue instead of running beside an apply.
    const drift = this.config.kind === 'kernel' ? await this.exclusive(() => checkDrift(this.config.backend.held.ctx, this.committed.body)) : [];
    const made = await planFor(this.readSession('plan'), desired.layout, desired.file);
    // The predicted failure goes as data; the CLI renders it as the local path does.
    if (!made.ok) return { ok: false, code: made.code, message: made.message, ...(made.wouldFail ? { extra: { wouldFail: made.wouldFail } } : {}) };
    // The agent pins the memory, so the plan's memlock verdict is against the agent's limit.
    const memlock = made.plan.pinned ? readMemlockLimit() : undefined;
    const memlockLimit = memlock === null ? 'unlimited' : memlock;
    return { ok: true, result: { plan: made.plan, attention: this.committed.body.attention, drift, ...(memlockLimit !== undefined ? { memlockLimit } : {}) } };
  }

  /** Cancels the operation running or queued for this connection: it stops before its next call and rolls back. */
  cancel(asker: Asker): OpResult {
    let cancelled = 0;
    for (const r of this.running) {
      if (r.asker.connection === asker.connection && !r.stop) {
        r.stop = true;
        cancelled++;
      }
    }
    return { ok: true, result: { cancelled: cancelled > 0 } };
  }

  /** Apply or destroy a plan document made by `plan`; the agent re-derives it and refuses a different or stale one. */
  run(operation: 'apply' | 'destroy', fields: Record<string, unknown>, asker: Asker): Promise<OpResult> {
    if (this.stopping) return Promise.resolve({ ok: false, code: 'SHUTTING_DOWN', message: 'the agent is stopping; nothing was changed' });
    const running: Running = { asker, stop: false };
    this.running.add(running);
    const next = this.queue.then(() => this.runNow(operation, fields, running)).finally(() => this.running.delete(running));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** SIGTERM: the running operation stops before its next call and rolls back; queued ones are refused. */
  async drain(): Promise<void> {
    this.stopping = true;
    for (const r of this.running) r.stop = true;
    await this.queue;
  }

  /** Runs `work` in the queue, between operations. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  handoverFds(): HandoverFd[] | null {
    return this.config.backend.handoverFds(this.committed.body);
  }

  committedBody(): StateBody {
    return this.committed.body;
  }

  private async runNow(operation: 'apply' | 'destroy', fields: Record<string, unknown>, running: Running): Promise<OpResult> {
    if (this.stopping) return { ok: false, code: 'SHUTTING_DOWN', message: 'the agent is stopping; nothing was changed' };
    const decoded = decodeWirePlan(fields['plan']);
    if (!decoded.ok) return decoded;
    const plan = decoded.plan;
    const id = ++this.operations;
    let outcome: OpResult;
    let last: LastOperation | null = null;
    try {
      const result: SessionResult<{ report: ApplyReport | null }> = await withSession<{ report: ApplyReport | null }>(sessionOptionsFor(this.config, operation), async (s) => {
        const stale = staleReason(plan, basisOf(s.state), hostFacts(s.options.backend, s.state.body));
        if (stale) return { ok: false, error: { code: 'PLAN_STALE', message: `the plan is stale: ${stale}. Another client changed the agent's state since it was planned; run the command again.` } };
        const again = await planFor(s, operation === 'destroy' ? destroyLayout(s.state.body) : plan.desired, plan.layoutFile);
        if (!again.ok || encodePlan(again.plan) !== encodePlan(plan)) {
          return { ok: false, error: { code: 'PLAN_TAMPERED', message: `the ${operation} plan sent to the agent is not what ${operation === 'destroy' ? 'destroying' : 'its layout'} plans against the agent's current state; run the command again` } };
        }
        if (!planHasChanges(plan)) return { ok: true, value: { report: null } };
        const ran = await runSteps(s, plan.steps, operation, (e) => running.asker.sendEvent(e), () => running.stop);
        if (!ran.ok) return ran;
        return { ok: true, value: { report: ran.report } };
      });
      outcome = result.ok
        ? { ok: true, result: { report: result.value.report ? reportForWire(result.value.report) : null, recovery: recoveryForWire(result.recovery) } }
        : { ok: false, code: result.error.code, message: result.error.message, extra: { recovery: recoveryForWire(result.recovery) } };
      const report = result.ok ? result.value.report : null;
      last = {
        id,
        operation,
        outcome: !result.ok ? (result.error.code === 'PLAN_STALE' || result.error.code === 'PLAN_TAMPERED' ? 'refused' : 'error') : report ? report.outcome : 'no-changes',
        finishedAt: new Date().toISOString(),
        executed: report?.executed ?? 0,
        clientGone: running.asker.gone(),
        ...(result.ok ? {} : { message: result.error.message }),
      };
    } finally {
      await this.refresh();
    }
    // Only after the refresh: a `show` that sees this outcome must also see its state.
    if (last) this.last = last;
    return outcome;
  }

  private async refresh(): Promise<void> {
    const loaded = await loadState(this.config.statePath, this.config.kind);
    if (loaded.ok) this.committed = loaded.state;
  }

  private readSession(operation: string): Session {
    return { state: this.committed, recovery: null, options: sessionOptionsFor(this.config, operation) };
  }

  private desiredFrom(fields: Record<string, unknown>): { ok: true; layout: Layout; file: string | null } | { ok: false; code: string; message: string; extra?: Record<string, unknown> } {
    if (fields['destroy'] === true) return { ok: true, layout: destroyLayout(this.committed.body), file: null };
    const text = fields['layout'];
    const file = fields['file'] ?? null;
    if (typeof text !== 'string') return { ok: false, code: 'BAD_FIELD', message: 'plan needs "layout" (the layout text) or "destroy": true' };
    if (file !== null && typeof file !== 'string') return { ok: false, code: 'BAD_FIELD', message: '"file" must be a string (the layout file name, for messages and the plan)' };
    if (Buffer.byteLength(text) > MAX_LAYOUT_BYTES) return { ok: false, code: 'BAD_FIELD', message: `the layout is over ${MAX_LAYOUT_BYTES} bytes (8 MiB)` };
    const parsed = parseLayoutText(text, file ?? '<agent>');
    if (hasErrors(parsed.diagnostics) || !parsed.layout) {
      return { ok: false, code: 'LAYOUT_INVALID', message: `the layout has ${parsed.diagnostics.length} problem(s)`, extra: { diagnostics: parsed.diagnostics } };
    }
    return { ok: true, layout: parsed.layout, file };
  }
}

/** Destroy keeps the recorded rlimit mode: destroying must not need an extra option change. */
function destroyLayout(body: StateBody): Layout {
  return { ...EMPTY_LAYOUT, options: body.options };
}

function sessionOptionsFor(config: ServiceConfig, operation: string): SessionOptions {
  return {
    statePath: config.statePath,
    backend: config.kind,
    operation,
    // The queue serialises the agent's own operations; a wait here means something else holds the lock.
    lockTimeoutMs: 0,
    targetOptions: { held: config.backend.held },
    ...(config.stepDelayMs ? { stepDelayMs: config.stepDelayMs } : {}),
  };
}

function decodeWirePlan(raw: unknown): { ok: true; plan: Plan } | { ok: false; code: string; message: string } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, code: 'BAD_FIELD', message: '"plan" must be the plan document the agent returned from `plan`' };
  if ((raw as { formatVersion?: unknown }).formatVersion !== PLAN_FORMAT_VERSION) return { ok: false, code: 'BAD_FIELD', message: `"plan" must have formatVersion ${PLAN_FORMAT_VERSION}` };
  const plan = reviveBigints(raw) as Plan;
  if (!Array.isArray(plan.steps) || !Array.isArray(plan.changes) || typeof plan.basis !== 'object' || plan.basis === null || typeof plan.desired !== 'object' || plan.desired === null) {
    return { ok: false, code: 'BAD_FIELD', message: '"plan" is missing steps, changes, basis or desired' };
  }
  return { ok: true, plan };
}
