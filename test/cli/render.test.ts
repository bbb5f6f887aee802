import { describe, expect, it } from 'vitest';
import { colorWanted } from '../../src/cli/io.js';
import { renderDiagnostic, summarize } from '../../src/cli/render.js';
import type { Diagnostic } from '../../src/diagnostics.js';

const at = (line: number, column: number, endLine: number, endColumn: number): Diagnostic => ({
  severity: 'error',
  code: 'invalid-value',
  message: 'bad',
  file: 'f.yaml',
  line,
  column,
  endLine,
  endColumn,
});

describe('renderDiagnostic', () => {
  it('underlines the span, keeping tabs so the caret lines up', () => {
    const text = 'a: 1\n\tkey: value\n';
    const out = renderDiagnostic(at(2, 7, 2, 12), { color: false, sources: new Map([['f.yaml', text]]) });
    expect(out).toBe('f.yaml:2:7: error invalid-value: bad\n 2 | \tkey: value\n   | \t     ^^^^^\n');
  });

  it('draws one caret for an empty span and runs to the end of the line for a multi-line span', () => {
    const text = 'abc\ndef\n';
    const sources = new Map([['f.yaml', text]]);
    expect(renderDiagnostic(at(1, 2, 1, 2), { color: false, sources })).toContain('\n   |  ^\n');
    expect(renderDiagnostic(at(1, 2, 2, 2), { color: false, sources })).toContain('\n   |  ^^\n');
  });

  it('never writes control characters from the file to the terminal', () => {
    const text = 'x: "\u001b[31mred"\n';
    const out = renderDiagnostic({ ...at(1, 1, 1, 3), message: 'key \u001b[2J' }, { color: false, sources: new Map([['f.yaml', text]]) });
    expect(out).not.toContain('\u001b');
    expect(out).toContain('\ufffd');
  });

  it('prints the hint and works without a source', () => {
    const out = renderDiagnostic({ ...at(1, 1, 1, 2), hint: 'did you mean x?' }, { color: false });
    expect(out).toBe("f.yaml:1:1: error invalid-value: bad\n   = hint: did you mean x?\n");
  });
});

describe('summarize', () => {
  it('counts errors and warnings', () => {
    const warning: Diagnostic = { severity: 'warning', code: 'outside-allowed', message: 'w' };
    expect(summarize([])).toBe('no problems');
    expect(summarize([at(1, 1, 1, 1), warning, warning])).toBe('1 error, 2 warnings');
  });
});

describe('colorWanted', () => {
  it('wants color only on a TTY without NO_COLOR or TERM=dumb', () => {
    expect(colorWanted(true, {})).toBe(true);
    expect(colorWanted(false, {})).toBe(false);
    expect(colorWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(true, { NO_COLOR: '' })).toBe(true);
    expect(colorWanted(true, { TERM: 'dumb' })).toBe(false);
  });
});
