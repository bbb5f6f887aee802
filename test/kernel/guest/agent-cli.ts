// What the agent guest files (agent.guest.ts, devices-agent.guest.ts) share: real CLI processes
// of the built package (dist/), a holder agent started in a scratch directory holding a copy of
// the examples, and the layout a `show --json` describes without its kernel ids.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'ioasform.js');

export interface Run { code: number; stdout: string; stderr: string }

/** Runs `cmd args` in `cwd` to its end, output collected (NO_COLOR: plain text to compare). */
export function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** One `ioasform ARGS` process in `cwd`. */
export const cli = (args: string[], cwd: string): Promise<Run> => run(process.execPath, [BIN, ...args], cwd);

/** A scratch directory with a copy of examples/, and the agent socket path inside it. */
export function agentWorkdir(prefix: string): { readonly dir: string; readonly socket: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
  return { dir, socket: join(dir, 'agent.sock') };
}

export interface Agent { stop(): Promise<number | null>; stderr(): string }

/**
 * `ioasform agent --socket SOCKET` in `dir`, resolved once it says it is serving. `onLine` sees
 * each line of its request log as it comes (where a run stalls shows there).
 */
export function startAgent(dir: string, socket: string, onLine?: (line: string) => void): Promise<Agent> {
  const child = spawn(process.execPath, [BIN, 'agent', '--socket', socket], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (onLine) for (const line of d.toString().split('\n')) if (line.trim() !== '') onLine(line);
      if (stderr.includes(' serving ')) resolve({ stop: () => (child.kill('SIGTERM'), exited), stderr: () => stderr });
    });
    void exited.then((code) => reject(new Error(`agent exited ${code}: ${stderr}`)));
  });
}
