#!/usr/bin/env node
import { Command } from 'commander';
import { localKmsCommand } from './local-kms.js';
import { repairCommand } from './repair.js';
import { serveCommand } from './serve.js';
import { sweepCommand } from './sweep.js';
import { tokenCommand } from './token.js';

const program = new Command('rkms')
  .description('RKMS: data keys protected by AWS KMS in several regions, stored in DynamoDB')
  .addCommand(serveCommand(), { isDefault: true })
  .addCommand(sweepCommand())
  .addCommand(repairCommand())
  .addCommand(localKmsCommand())
  .addCommand(tokenCommand())
  .showHelpAfterError();

await program.parseAsync(process.argv);
