/**
 * The command line itself: help for `kiln` and every command (generated from one table, so it
 * lists every option the parser accepts), "did you mean" for misspelt commands and options,
 * --version, and `kiln bench` handing its options to the checkout's harness.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../src/index.js';
import { benchArgs, COMMAND_NAMES, commandHelp, didYouMean, EXIT, findCheckout, parseArgs, runCli, USAGE } from '../src/index.js';
import { kiln } from './fixtures.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The options a command's help lists, read back from its text. */
const listedOptions = (help: string) => [...help.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]).filter((o) => o !== 'help');

describe('kiln --help and each command\'s help', () => {
  it('lists every command once, with the usage line first', async () => {
    const r = await kiln(['--help']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout.startsWith('usage: kiln <command> [options]\n')).toBe(true);
    for (const c of COMMAND_NAMES) expect(r.stdout.match(new RegExp(`^  ${c}\\b`, 'gm')), c).toHaveLength(1);
    expect(COMMAND_NAMES).toEqual(['demo', 'inspect', 'graph', 'export-onnx', 'run', 'bench', 'help', 'version']);
    expect((await kiln([])).stdout).toBe(r.stdout);
    expect((await kiln(['-h'])).stdout).toBe(r.stdout);
  });

  for (const command of ['demo', 'inspect', 'graph', 'export-onnx', 'run', 'bench', 'help', 'version']) {
    it(`${command} --help: usage, the options the parser accepts, an example that parses`, async () => {
      const r = await kiln([command, '--help']);
      expect(r.code).toBe(EXIT.ok);
      expect(r.stdout).toBe(`${commandHelp(command)}\n`);
      expect(r.stdout).toMatch(new RegExp(`^usage: kiln ${command}\\b`));
      expect((await kiln([command, '-h'])).stdout).toBe(r.stdout);
      expect((await kiln(['help', command])).stdout).toBe(r.stdout);
      // every listed option is accepted, and an option not listed is refused
      for (const option of listedOptions(r.stdout)) {
        expect(() => parseArgs([command, '--help', `--${option}`, 'v']), option).not.toThrow();
      }
      expect(() => parseArgs([command, '--help', '--no-such-option'])).toThrow(/unknown option/);
      const examples = r.stdout.slice(r.stdout.indexOf('examples:\n') + 10).trim().split('\n').map((l) => l.trim());
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) {
        const argv = example.replace(/^kiln /, '').match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/^"|"$/g, ''));
        expect(() => parseArgs(argv), example).not.toThrow();
      }
    });
  }

  it('names the options of each command as the parser knows them', () => {
    expect(listedOptions(commandHelp('graph'))).toEqual(['out', 'title', 'optimized']);
    expect(listedOptions(commandHelp('run'))).toEqual(['input', 'size', 'full', 'json', 'profile']);
    expect(listedOptions(commandHelp('bench'))).toEqual(['quick', 'no-peers', 'filter', 'warmup', 'reps', 'out']);
    expect(listedOptions(commandHelp('demo'))).toEqual(['out', 'eager-epochs', 'compiled-epochs', 'backend']);
    expect(USAGE).toContain('--version, -V');
  });
});

describe('docs/guide/cli.md', () => {
  it('shows kiln --help as it is, and each error message as the CLI writes it', async () => {
    const guide = readFileSync(new URL('../../../docs/guide/cli.md', import.meta.url), 'utf8');
    const help = /```\n\$ kiln --help\n([\s\S]*?)```/.exec(guide)![1];
    expect(USAGE.startsWith(help.trimEnd())).toBe(true);
    const typo = /```\n\$ kiln inpsect out\/model.kiln\n([\s\S]*?)```/.exec(guide)![1];
    expect((await kiln(['inpsect', 'out/model.kiln'])).stderr).toBe(typo);
  });
});

