#!/usr/bin/env node
import { Command } from 'commander';
import { localKmsCommand } from './local-kms.js';

// Minimal entry point for the local KMS alone; the full CLI replaces this file.
await new Command('rkms').addCommand(localKmsCommand()).parseAsync();
