// Screenshots the dashboard over run folders with Debian's chromium (puppeteer-core), as in
// docs/dashboard.png:
//   node dist/scripts/dashboard_screenshot.js OUT.png RUN_DIR [RUN_DIR …]

import puppeteer from 'puppeteer-core';
import { startDashboard } from '../src/dashboard/index.js';

async function main(): Promise<void> {
  const [out, ...runs] = process.argv.slice(2);
  if (!out || !runs.length) throw new Error('usage: dashboard_screenshot.js OUT.png RUN_DIR [RUN_DIR …]');
  const dash = await startDashboard({ runs });
  const browser = await puppeteer.launch({ executablePath: process.env.SKIPGRAD_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(dash.url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-renders]');
    await new Promise((r) => setTimeout(r, 500)); // the evaluation images
    await page.screenshot({ path: out as `${string}.png`, fullPage: true });
    if (errors.length) throw new Error(`the page logged errors: ${errors.join('; ')}`);
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
    await dash.close();
  }
}

main().catch((e) => {
  console.error(`dashboard_screenshot: ${(e as Error).message}`);
  process.exit(1);
});
