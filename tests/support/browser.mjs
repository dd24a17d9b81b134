// Headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) on a page served from
// the repository root, so browser code can `await import('/pkg/index.js')`.
//
//   const b = await openBrowser();
//   const out = await b.page.evaluate(async (arg) => { const lib = await import('/pkg/index.js'); ... }, arg);
//   const out2 = await b.evaluateModule(`import * as lib from '/pkg/index.js';
//                                        export default async (arg) => lib.deriveDeviceKey(arg.k, arg.r);`, { k, r });
//   await b.close();
//
// `b.logs` collects the page's console output and uncaught errors, for failure messages.
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../../scripts/lib/static-server.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// As root Chromium needs --no-sandbox; on a closed network the background services must be off.
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export async function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export async function openBrowser({ root = repoRoot } = {}) {
  const virtual = new Map([['/__blank.html', '<!doctype html><meta charset="utf-8"><title>test</title>']]);
  const server = await serveStatic(root, { virtual });
  let browser;
  try {
    browser = await launchChromium();
  } catch (e) {
    await server.close();
    throw e;
  }
  const page = await browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  await page.goto(`${server.url}/__blank.html`);
  let n = 0;
  return {
    page,
    browser,
    baseUrl: server.url,
    logs,
    async evaluateModule(code, arg) {
      const path = `/__virtual/${++n}.mjs`;
      virtual.set(path, code);
      return page.evaluate(async ([u, a]) => (await import(u)).default(a), [path, arg]);
    },
    async close() {
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}
