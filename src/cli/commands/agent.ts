// `ioasform agent --socket PATH [--backend kernel|sim] [--state-dir DIR] [--group NAME]`: the
// holder agent, a foreground process that owns the backend (on the kernel: the /dev/iommu fd and
// the backing memory, which die with the process) and serves plan/apply/show/destroy/handover on
// a Unix socket (docs/agent.md). SIGTERM/SIGINT: the operation in progress finishes or rolls
// back, then the socket closes and the agent exits 0.
import type { Command } from 'commander';
import { openKernelBackend } from '../../agent/kernel-backend.js';
import { gidOfGroup } from '../../agent/peer.js';
import { AGENT_DEFAULTS, startAgent } from '../../agent/server.js';
import type { BackendKind } from '../../model/recorded.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import { parseDuration, stepDelayFromEnv } from './common.js';

export interface AgentCommandOptions {
  readonly socket: string;
  readonly stateDir?: string;
  readonly group?: string;
  readonly frameTimeout?: string;
  readonly idleTimeout?: string;
  readonly maxConnections?: string;
}

export async function agentCommand(options: AgentCommandOptions, backend: BackendKind, io: CliIo): Promise<number> {
  let groupGid: number | null = null;
  if (options.group !== undefined) {
    groupGid = gidOfGroup(options.group);
    if (groupGid === null) {
      io.stderr(`Error: --group ${options.group}: no such group in /etc/group\n`);
      return 1;
    }
  }
  const frameTimeoutMs = parseDuration(options.frameTimeout ?? `${AGENT_DEFAULTS.frameTimeoutMs}ms`);
  const idleTimeoutMs = parseDuration(options.idleTimeout ?? `${AGENT_DEFAULTS.idleTimeoutMs}ms`);
  const maxConnections = Number(options.maxConnections ?? AGENT_DEFAULTS.maxConnections);
  if (frameTimeoutMs === null || frameTimeoutMs <= 0 || idleTimeoutMs === null || idleTimeoutMs <= 0) {
    io.stderr('Error: --frame-timeout and --idle-timeout must be durations like 500ms, 10s or 5m\n');
    return 1;
  }
  if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
    io.stderr('Error: --max-connections must be a positive integer\n');
    return 1;
  }
  const log = (line: string): void => io.stderr(`${new Date().toISOString()} ${line}\n`);
  const delay = stepDelayFromEnv();
  const started = await startAgent({
    socketPath: options.socket,
    kind: backend,
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    groupGid,
    frameTimeoutMs,
    idleTimeoutMs,
    maxConnections,
    log,
    openKernelBackend: () => openKernelBackend(),
    ...(delay ? { stepDelayMs: delay } : {}),
  });
  if (!started.ok) {
    io.stderr(`Error: ${started.message}\n`);
    return 1;
  }
  const agent = started.agent;
  // Handlers first, then the "serving" line: whoever waits for that line may signal at once.
  const stopped = new Promise<void>((done) => {
    const stop = (signal: string): void => {
      log(`${signal}: finishing the operation in progress, then closing`);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      void agent.close().then(done);
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  for (const note of started.notes) log(note);
  log(`agent pid ${process.pid} serving ${agent.socketPath} (${backend} backend, state in ${agent.stateDir})`);
  await stopped;
  log('stopped');
  return 0;
}

export function registerAgent(program: Command, ctx: CommandContext): void {
  program
    .command('agent')
    .description('run the holder agent: own the backend (kernel: the /dev/iommu fd and memory) and serve plan/apply/show/destroy on a Unix socket')
    .requiredOption('--socket <path>', 'the Unix socket to listen on (created 0600, or 0660 with --group)')
    .option('--state-dir <dir>', "the agent's state directory (default <socket>.d)")
    .option('--group <name>', 'also let members of this group plan/apply/show/destroy (not take the fds over)')
    .option('--frame-timeout <duration>', 'a started request frame must complete within this', '10s')
    .option('--idle-timeout <duration>', 'close connections idle this long', '5m')
    .option('--max-connections <n>', 'connections served at once (more are answered BUSY)', '64')
    .addHelpText('after', '\nThe backend is --backend (default here: kernel). Examples:\n  $ ioasform agent --socket /run/ioasform.sock\n  $ ioasform --backend sim agent --socket /tmp/lab.sock\n  $ ioasform --agent /run/ioasform.sock apply examples/dpdk-appliance.yaml\n\nProtocol, limits and security: docs/agent.md.\n')
    .action(async (options: AgentCommandOptions, command: Command) => {
      const o = command.optsWithGlobals<{ backend?: string }>();
      const given = command.getOptionValueSourceWithGlobals('backend') === 'cli';
      const backend = given ? o.backend : 'kernel';
      if (backend !== 'sim' && backend !== 'kernel') {
        ctx.io.stderr(`Error: --backend must be sim or kernel, not ${backend}\n`);
        ctx.setExitCode(1);
        return;
      }
      ctx.setExitCode(await agentCommand(options, backend, ctx.io));
    });
}
