// The contract between main.ts and a command module: a command registers itself on the
// commander program and reports its exit code through the context (it never exits).
//
// Adding a command: write src/cli/commands/<name>.ts exporting a `register<Name>` of this type,
// and add it to COMMANDS in main.ts.

import type { Command } from 'commander';
import type { CliIo } from './io.js';

export interface CommandContext {
  readonly io: CliIo;
  /** Record the exit code of the command that ran (0 ok, 1 error, 2 reserved for "changes"). */
  setExitCode(code: number): void;
}

export type RegisterCommand = (program: Command, ctx: CommandContext) => void;