describe('kiln --version', () => {
  it('prints the package version, as --version, -V and version', async () => {
    for (const argv of [['--version'], ['-V'], ['version']]) {
      const r = await kiln(argv);
      expect(r.code).toBe(EXIT.ok);
      expect(r.stdout).toBe(`kiln ${VERSION}\n`);
    }
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('did you mean', () => {
  it('suggests the nearest command or option, and nothing when none is near', async () => {
    expect(didYouMean('inpsect', COMMAND_NAMES)).toBe('inspect');
    expect(didYouMean('grpah', COMMAND_NAMES)).toBe('graph');
    expect(didYouMean('exp', COMMAND_NAMES)).toBe('export-onnx');
    expect(didYouMean('bnech', COMMAND_NAMES)).toBe('bench');
    expect(didYouMean('frobnicate', COMMAND_NAMES)).toBeUndefined();
    expect(didYouMean('x', COMMAND_NAMES)).toBeUndefined();
    const r = await kiln(['inpsect', 'm.kiln']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/^kiln: unknown command 'inpsect'\. Did you mean 'kiln inspect'\?/);
    expect((await kiln(['graph', 'm.kiln', '--otu', 'g.svg'])).stderr).toMatch(/graph: unknown option '--otu'\. Did you mean --out\? Its options: --out, --title, --optimized/);
    expect((await kiln(['run', 'm.kiln', '--inptu', 'x=1'])).stderr).toMatch(/Did you mean --input\?/);
    expect((await kiln(['inspect', 'm.kiln', '-j'])).stderr).toMatch(/inspect: unknown option '-j'; options are spelt --name/);
  });

  it('checks counts and values of demo options', async () => {
    expect((await kiln(['demo', 'extra'])).stderr).toMatch(/demo: expects 0 arguments \(kiln demo\), got 1 \(extra\)/);
    expect((await kiln(['demo', '--eager-epochs', 'two'])).stderr).toMatch(/demo: --eager-epochs two: expected a positive integer/);
    expect((await kiln(['demo', '--out', 'a', '--out', 'b'])).stderr).toMatch(/demo: --out is given 2 times; give it once/);
  });
});

describe('kiln bench', () => {
  /** Runs `kiln bench …` with a fake spawn; returns what it would have run. */
  async function bench(argv: string[], cwd: string) {
    const calls: { command: string; args: readonly string[]; cwd: string }[] = [];
    let stderr = '';
    const io: CliIO = {
      stdout: () => {},
      stderr: (t) => void (stderr += t),
      readFile: () => new Uint8Array(),
      writeFile: () => {},
      spawn: (command, args, at) => (calls.push({ command, args, cwd: at }), 3),
      cwd: () => cwd,
    };
    const code = await runCli(['bench', ...argv], io);
    return { code, calls, stderr };
  }

  it('runs the checkout\'s harness through its tsx with the options passed on, and returns its status', async () => {
    const r = await bench(['--filter', 'matmul', '--reps', '5', '--out', '/tmp/b'], `${ROOT}/packages/cli`);
    expect(r.code).toBe(3);
    expect(r.calls).toEqual([{ command: `${ROOT}/node_modules/.bin/tsx`, args: ['--conditions=kiln-source', 'benchmarks/src/run.ts', '--filter', 'matmul', '--reps', '5', '--out', '/tmp/b'], cwd: ROOT }]);
  });

  it('passes --quick and --no-peers on', () => {
    expect(benchArgs(parseArgs(['bench', '--quick']))).toEqual(['--quick']);
    expect(benchArgs(parseArgs(['bench', '--filter', 'mlp', '--no-peers', '--quick']))).toEqual(['--quick', '--no-peers', '--filter', 'mlp']);
  });

  it('finds the checkout from below it, and none from outside', () => {
    expect(findCheckout(`${ROOT}/packages/cli/src`)).toBe(ROOT);
    expect(findCheckout(tmpdir())).toBeUndefined();
  });
});
