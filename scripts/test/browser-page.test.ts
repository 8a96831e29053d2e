/**
 * End to end in headless Chromium: docs/examples/browser/ (bundled by scripts/browser/build.ts,
 * served by scripts/browser/server.ts) fetches a saved `.kiln` CNN and runs it on WebGPU
 * (Chromium's SwiftShader adapter, `--enable-unsafe-webgpu`), or on the CPU with `?backend=cpu`
 * or when there is no `navigator.gpu`. Its outputs are checked against the same file run in
 * Node on the CPU, itself checked against the eager model: CPU within 1e-5, WebGPU within 1e-4
 * (absolute, on logits of magnitude ~1: float32 with another summation order).
 * Needs Debian's `chromium` (scripts/lib/setup.sh installs it): without it the suite says so
 * loudly and skips — unless KILN_REQUIRE_WEBGPU=1 (CI), where it fails.
 */
import { existsSync } from 'node:fs';
import { getBackend, tensor } from '@kiln/eager';
import { createWebGPUBackend } from '@kiln/backend-webgpu';
import { requestNodeDevice } from '@kiln/backend-webgpu/node';
import { loadModel } from '@kiln/runtime';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleInput, type PageResult } from '../../docs/examples/browser/sample.js';
import { buildPage, PAGE_DIR } from '../browser/build.js';
import { pageModel } from '../browser/model.js';
import { serveStatic, type StaticServer } from '../browser/server.js';

const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';
/** ../shared/TOOLCHAIN.md's flags; `--enable-unsafe-webgpu` gives the SwiftShader adapter. */
const FLAGS = ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'];
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const why = `no Chromium at ${CHROMIUM} (install Debian's chromium: scripts/lib/setup.sh does; or set KILN_CHROMIUM)`;
  if (process.env.KILN_REQUIRE_WEBGPU === '1') throw new Error(`the browser-page test must run (KILN_REQUIRE_WEBGPU=1) but there is ${why}`);
  const line = '!'.repeat(100);
  console.warn(`${line}\n!! NO CHROMIUM: the browser-page test is SKIPPED on this machine: ${why}.\n!! Set KILN_REQUIRE_WEBGPU=1 to make this a failure.\n${line}`);
}

const maxAbsDiff = (a: readonly number[], b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
};

