// argv -> command -> exit code. The only place that builds the commander program; commands
// write through the injected io and return their exit code; bin/ioasform.js sets
// process.exitCode from what run() returns (nothing calls process.exit).

import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import type { CommandContext, RegisterCommand } from './command.js';
import { registerAgent } from './commands/agent.js';
import { registerApply } from './commands/apply.js';
import { addGlobalOptions } from './commands/common.js';
import { registerDestroy } from './commands/destroy.js';
import { registerFmt } from './commands/fmt.js';
import { registerForceUnlock } from './commands/force-unlock.js';
import { registerGraph } from './commands/graph.js';
import { registerPlan } from './commands/plan.js';
import { registerShow } from './commands/show.js';
import { registerValidate } from './commands/validate.js';
import { processIo, type CliIo } from './io.js';

/** One line per command. */
const COMMANDS: readonly RegisterCommand[] = [
  registerValidate,
  registerFmt,
  registerPlan,
  registerApply,
  registerShow,
  registerGraph,
  registerDestroy,
  registerForceUnlock,
  registerAgent,
];

/** Terraform spells the plan file option `-out FILE`; commander only knows `--out`. */
export function terraformSpellings(argv: readonly string[]): string[] {
  return argv.map((arg) => (arg === '-out' ? '--out' : arg.startsWith('-out=') ? `--out=${arg.slice(5)}` : arg));
}

function packageVersion(): string {
  // src/cli/main.ts and dist/cli/main.js both sit two levels below package.json.
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

export async function run(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode = 0;
  const ctx: CommandContext = { io, setExitCode: (code) => void (exitCode = code) };
  const program = new Command('ioasform')
    .description('Infrastructure-as-code for Linux iommufd IO address spaces')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(text) });
  addGlobalOptions(program);
  for (const register of COMMANDS) register(program, ctx);
  // Subcommands inherit exitOverride and output settings only when set before they are added.
  for (const command of program.commands) {
    command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(text) });
  }

  try {
    await program.parseAsync(terraformSpellings(argv), { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are exit code 0; every usage error (already printed) is 1.
      return error.exitCode === 0 ? 0 : 1;
    }
    // A bug, not a user mistake: one line, no stack trace unless asked for.
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`ioasform: internal error: ${message}\n`);
    if (process.env['IOASFORM_DEBUG'] && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    return 1;
  }
}
