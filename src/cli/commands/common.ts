// What the state-touching commands (plan, apply, show, destroy, force-unlock) share: the global
// options, progress output (an ora spinner on a TTY, a plain line per call otherwise) and the
// confirmation prompt.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import ora from 'ora';
import type { ApplyEvent } from '../../apply/apply.js';
import type { CheckpointPolicy } from '../../apply/checkpoints.js';
import { DEFAULT_CHECKPOINTS } from '../../apply/checkpoints.js';
import type { RecoveryReport, SessionOptions } from '../../apply/session.js';
import { callName } from '../../model/step.js';
import type { BackendKind, StateBody } from '../../model/recorded.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import { COLOR, PLAIN, describeStep, renderApplyReport } from '../plan-view.js';
import type { Style } from '../plan-view.js';

export const DEFAULT_STATE = './ioasform.state.json';

export interface GlobalOptions {
  readonly backend: BackendKind;
  readonly state: string;
  readonly lockTimeoutMs: number;
  /** --agent PATH: run through the holder agent at this socket instead of locally. */
  readonly agent?: string;
  /** --backend was given on the command line (with --agent it must match the agent's). */
  readonly backendGiven?: boolean;
}

export type ParsedGlobals = { readonly ok: true; readonly globals: GlobalOptions } | { readonly ok: false; readonly message: string };

/** "0", "500ms", "10s", "2m" -> milliseconds. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)(ms|s|m)?$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n * 1000;
}

export function readGlobals(command: Command): ParsedGlobals {
  const o = command.optsWithGlobals<{ backend?: string; state?: string; lockTimeout?: string; agent?: string }>();
  const backend = o.backend ?? 'sim';
  if (backend !== 'sim' && backend !== 'kernel') return { ok: false, message: `--backend must be sim or kernel, not ${backend}` };
  const lockTimeoutMs = parseDuration(o.lockTimeout ?? '0s');
  if (lockTimeoutMs === null) return { ok: false, message: `--lock-timeout must be a duration like 0s, 500ms, 30s or 2m, not ${o.lockTimeout}` };
  const backendGiven = command.getOptionValueSourceWithGlobals('backend') === 'cli';
  return { ok: true, globals: { backend, state: o.state ?? DEFAULT_STATE, lockTimeoutMs, ...(o.agent ? { agent: o.agent, backendGiven } : {}) } };
}

/**
 * Runs a command's body with the parsed global options and records its exit code; a bad global
 * option is reported as one line and exit 1. Every command action goes through here.
 */
export async function runWithGlobals(ctx: CommandContext, command: Command, body: (globals: GlobalOptions) => Promise<number>): Promise<void> {
  const globals = readGlobals(command);
  if (!globals.ok) {
    ctx.io.stderr(`Error: ${globals.message}\n`);
    ctx.setExitCode(1);
    return;
  }
  ctx.setExitCode(await body(globals.globals));
}

/** The global options every command accepts (declared once on the program). */
export function addGlobalOptions(program: Command): Command {
  return program
    .option('--backend <kind>', 'where to apply: sim (the kernel-exact simulator, default) or kernel', 'sim')
    .option('--state <path>', 'the state file of the target', DEFAULT_STATE)
    .option('--lock-timeout <duration>', 'how long to wait for the state lock (e.g. 30s)', '0s')
    .option('--agent <socket>', 'run plan/apply/show/destroy through the holder agent at this socket (`ioasform agent`); the backend and state are the agent\'s');
}

export function styleFor(io: CliIo): Style {
  return io.color ? COLOR : PLAIN;
}

