#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { CliIO } from './cli.js';
import { runCli } from './cli.js';

const io: CliIO = {
  stdout: (text) => void process.stdout.write(`${text}\n`),
  stderr: (text) => void process.stderr.write(`${text}\n`),
  readFile: (path) => new Uint8Array(readFileSync(path)),
  writeFile: (path, bytes) => writeFileSync(path, bytes),
  write: (text) => void process.stdout.write(text),
  spawn: (command, args, cwd) => spawnSync(command, args, { cwd, stdio: 'inherit' }).status ?? 1,
  cwd: () => process.cwd(),
};

process.exitCode = await runCli(process.argv.slice(2), io);
