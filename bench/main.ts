#!/usr/bin/env node
/** `npm run bench -- <name|flags>`: the benchmark harness's command line (see bench/README.md). */
import { runBenchCli } from './cli.js';

const code = await runBenchCli(process.argv.slice(2));
process.exitCode = code;
// A target that left a handle open (a runtime thread, a socket) must not keep a finished benchmark alive.
setTimeout(() => process.exit(code), 2000).unref();
