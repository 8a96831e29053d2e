/**
 * Code samples in the docs, as programs: extracts every ```ts block from README.md and
 * docs/**\/*.md, joins blocks marked `continue` to the block before them, and writes each chain
 * as a module that scripts/lib/docs-samples-runner.ts imports and scripts/test/docs-samples.test.ts
 * typechecks — so a sample that no longer runs fails a test naming its file and line.
 *
 * Fence info words after `ts`:
 *  - `continue` — the block goes on from the previous ts block of the same file (same module:
 *    its names are in scope); the chain runs once, as one program.
 *  - `prelude` — shown setup that every later ts block of the same file starts from (its
 *    imports and names are in scope there); it also runs on its own.
 *  - `no-run` — neither run nor typechecked (a deliberate fragment; use sparingly).
 *  - `no-check` — run but not typechecked.
 *
 * A line `console.log(…); // → text` must print exactly `text` (util.format of the arguments).
 *
 * A block right after `<!-- from docs/examples/X.ts -->` is an excerpt: it must appear verbatim
 * in X, and X runs (once) in its place.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** One fenced code block. */
export interface CodeBlock {
  /** Path of the markdown file relative to the repository root. */
  readonly file: string;
  /** 1-based line of the block's first code line in that file. */
  readonly line: number;
  readonly lang: string;
  readonly flags: readonly string[];
  readonly code: string;
  /**
   * Set when the line before the fence is `<!-- from docs/examples/X.ts -->`: the block is a
   * verbatim excerpt of that program (repository-relative), which runs instead of the excerpt.
   */
  readonly from?: string;
}

/** Blocks run as one program: a ts block and the `continue` blocks after it. */
export interface SampleChain {
  readonly file: string;
  readonly blocks: readonly CodeBlock[];
  readonly check: boolean;
  /** Line of the chain's own first block (after any prelude): what the sample is named by. */
  readonly line: number;
}

const FENCE = /^( *)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/;

/** Every fenced block of a markdown text (indented fences included; the indent is removed). */
export function extractBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang, rest] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^( *)(`{3,}|~{3,})\s*$/.exec(lines[j]);
      if (close && close[2][0] === fence[0] && close[2].length >= fence.length) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    const marker = /^\s*<!-- from (\S+) -->\s*$/.exec(lines[i - 1] ?? '');
    blocks.push({ file, line: i + 2, lang, flags: rest.split(/[\s,]+/).filter(Boolean), code: body.join('\n'), ...(marker ? { from: marker[1] } : {}) });
    i = j;
  }
  return blocks;
}

export const isTypeScript = (block: CodeBlock) => block.lang === 'ts' || block.lang === 'typescript';

/** The runnable chains of a file's ts blocks. A `continue` block with nothing before it throws. */
export function chainBlocks(blocks: readonly CodeBlock[]): SampleChain[] {
  const chains: { file: string; blocks: CodeBlock[]; check: boolean; line: number }[] = [];
  const preludes = new Map<string, CodeBlock[]>();
  for (const block of blocks.filter(isTypeScript)) {
    if (block.flags.includes('no-run') || block.from !== undefined) continue;
    const prelude = preludes.get(block.file) ?? [];
    if (block.flags.includes('continue')) {
      const last = chains.at(-1);
      if (!last || last.file !== block.file) throw new Error(`${block.file}:${block.line}: a \`ts continue\` block needs a runnable ts block before it in the same file`);
      last.blocks.push(block);
      if (block.flags.includes('no-check')) last.check = false;
    } else {
      chains.push({ file: block.file, blocks: [...prelude, block], check: !block.flags.includes('no-check'), line: block.line });
    }
    if (block.flags.includes('prelude')) preludes.set(block.file, [...prelude, block]);
  }
  return chains;
}

/** README.md and every .md under docs/, repository-relative, sorted. */
export function docsFiles(root: string): string[] {
  const found: string[] = existsSync(join(root, 'README.md')) ? ['README.md'] : [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir)).sort()) {
      const path = join(dir, entry);
      if (entry === 'node_modules' || entry.startsWith('.')) continue;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (entry.endsWith('.md')) found.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  return found;
}

