#!/usr/bin/env node
// Entry point of the `skipgrad` executable (package.json "bin").
import { main } from './main.js';

// A reader that went away (`skipgrad evaluate ... | head -3`) is not the job failing: printing
// stops and the work (files, checkpoints) finishes, instead of an unhandled EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
