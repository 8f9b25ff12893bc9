#!/usr/bin/env node
/** The `sdekit` executable: runs `main` on the process arguments with the process's streams. */
import { main } from './commands/main.js';

// A reader that closes early (`sdekit compare ... | head`) must not crash the command: the rest of
// the report is dropped and the command still finishes (its output files included). Other stream
// errors are reported as usual.
let stdoutOpen = true;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') stdoutOpen = false;
  else throw err;
});

main(process.argv.slice(2), {
  stdout: (text) => {
    if (stdoutOpen) process.stdout.write(text);
  },
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
