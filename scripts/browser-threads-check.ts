/**
 * Checks the CPU worker pool in a real browser: bundles a small program (the float32 matmul on 1
 * thread, then on 2) with esbuild from the packages' sources, serves it cross-origin isolated
 * (COOP/COEP headers) and runs it in headless Chromium (Debian `chromium` + `playwright-core`,
 * see /work/shared/TOOLCHAIN.md). The first 2-thread call runs on the page's thread (its workers
 * start asynchronously); later calls use the Web Workers. Prints what the page reports and exits
 * 1 unless every result is bit-identical to the 1-thread product and the pool has 2 threads.
 *
 *   pnpm exec tsx scripts/browser-threads-check.ts
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const PROGRAM = `
import { getNumThreads, setNumThreads, usableThreads } from '@kiln/backend-cpu';
import { gemmF32, wasmGemmUsesFma } from './packages/backend-cpu/src/wasm/gemm.ts';
const [m, k, n] = [203, 301, 157];
const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
const run = () => { const d = new Float32Array(m * n); gemmF32(a, [0], b, [0], d, m, k, n); return d; };
const same = (x, y) => x.every((v, i) => Object.is(v, y[i]));
setNumThreads(1);
const one = run();
setNumThreads(2);
const report = { isolated: globalThis.crossOriginIsolated, threads: getNumThreads(), usable: usableThreads(), fma: wasmGemmUsesFma(), firstCallEqual: same(run(), one) };
setTimeout(() => {
  let equal = true;
  const t0 = performance.now();
  for (let r = 0; r < 20; r++) equal = same(run(), one) && equal;
  globalThis.__report = { ...report, laterCallsEqual: equal, msPerRun: (performance.now() - t0) / 20 };
}, 1000);
`;

interface Report { isolated: boolean; threads: number; usable: number; fma: boolean; firstCallEqual: boolean; laterCallsEqual: boolean; msPerRun: number }

async function main(): Promise<void> {
  const bundled = await build({
    stdin: { contents: PROGRAM, resolveDir: ROOT, loader: 'js' },
    bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022', conditions: ['kiln-source'], logLevel: 'silent',
  });
  const js = bundled.outputFiles[0].text;
  const server = createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    if (req.url === '/') res.setHeader('Content-Type', 'text/html').end('<!doctype html><script type="module" src="/main.js"></script>');
    else if (req.url === '/main.js') res.setHeader('Content-Type', 'text/javascript').end(js);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const port = (server.address() as { port: number }).port;
  const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!executablePath) throw new Error('no chromium: install Debian\'s chromium (apt-get install -y chromium)');
  const browser = await chromium.launch({ executablePath, args: ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking'] });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`http://localhost:${port}/`);
    await page.waitForFunction(() => (globalThis as { __report?: unknown }).__report !== undefined, null, { timeout: 60_000 });
    const report = await page.evaluate(() => (globalThis as unknown as { __report: Report }).__report);
    console.log(JSON.stringify(report, null, 2));
    const ok = report.isolated && report.usable === 2 && report.firstCallEqual && report.laterCallsEqual;
    if (!ok) process.exitCode = 1;
  } finally {
    await browser.close();
    server.close();
  }
}

void main();
