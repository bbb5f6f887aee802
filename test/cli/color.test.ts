import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { run } from '../../src/cli/main.js';

const example = new URL('../../examples/test-lab.yaml', import.meta.url).pathname;
const state = (): string => join(mkdtempSync(join(tmpdir(), 'ioasform-color-')), 'state.json');

describe('plan output color', () => {
  it('colors the plan only when the io asks for color (a TTY without NO_COLOR)', async () => {
    const colored = memoryIo({ isTTY: true, color: true });
    expect(await run(['--state', state(), 'plan', example], colored)).toBe(2);
    expect(colored.out()).toMatch(/\u001b\[32m\+\u001b\[39m/);

    const plain = memoryIo({ isTTY: false, color: false });
    expect(await run(['--state', state(), 'plan', example], plain)).toBe(2);
    expect(plain.out()).not.toMatch(/\u001b\[/);
    expect(plain.out()).toContain('  + ioas.lab {');
  });
});
