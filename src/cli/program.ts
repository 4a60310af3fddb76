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
    .showHelpAfterError();
}
