// Diagnostics as a compiler prints them:
//
//   examples/bad.yaml:18:15: error iova-overflow: mapping 'rx' ... goes past the end ...
//      18 |         iova: 0xffff_ffff_ffff_f000
//         |               ^^^^^^^^^^^^^^^^^^^^^
//         = hint: ...
//
// Color only when asked (the caller decides: a TTY and no NO_COLOR).

import type { Diagnostic } from '../diagnostics.js';

const ANSI = { red: '\u001b[31;1m', yellow: '\u001b[33;1m', blue: '\u001b[34;1m', bold: '\u001b[1m', reset: '\u001b[0m' } as const;

export interface RenderOptions {
  readonly color: boolean;
  /** Source text per file name, for the snippet; a diagnostic without one gets no snippet. */
  readonly sources?: ReadonlyMap<string, string>;
}

export function renderDiagnostics(diagnostics: readonly Diagnostic[], options: RenderOptions): string {
  return diagnostics.map((d) => renderDiagnostic(d, options)).join('');
}

/** Longest source line shown in a snippet; longer lines (minified or binary files) are cut. */
const MAX_SNIPPET = 160;

/**
 * Control characters from a file must not reach the terminal (they could move the cursor or
 * change colors); each becomes one replacement character, so columns stay aligned.
 */
function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd');
}

export function renderDiagnostic(d: Diagnostic, options: RenderOptions): string {
  const paint = (style: keyof typeof ANSI, text: string) => (options.color ? `${ANSI[style]}${text}${ANSI.reset}` : text);
  const severityStyle = d.severity === 'error' ? 'red' : 'yellow';
  const where = [d.file ?? '<input>', d.line, d.column].filter((part) => part !== undefined).join(':');
  let out = `${paint('bold', `${printable(where)}:`)} ${paint(severityStyle, `${d.severity} ${d.code}`)}: ${printable(d.message)}\n`;

  const text = d.file !== undefined ? options.sources?.get(d.file) : undefined;
  const fullLine = text !== undefined && d.line !== undefined ? text.split(/\r?\n/)[d.line - 1] : undefined;
  const sourceLine = fullLine === undefined ? undefined : printable(fullLine.slice(0, MAX_SNIPPET));
  const gutter = ' '.repeat(String(d.line ?? '').length + 1);
  if (sourceLine !== undefined && d.line !== undefined) {
    const column = Math.min(Math.max(d.column ?? 1, 1), sourceLine.length + 1);
    // The span ends on this line, or the underline runs to the end of the line.
    const end = d.endLine === d.line && d.endColumn !== undefined ? d.endColumn : sourceLine.length + 1;
    const width = Math.max(1, Math.min(end, sourceLine.length + 1) - column);
    // Keep tabs in the prefix so that the caret lines up under tab-indented text.
    const prefix = sourceLine.slice(0, column - 1).replace(/[^\t]/g, ' ');
    const cut = fullLine !== undefined && fullLine.length > MAX_SNIPPET ? ' …' : '';
    out += `${paint('blue', ` ${d.line} |`)} ${sourceLine}${cut}\n`;
    out += `${paint('blue', `${gutter} |`)} ${prefix}${paint(severityStyle, '^'.repeat(width))}\n`;
  }
  if (d.hint !== undefined) out += `${paint('blue', `${gutter} =`)} hint: ${printable(d.hint)}\n`;
  return out;
}

/** `2 errors, 1 warning` (or `no problems`). */
export function summarize(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (errors === 0 && warnings === 0) return 'no problems';
  return [errors > 0 ? plural(errors, 'error') : '', warnings > 0 ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ');
}