/** A written chain: where its module is and how its lines map back to the markdown. */
export interface WrittenSample {
  readonly id: string;
  readonly file: string;
  /** Line in the markdown of the chain's first block. */
  readonly line: number;
  readonly path: string;
  readonly check: boolean;
  /** The markdown file whose samples share this one's working directory (default `file`). */
  readonly group?: string;
  /** A whole program (an excerpted example): run in a process of its own, as its users would. */
  readonly program?: boolean;
  /** For each generated line (index 0 = line 1): the markdown line, or 0 for added lines. */
  readonly lineMap: readonly number[];
}

/** Rewrites relative module specifiers (written relative to the markdown file) for the generated file. */
export function rewriteRelativeImports(code: string, fromDir: string, toDir: string): string {
  return code.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\2/g, (_, head: string, quote: string, spec: string) => {
    let target = relative(toDir, resolve(fromDir, spec)).split('\\').join('/');
    if (!target.startsWith('.')) target = `./${target}`;
    return `${head}${quote}${target}${quote}`;
  });
}

/**
 * Prepended to every generated sample (one line, so line numbers stay easy to map): prints like
 * console.log and throws when the text differs from what the docs say it prints.
 */
const EXPECT_HELPER = "import { format as __format } from 'node:util'; function __printed(where: string, expected: string, ...args: unknown[]): void { const got = __format(...args); console.log(got); if (got !== expected) throw new Error(`${where}: prints ${JSON.stringify(got)}, but the docs say ${JSON.stringify(expected)}`); }";

/**
 * `console.log(…); // → text` (a whole line) becomes a check that the call prints exactly
 * `text`, so the outputs shown in the docs are tested too.
 */
export function checkPrinted(line: string, where: string): string {
  const m = /^(\s*)console\.log\((.*)\);\s*\/\/ → (.*?)\s*$/.exec(line);
  return m ? `${m[1]}__printed(${JSON.stringify(where)}, ${JSON.stringify(m[3])}, ${m[2]});` : line;
}

/** Writes each chain as `<outDir>/<slug>-L<line>.ts` and returns where each went. */
export function writeSamples(root: string, chains: readonly SampleChain[], outDir: string): WrittenSample[] {
  mkdirSync(outDir, { recursive: true });
  // ES modules (top-level await allowed), wherever the folder is.
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  return chains.map((chain) => {
    const id = `${chain.file.replace(/[^A-Za-z0-9]+/g, '-')}-L${chain.line}`;
    const path = join(outDir, `${id}.ts`);
    const out: string[] = [EXPECT_HELPER];
    const lineMap: number[] = [0];
    for (const block of chain.blocks) {
      out.push(`// ${block.file}:${block.line}`);
      lineMap.push(0);
      rewriteRelativeImports(block.code, dirname(join(root, block.file)), outDir).split('\n').forEach((text, k) => {
        out.push(checkPrinted(text, `${block.file}:${block.line + k}`));
        lineMap.push(block.line + k);
      });
    }
    out.push('export {};', '');
    lineMap.push(0, 0);
    writeFileSync(path, out.join('\n'));
    return { id, file: chain.file, line: chain.line, path, check: chain.check, lineMap };
  });
}

/** `file:line` in the markdown for a 1-based line of a generated sample (the chain's start if unmapped). */
export function markdownLine(sample: WrittenSample, generatedLine: number): string {
  const line = sample.lineMap[generatedLine - 1];
  return `${sample.file}:${line && line > 0 ? line : sample.line}`;
}

/** Every code block of README.md and docs/**\/*.md. */
export function collectBlocks(root: string): CodeBlock[] {
  return docsFiles(root).flatMap((file) => extractBlocks(file, readFileSync(join(root, file), 'utf8')));
}

/** The runnable chains of every markdown file's blocks. */
export function collectChains(blocks: readonly CodeBlock[]): SampleChain[] {
  const byFile = new Map<string, CodeBlock[]>();
  for (const block of blocks) byFile.set(block.file, [...(byFile.get(block.file) ?? []), block]);
  return [...byFile.values()].flatMap((fileBlocks) => chainBlocks(fileBlocks));
}

/** Excerpted example programs (`<!-- from X -->` before a ts block), in order of first mention, each once. */
export function excerptSources(blocks: readonly CodeBlock[]): { path: string; file: string; line: number }[] {
  const seen = new Map<string, { path: string; file: string; line: number }>();
  for (const b of blocks) if (b.from !== undefined && isTypeScript(b) && !seen.has(b.from)) seen.set(b.from, { path: b.from, file: b.file, line: b.line });
  return [...seen.values()];
}
