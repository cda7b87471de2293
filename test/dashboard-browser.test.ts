// The dashboard in a real browser: Debian's chromium driven by puppeteer-core. The page loads
// without console errors, names the runs with their latest test accuracy, its charts hold the
// runs' points, it redraws when a run gets a new epoch, and a request outside the runs is refused.

import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type Dashboard } from '../src/dashboard/index.js';
import { makeRunFolder, tempRoot } from './helpers/run_folders.js';

const CHROMIUM = process.env.SKIPGRAD_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard-browser: SKIPPED, no chromium at ${CHROMIUM} (apt-get install -y chromium, or set SKIPGRAD_CHROMIUM)`);

describe.skipIf(!haveChromium)('dashboard in chromium', () => {
  let dash: Dashboard;
  let browser: Browser;
  let page: Page;
  let runA: string;
  const errors: string[] = [];

  beforeAll(async () => {
    const root = tempRoot();
    runA = await makeRunFolder(root, 'resnet-lr0.05', 2, 0.05);
    const runB = await makeRunFolder(root, 'resnet-lr0.2', 1, 0.2);
    dash = await startDashboard({ runs: [runA, runB], pollMs: 100 });
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new', '--disable-gpu'] });
    page = await browser.newPage();
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => void errors.push(String(e)));
    await page.setViewport({ width: 1400, height: 1000 });
    await page.goto(dash.url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-renders]');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dash?.close();
  });

  const texts = (sel: string) => page.$$eval(sel, (els) => els.map((e) => e.textContent));
  const attr = (sel: string, name: string) => page.$eval(sel, (e, n) => e.getAttribute(n), name);

  it('loads with no console errors and shows each run with its latest test accuracy', async () => {
    expect(errors).toEqual([]);
    expect(await texts('tr[data-run] .run-name')).toEqual(['resnet-lr0.05', 'resnet-lr0.2']);
    expect(await texts('tr[data-run] .run-acc')).toEqual(['0.7000', '0.7500']);
    expect(await page.title()).toBe('skipgrad: resnet-lr0.05, resnet-lr0.2');
  });

  it("its charts hold the runs' data points", async () => {
    expect(await attr('path[data-series="0:loss"]', 'data-points')).toBe('10');
    expect(await attr('path[data-series="1:loss"]', 'data-points')).toBe('5');
    expect(await attr('path[data-series="0:lr"]', 'data-points')).toBe('10');
    expect(await attr('path[data-series="0:examplesPerSec"]', 'data-points')).toBe('10');
    const d = await attr('path[data-series="0:loss"]', 'd');
    expect(d!.split(/[ML]/).filter(Boolean)).toHaveLength(10);
    expect(await page.$$eval('circle.pt[data-series="0:testAcc"]', (c) => c.length)).toBe(2);
    expect(await page.$$eval('circle.pt[data-series="1:testAcc"]', (c) => c.length)).toBe(1);
    // blocks × steps heat maps: 2 blocks, 4 recorded steps, for both runs.
    expect(await page.$$eval('[data-chart="0:output"] rect.cell', (c) => c.length)).toBe(8);
    expect(await page.$$eval('[data-chart="1:ratio"] rect.cell', (c) => c.length)).toBe(8);
  });

  it('plots against steps when asked', async () => {
    const byEpoch = await attr('path[data-series="0:loss"]', 'd');
    await page.select('#x', 'step');
    const byStep = await attr('path[data-series="0:loss"]', 'd');
    expect(byStep).not.toBe(byEpoch);
    expect(await attr('path[data-series="0:loss"]', 'data-points')).toBe('10');
    expect(await texts('[data-chart="loss"] text')).toContain('step');
    await page.select('#x', 'epoch');
    expect(await attr('path[data-series="0:loss"]', 'd')).toBe(byEpoch);
  });

  it('updates when the run folder gets a new epoch', async () => {
    const renders = Number(await attr('body', 'data-renders'));
    // fast-csv ends the file without a newline; train itself rewrites the file atomically.
    const csv = join(runA, 'metrics.csv');
    const sep = readFileSync(csv, 'utf8').endsWith('\n') ? '' : '\n';
    appendFileSync(csv, sep + '2.5,25,0.02,0.57,0.75,,110,7.5\n3,30,0.01,0.5,0.8,0.8123,111,9\n');
    await page.waitForFunction((n) => Number(document.body.getAttribute('data-renders')) > n, { timeout: 20_000 }, renders);
    await page.waitForFunction(() => document.querySelector('tr[data-run="0"] .run-acc')?.textContent === '0.8123', { timeout: 20_000 });
    expect(await attr('path[data-series="0:loss"]', 'data-points')).toBe('12');
    expect(await page.$$eval('circle.pt[data-series="0:testAcc"]', (c) => c.length)).toBe(3);
    expect(errors).toEqual([]);
  }, 60_000);

  it('refuses a request outside the run folders', async () => {
    const r = await page.evaluate(async () => {
      const res = await fetch('/..%2f..%2fetc/passwd');
      return { status: res.status, body: await res.text() };
    });
    expect(r).toEqual({ status: 403, body: 'refused: outside the run folders\n' });
    const file = await page.evaluate(async () => (await fetch('/run/0/..%2f..%2f..%2fetc%2fpasswd')).status);
    expect(file).toBe(403);
  });
});
