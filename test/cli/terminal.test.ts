// The interactive parts of `apply` only exist on a terminal: the "Enter a value:" confirmation and
// the ora spinner. These tests run the real CLI inside a tmux pane (a real pseudo-terminal), type
// into it and read the screen back. Without tmux they are skipped with the reason printed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, workdir } from './support.js';

const tmuxMissing = spawnSync('tmux', ['-V']).error ? 'tmux is not installed (apt-get install tmux)' : null;
if (tmuxMissing) console.log(`terminal tests skipped: ${tmuxMissing}`);

const sessions: string[] = [];
const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });

/** Starts `command` in a detached 200x50 tmux pane; the pane stays after the command exits. */
function startInTerminal(command: string, cwd: string): string {
  const name = `ioasform-test-${process.pid}-${sessions.length}`;
  sessions.push(name);
  // CI (set by CI systems) makes ora treat the terminal as non-interactive: clear it unless the
  // command sets it itself.
  tmux('new-session', '-d', '-s', name, '-x', '200', '-y', '50', '-c', cwd, `unset CI; ${command}; echo "[exit $?]"; sleep 600`);
  return name;
}

const screen = (name: string): string => tmux('capture-pane', '-p', '-t', name, '-S', '-200');

async function waitForScreen(name: string, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const started = Date.now();
  for (;;) {
    const text = screen(name);
    if (pattern.test(text)) return text;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${pattern} on the terminal; it shows:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(() => ensureBuilt(), 120_000);
afterEach(() => {
  for (const name of sessions.splice(0)) spawnSync('tmux', ['kill-session', '-t', name]);
});

describe.skipIf(tmuxMissing !== null)('apply on a terminal', () => {
  it('asks for confirmation; "yes" applies, and the state is written', async () => {
    const dir = workdir();
    const name = startInTerminal(`node ${BIN} apply examples/test-lab.yaml`, dir);
    await waitForScreen(name, /Enter a value:/);
    expect(existsSync(join(dir, 'ioasform.state.json'))).toBe(false);
    tmux('send-keys', '-t', name, 'yes', 'Enter');
    const done = await waitForScreen(name, /\[exit \d+\]/);
    expect(done).toMatch(/Apply complete/);
    expect(done).toContain('[exit 0]');
    expect(JSON.parse(readFileSync(join(dir, 'ioasform.state.json'), 'utf8'))).toHaveProperty('serial');
  }, 90_000);

  it('any answer but "yes" changes nothing', async () => {
    const dir = workdir();
    const name = startInTerminal(`node ${BIN} apply examples/test-lab.yaml`, dir);
    await waitForScreen(name, /Enter a value:/);
    tmux('send-keys', '-t', name, 'y', 'Enter');
    const done = await waitForScreen(name, /\[exit \d+\]/);
    expect(done).not.toMatch(/Apply complete/);
    expect(done).toContain('Cancelled: nothing was changed.');
    expect(done).toContain('[exit 1]');
    expect(existsSync(join(dir, 'ioasform.state.json'))).toBe(false);
  }, 90_000);

  it('shows a spinner with the call in progress while applying', async () => {
    const dir = workdir();
    // A pause before each call keeps the spinner on screen long enough to be read.
    const name = startInTerminal(`IOASFORM_TEST_STEP_DELAY_MS=400 node ${BIN} apply --auto-approve examples/test-lab.yaml`, dir);
    const during = await waitForScreen(name, /\[\d+\/\d+\] IOMMU_\w+ /);
    expect(during).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏-] \[\d+\/\d+\] IOMMU_\w+ (memory|ioas)\./);
    const done = await waitForScreen(name, /\[exit \d+\]/);
    expect(done).toContain('[exit 0]');
    expect(done).toMatch(/Apply complete/);
  }, 90_000);

  it('on a terminal ora deems non-interactive (CI set), prints one line per call instead of a silent spinner', async () => {
    const dir = workdir();
    const name = startInTerminal(`CI=true node ${BIN} apply --auto-approve examples/test-lab.yaml`, dir);
    const done = await waitForScreen(name, /\[exit \d+\]/);
    expect(done).toContain('[exit 0]');
    expect(done).toMatch(/^IOMMU_IOAS_ALLOC .* -> OK$/m);
  }, 90_000);
});
