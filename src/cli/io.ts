// What a command may do to the outside world besides files: write text and know whether color
// is wanted. Injected, so tests run commands in-process and read what they printed.

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** stdout is a terminal. */
  readonly isTTY: boolean;
  /** ANSI color is wanted: a TTY and no NO_COLOR (decided once, at the edge). */
  readonly color: boolean;
}

/** Color only on a terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb. */
export function colorWanted(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb';
}

export function processIo(): CliIo {
  const isTTY = process.stdout.isTTY === true;
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    isTTY,
    color: colorWanted(isTTY, process.env),
  };
}

/** An io that records everything, for tests. */
export function memoryIo(options: { isTTY?: boolean; color?: boolean } = {}): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => void (out += text),
    stderr: (text) => void (err += text),
    isTTY: options.isTTY ?? false,
    color: options.color ?? false,
    out: () => out,
    err: () => err,
  };
}
