import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { localKmsCommand } from './local-kms.js';
import { repairCommand } from './repair.js';
import { serveCommand } from './serve.js';
import { sweepCommand } from './sweep.js';
import { tokenCommand } from './token.js';

/** The version in package.json, which `rkms --version` prints. */
export const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The `rkms` command line: serve (the default), sweep, repair, local-kms, token. */
export function rkmsProgram(): Command {
  return new Command('rkms')
    .description('RKMS: data keys protected by AWS KMS in several regions, stored in DynamoDB')
    .version(VERSION, '-V, --version', 'print the version of RKMS')
    .addCommand(serveCommand(), { isDefault: true })
    .addCommand(sweepCommand())
    .addCommand(repairCommand())
    .addCommand(localKmsCommand())
    .addCommand(tokenCommand())
    .showHelpAfterError()
    .hook('preSubcommand', refuseUnknownCommand);
}

/**
 * `rkms bogus` would otherwise run the default command, serve, with `bogus` as an argument
 * it does not take ("too many arguments for 'serve'"): name the unknown command instead.
 */
function refuseUnknownCommand(program: Command, command: Command): void {
  if (program.args[0] === command.name()) return; // named, not the default
  const [unknown] = command.parseOptions(program.args).operands;
  if (unknown === undefined) return;
  const names = program.commands.map((c) => c.name());
  program.error(`error: unknown command '${unknown}'; the commands are ${names.join(', ')}`);
}
