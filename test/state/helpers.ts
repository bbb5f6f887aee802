// Shared by the state tests: temp directories, and a compiled copy of src/state that real child
// processes can import (transpiled from the current sources, so the tests never run a stale
// dist/; type checking stays with `npm run typecheck`).

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, 'fixtures');
const STATE_SRC = join(here, '..', '..', 'src', 'state');

export function makeTempDir(prefix = 'ioasform-state-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Transpile src/state/*.ts into `outDir`; returns the file URL of its index.js. */
export function compileStateStore(outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  for (const name of readdirSync(STATE_SRC).filter((n) => n.endsWith('.ts'))) {
    const source = readFileSync(join(STATE_SRC, name), 'utf8');
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: name,
    });
    writeFileSync(join(outDir, name.replace(/\.ts$/, '.js')), out.outputText);
  }
  return pathToFileURL(join(outDir, 'index.js')).href;
}

export interface Child {
  readonly pid: number;
  /** Resolves with the next stdout line (children speak one JSON object per line). */
  nextLine(): Promise<string>;
  send(line: string): void;
  kill(signal: NodeJS.Signals): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Start `node fixtures/<script> ...args` with STORE pointing at the compiled store. */
export function startChild(script: string, storeUrl: string, args: readonly string[]): Child {
  const proc = spawn(process.execPath, [join(FIXTURES, script), ...args], {
    env: { ...process.env, STORE: storeUrl },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let buffer = '';
  let stderr = '';
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => (stderr += chunk));
  proc.stdin.on('error', () => undefined); // the child may be gone (killed) when we write
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return {
    pid: proc.pid ?? -1,
    nextLine: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise<string>((resolve, reject) => {
        waiters.push(resolve);
        void exited.then((e) => reject(new Error(`child ${script} exited (${e.code ?? e.signal}) before writing a line: ${e.stderr}`)));
      });
    },
    send: (line: string) => {
      proc.stdin.write(`${line}\n`);
    },
    kill: (signal) => {
      proc.kill(signal);
    },
    exited,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether a JSON value avoids integers past 2^53, which the canonical encoder rejects on purpose. */
export function hasOnlySafeIntegers(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isInteger(value) || Number.isSafeInteger(value);
  if (Array.isArray(value)) return value.every(hasOnlySafeIntegers);
  if (typeof value === 'object' && value !== null) return Object.values(value).every(hasOnlySafeIntegers);
  return true;
}
