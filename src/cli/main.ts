#!/usr/bin/env node
import { rkmsProgram } from './program.js';

await rkmsProgram().parseAsync(process.argv);
