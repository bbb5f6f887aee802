// Agents for tests: a sim-backend agent started in-process, or as a real child process
// (`node bin/ioasform.js --backend sim agent --socket …`), each in its own temp directory.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAgent } from '../../src/agent/client.js';
import type { AgentClient } from '../../src/agent/client.js';
import type { AgentOptions, RunningAgent } from '../../src/agent/server.js';
import { startAgent } from '../../src/agent/server.js';
import { BIN, ROOT } from '../cli/support.js';

/** Every example layout, so a new one is checked through the agent too (nic-passthrough once crashed only there). */
export const EXAMPLES: readonly string[] = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort();

export function agentDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ioasform-agent-'));
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
  return dir;
}

export function exampleText(dir: string, name: string): string {
  return readFileSync(join(dir, 'examples', name), 'utf8');
}

export interface InProcessAgent {
  readonly agent: RunningAgent;
  readonly socket: string;
  readonly log: string[];
}

export async function inProcessAgent(dir: string, options: Partial<AgentOptions> = {}): Promise<InProcessAgent> {
  const log: string[] = [];
  const socket = join(dir, 'agent.sock');
  const started = await startAgent({
    socketPath: socket,
    kind: 'sim',
    log: (l) => log.push(l),
    openKernelBackend: async () => ({ ok: false, code: 'NO', message: 'no kernel in unit tests' }),
    ...options,
  });
  if (!started.ok) throw new Error(`agent did not start: ${started.code} ${started.message}`);
  return { agent: started.agent, socket, log };
}

export async function client(socket: string): Promise<AgentClient> {
  const c = await connectAgent(socket);
  if (!c.ok) throw new Error(c.message);
  return c.client;
}

export interface ChildAgent {
  readonly child: ChildProcess;
  readonly socket: string;
  stderr(): string;
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `ioasform agent` as a child process and waits for its "serving" line. */
export function childAgent(dir: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<ChildAgent> {
  const socket = join(dir, 'agent.sock');
  const child = spawn(process.execPath, [BIN, '--backend', 'sim', 'agent', '--socket', socket, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(' serving ')) resolve(handle);
    });
    void exited.then((code) => reject(new Error(`agent exited ${code} before serving: ${stderr}`)));
    const handle: ChildAgent = {
      child,
      socket,
      stderr: () => stderr,
      stop: () => {
        child.kill('SIGTERM');
        return exited;
      },
    };
  });
}
