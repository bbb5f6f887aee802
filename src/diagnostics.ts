// Diagnostics are plain values (Terraform style): produced anywhere in the pure core, rendered
// only at the CLI edge (src/cli/render.ts) as `file:line:col: error CODE: message` with a caret.

export type Severity = 'error' | 'warning';

/** A 1-based source position. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable, documented code such as `unknown-memory` (see the code list in src/config/codes.ts). */
  readonly code: string;
  /** One sentence a person understands. */
  readonly message: string;
  /** The file the problem is in, when it came from a file. */
  readonly file?: string;
  /** 1-based line and column of the start of the offending span. */
  readonly line?: number;
  readonly column?: number;
  /** End of the span (1-based, exclusive column), for the caret underline. */
  readonly endLine?: number;
  readonly endColumn?: number;
  /** Path in the document, e.g. ["ioas", "dp", "mappings", "rx", "iova"]. */
  readonly path?: readonly (string | number)[];
  /** Optional second sentence: a hint, a did-you-mean. */
  readonly hint?: string;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
