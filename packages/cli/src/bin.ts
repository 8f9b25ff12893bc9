#!/usr/bin/env node
/** The `sdekit` executable: runs `main` on the process arguments with the process's streams. */
import { main } from './commands/main.js';

main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  progress: process.stderr.isTTY === true,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sdekit: internal error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
