#!/usr/bin/env node
// Entry point of the `skipgrad` executable (package.json "bin").
import { main } from './main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