/** Test hook: IOASFORM_TEST_STEP_DELAY_MS pauses before each call so a test can kill an apply mid-way. */
export function stepDelayFromEnv(): number | undefined {
  const raw = process.env['IOASFORM_TEST_STEP_DELAY_MS'];
  const n = raw ? Number(raw) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * Progress of calls: a spinner on an interactive terminal, one plain line per call otherwise. ora
 * itself turns the spinner off on terminals it deems non-interactive (CI set, TERM=dumb); then
 * the plain lines are shown instead of nothing.
 */
export function progress(io: CliIo): { onEvent: (e: ApplyEvent) => void; stop: () => void } {
  const spinner = io.isTTY ? ora({ text: 'starting', stream: process.stderr }) : null;
  if (spinner?.isEnabled) {
    spinner.start();
    return {
      onEvent: (e) => {
        if (e.kind === 'step') spinner.text = `${e.phase === 'undo' ? 'undo ' : ''}[${e.index + 1}/${e.total}] ${callName(e.step)} ${e.step.address}`;
      },
      stop: () => void spinner.stop(),
    };
  }
  return {
    onEvent: (e) => {
      if (e.kind === 'step-done') io.stdout(`${e.phase === 'undo' ? 'undo: ' : ''}${callName(e.step)} ${describeStep(e.step)} -> ${e.code}\n`);
    },
    stop: () => undefined,
  };
}

/** Test hook: IOASFORM_TEST_CHECKPOINT_EVERY=N commits the state after every N calls (crash tests). */
export function checkpointsFromEnv(): CheckpointPolicy | undefined {
  const raw = process.env['IOASFORM_TEST_CHECKPOINT_EVERY'];
  const n = raw ? Number(raw) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? { ...DEFAULT_CHECKPOINTS, everyCalls: n } : undefined;
}

export function sessionOptions(globals: GlobalOptions, operation: string, onEvent?: (e: ApplyEvent) => void): SessionOptions {
  const delay = stepDelayFromEnv();
  const checkpoints = checkpointsFromEnv();
  return {
    statePath: globals.state,
    backend: globals.backend,
    operation,
    lockTimeoutMs: globals.lockTimeoutMs,
    ...(delay ? { stepDelayMs: delay } : {}),
    ...(checkpoints ? { checkpoints } : {}),
    ...(onEvent ? { onEvent } : {}),
  };
}

export function reportRecovery(recovery: RecoveryReport | null, io: CliIo): void {
  if (!recovery) return;
  const op = recovery.operation;
  if (recovery.finished) {
    // The journal outlived a finished operation (killed between its end record and its removal).
    io.stderr(recovery.finished.outcome === 'applied'
      ? `Found the journal of an interrupted ${op}: the interrupted ${op} had completed: the layout of ${recovery.finished.at} is in effect (${recovery.report.executed} call(s) made; nothing undone).\n`
      : `Found the journal of an interrupted ${op}: the interrupted ${op} had already rolled back at ${recovery.finished.at}: the layout from before it is in effect (nothing undone now).\n`);
    return;
  }
  if (recovery.lostWithBackend) {
    io.stderr(`Found the journal of an interrupted ${op} made on backend instance ${recovery.lostWithBackend}: that backend died with its process, and every call of the ${op} with it; nothing to undo.\n`);
    return;
  }
  io.stderr(`Found an interrupted ${op} (journal left behind); finished its undo first:\n`);
  io.stderr(renderApplyReport(recovery.report, styleFor(io)));
  if (recovery.report.outcome === 'rolled-back') {
    const b = recovery.report.body;
    io.stderr(`Restored the layout from before the interrupted ${op}: ${b.ioas.length} IOAS(es) [${b.ioas.map((i) => i.name).join(', ')}], ${b.memory.length} memory region(s).\n`);
  }
}

/** Asks "yes?" on a terminal. Without a terminal the caller must pass --auto-approve. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  if (!io.isTTY || process.stdin.isTTY !== true) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

export function exitCodeForApply(outcome: 'applied' | 'rolled-back' | 'attention'): number {
  return outcome === 'applied' ? 0 : outcome === 'attention' ? 3 : 1;
}

/** An earlier apply's rollback was incomplete: say what is left before planning from the state. */
export function warnAttention(body: StateBody, io: CliIo): void {
  if (!body.attention) return;
  io.stderr(`Warning: the state needs attention: ${body.attention.reason}. Left on the backend (recorded in the state, so the plan below accounts for it):\n${body.attention.leftovers.map((l) => `  ${l}`).join('\n')}\nA successful apply clears this mark.\n`);
}