describe.skipIf(!haveChromium)('docs/examples/browser in headless Chromium', () => {
  let browser: Browser;
  let isolated: StaticServer;
  let plain: StaticServer;
  const { bytes, model } = pageModel();
  const cpu = getBackend('cpu');
  /** Node's logits for the page's input at this batch size (the same file on the CPU). */
  const nodeLogits = (batch: number): Float32Array => {
    const shape = [batch, 1, 8, 8];
    const loaded = loadModel(bytes, { backend: cpu });
    const [y] = loaded.run({ dtype: 'float32', shape, data: sampleInput(shape) });
    loaded.dispose();
    return y.data as Float32Array;
  };

  beforeAll(async () => {
    const built = await buildPage();
    // The page ships the runtime and the backends, not eager, the tracer or autograd.
    expect(built.inputs.filter((p) => /packages\/(eager|tracer|nn)\/|autograd/.test(p))).toEqual([]);
    expect(built.inputs).toContain('packages/backend-webgpu/src/backend.ts');
    const files = new Map([['model.kiln', bytes]]);
    isolated = await serveStatic(PAGE_DIR, { files });
    plain = await serveStatic(PAGE_DIR, { files, isolated: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await isolated?.close();
    await plain?.close();
  });

  /** Opens the page, waits for window.kilnResult; counts the Web Workers the page starts. */
  async function open(url: string, setup?: (page: Page) => Promise<void>): Promise<{ result: PageResult; status: string; workers: number; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript(() => {
      const g = globalThis as unknown as { Worker: new (...a: unknown[]) => object; workersStarted: number };
      const Base = g.Worker;
      g.workersStarted = 0;
      g.Worker = class extends Base { constructor(...a: unknown[]) { super(...a); g.workersStarted++; } } as typeof Base;
    });
    await setup?.(page);
    try {
      await page.goto(url);
      await page.waitForFunction(() => 'kilnResult' in globalThis, null, { timeout: 30_000 });
      const result = await page.evaluate(() => (globalThis as unknown as { kilnResult: PageResult }).kilnResult);
      const workers = await page.evaluate(() => (globalThis as unknown as { workersStarted: number }).workersStarted);
      return { result, status: (await page.locator('#status').textContent()) ?? '', workers, errors };
    } finally {
      await page.close();
    }
  }

  it('runs the saved model with the eager model\'s numbers in Node (the reference is right)', () => {
    const shape = [4, 1, 8, 8];
    const eager = model.forward(tensor(Array.from(sampleInput(shape)), 'float32').reshape(shape)).dataSync();
    expect(maxAbsDiff(Array.from(eager), nodeLogits(4))).toBeLessThan(1e-5);
  });

  it('on WebGPU (SwiftShader) it gives Node\'s CPU logits within 1e-4, and says which adapter ran', async () => {
    const { result, status, errors } = await open(isolated.url);
    expect(errors).toEqual([]);
    expect(result.ok, result.error).toBe(true);
    expect(result.backend).toBe('webgpu');
    expect(result.reason).toMatch(/navigator\.gpu gave an adapter \(.*swiftshader/i);
    expect(result.inputShape).toEqual([4, 1, 8, 8]);
    expect(result.outputs!.map((o) => [o.name, o.shape])).toEqual([['logits', [4, 10]]]);
    const want = nodeLogits(4);
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.1); // not a constant output
    expect(maxAbsDiff(result.outputs![0].data, want)).toBeLessThan(1e-4);
    expect(result.timings!.medianRunMs).toBeGreaterThan(0);
    expect(status).toMatch(/^backend: webgpu \(/);
  }, 60_000);

  it('?backend=cpu runs on the CPU with WebAssembly threads under COOP/COEP, Node\'s logits within 1e-5', async () => {
    // A batch large enough that the CPU kernels split work across threads.
    const { result, workers, errors } = await open(`${isolated.url}?backend=cpu&batch=2048&runs=2`);
    expect(errors).toEqual([]);
    expect(result.ok, result.error).toBe(true);
    expect(result).toMatchObject({ backend: 'cpu', reason: '?backend=cpu asked for the CPU', crossOriginIsolated: true });
    expect(result.cpuThreads).toBeGreaterThan(1);
    expect(workers).toBeGreaterThan(0);
    expect(maxAbsDiff(result.outputs![0].data, nodeLogits(2048))).toBeLessThan(1e-5);
  }, 60_000);

  it('served without COOP/COEP the CPU runs single-threaded (no workers), with the same logits', async () => {
    const { result, workers } = await open(`${plain.url}?backend=cpu&batch=2048&runs=2`);
    expect(result.ok, result.error).toBe(true);
    expect(result).toMatchObject({ backend: 'cpu', crossOriginIsolated: false, cpuThreads: 1 });
    expect(workers).toBe(0);
    expect(maxAbsDiff(result.outputs![0].data, nodeLogits(2048))).toBeLessThan(1e-5);
  }, 60_000);

  const noWebGPU = async (page: Page): Promise<void> => {
    await page.addInitScript(() => {
      const nav = (globalThis as unknown as { navigator: object }).navigator;
      Object.defineProperty(Object.getPrototypeOf(nav), 'gpu', { get: () => undefined, configurable: true });
    });
  };

  it('without navigator.gpu it falls back to the CPU and says why', async () => {
    const { result, status } = await open(isolated.url, noWebGPU);
    expect(result.ok, result.error).toBe(true);
    expect(result.backend).toBe('cpu');
    expect(result.reason).toMatch(/^no WebGPU: WebGPU is not available: there is no navigator\.gpu here/);
    expect(status).toContain('backend: cpu (no WebGPU');
    expect(maxAbsDiff(result.outputs![0].data, nodeLogits(4))).toBeLessThan(1e-5);
  }, 60_000);

  it('?backend=webgpu does not fall back, and a missing model file is a clear error on the page', async () => {
    const refused = await open(`${isolated.url}?backend=webgpu`, noWebGPU);
    expect(refused.result).toMatchObject({ ok: false });
    expect(refused.result.error).toMatch(/^WebGPUUnavailableError: WebGPU is not available/);
    expect(refused.status).toMatch(/^failed: WebGPUUnavailableError/);
    const missing = await open(`${isolated.url}?backend=cpu&model=nothing.kiln`);
    expect(missing.result.error).toBe('Error: fetching nothing.kiln: HTTP 404 Not Found');
  }, 60_000);
});

describe('scripts/browser/server.ts (runs without Chromium)', () => {
  it('serves files with their MIME types, COOP/COEP unless asked not to, and nothing outside its folder', async () => {
    const files = new Map([['model.kiln', Uint8Array.of(1, 2, 3)]]);
    const server = await serveStatic(PAGE_DIR, { files });
    const plain = await serveStatic(PAGE_DIR, { files, isolated: false });
    try {
      const page = await fetch(server.url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(await page.text()).toContain('<script type="module" src="dist/main.js">');
      const model = await fetch(`${server.url}model.kiln`);
      expect(model.headers.get('content-type')).toBe('application/octet-stream');
      expect(new Uint8Array(await model.arrayBuffer())).toEqual(Uint8Array.of(1, 2, 3));
      expect((await fetch(`${server.url}main.ts`)).headers.get('content-type')).toBe('text/plain; charset=utf-8');
      const head = await fetch(`${server.url}model.kiln`, { method: 'HEAD' });
      expect([head.status, head.headers.get('content-length')]).toEqual([200, '3']);
      expect((await fetch(`${server.url}missing.js`)).status).toBe(404);
      expect((await fetch(`${server.url}..%2f..%2f..%2fpackage.json`)).status).toBe(404); // the repository root's package.json
      const open = await fetch(plain.url);
      expect(open.status).toBe(200);
      expect(open.headers.get('cross-origin-opener-policy')).toBeNull();
    } finally {
      await server.close();
      await plain.close();
    }
  });
});

describe('the page\'s model on WebGPU in Node (Dawn), with runAsync', () => {
  it('gives the CPU\'s logits within 1e-4', async () => {
    let acquired: Awaited<ReturnType<typeof requestNodeDevice>>;
    try {
      acquired = await requestNodeDevice();
    } catch (e) {
      if (process.env.KILN_REQUIRE_WEBGPU === '1') throw e;
      console.warn(`!! NO WEBGPU ADAPTER in Node: this check is SKIPPED: ${(e as Error).message}`);
      return;
    }
    const { bytes } = pageModel();
    const shape = [4, 1, 8, 8];
    const x = { dtype: 'float32' as const, shape, data: sampleInput(shape) };
    const gpu = createWebGPUBackend(acquired.device, { adapterInfo: acquired.adapterInfo });
    const onGpu = loadModel(bytes, { backend: gpu });
    const weights = gpu.bytesInUse();
    expect(weights).toBeGreaterThan(0);
    expect(() => onGpu.run(x)).toThrow(/await/); // a synchronous read on WebGPU says what to do…
    expect(gpu.bytesInUse()).toBe(weights); // …and leaves nothing of the run behind
    const [got] = await onGpu.runAsync(x);
    expect(gpu.bytesInUse()).toBe(weights);
    onGpu.dispose();
    expect(gpu.bytesInUse()).toBe(0);
    const [want] = loadModel(bytes, { backend: getBackend('cpu') }).run(x);
    expect(got.shape).toEqual([4, 10]);
    expect(maxAbsDiff(Array.from(got.data), want.data)).toBeLessThan(1e-4);
    acquired.device.destroy();
  }, 60_000);
});
