// The dashboard server: localhost only, the runs' data as JSON, live change events, and nothing
// outside the run folders (traversal in every spelling, other files, symlinks, foreign Host).

import { symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTraversal, startDashboard, type Dashboard } from '../src/dashboard/index.js';
import { dashboardCommand } from '../src/cli/dashboard.js';
import { makeRunFolder, tempRoot } from './helpers/run_folders.js';

/** A GET with the path sent exactly as written (no normalization by a URL parser). */
function get(port: number, path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

let dash: Dashboard;
let root: string;
let a: string;

beforeAll(async () => {
  root = tempRoot();
  a = await makeRunFolder(root, 'resnet-lr0.05', 2, 0.05);
  const b = await makeRunFolder(root, 'resnet-lr0.2', 1, 0.2);
  writeFileSync(join(a, 'secret.txt'), 'not for the dashboard');
  symlinkSync('/etc/passwd', join(b, 'confusion.svg'));
  dash = await startDashboard({ runs: [a, b], pollMs: 50 });
});
afterAll(() => dash?.close());

describe('dashboard server', () => {
  it('listens on 127.0.0.1 and serves the page and the runs', async () => {
    expect(dash.url).toBe(`http://127.0.0.1:${dash.port}/`);
    const page = await get(dash.port, '/');
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.body).not.toMatch(/<script[^>]+src=|<link[^>]+href="http|@import|url\(http/); // offline: nothing external
    const runs = JSON.parse((await get(dash.port, '/api/runs')).body);
    expect(runs.map((r: { name: string }) => r.name)).toEqual(['resnet-lr0.05', 'resnet-lr0.2']);
    const d = JSON.parse((await get(dash.port, '/api/run/0')).body);
    expect(d.metrics).toHaveLength(10);
    expect(d.metrics.filter((m: { testAcc: number | null }) => m.testAcc !== null).map((m: { testAcc: number }) => m.testAcc)).toEqual([0.6, 0.7]);
    expect(d.gradflow.steps).toEqual([1, 2, 3, 4]);
    expect(d.gradflow.blocks).toEqual(['1.0', '2.0']);
    expect(d.config.lr).toBe(0.05);
    const csv = await get(dash.port, '/run/0/metrics.csv');
    expect(csv.status).toBe(200);
    expect(csv.body.split('\n')[0]).toBe('epoch,step,lr,loss,train_acc,test_acc,examples_per_sec,seconds');
  });

  it.each([
    '/..%2f..%2fetc/passwd', '/../../etc/passwd', '/run/0/..%2f..%2f..%2fetc%2fpasswd', '/run/0/%2e%2e/%2e%2e/etc/passwd',
    '/run/0/..\\..\\etc\\passwd', '/api/run/0/../../../../etc/passwd', '/run/0/%252e%252e%252fetc%252fpasswd',
  ])('refuses %s', async (path) => {
    const r = await get(dash.port, path);
    expect(r.status).toBe(403);
    expect(r.body).toBe('refused: outside the run folders\n');
  });

  it('serves only the named run files, never through a symlink out of the folder, and only to a local Host', async () => {
    expect((await get(dash.port, '/run/0/secret.txt')).status).toBe(404);
    expect((await get(dash.port, '/run/0/checkpoint.safetensors')).status).toBe(404);
    expect((await get(dash.port, '/run/7/metrics.csv')).status).toBe(404);
    expect((await get(dash.port, '/etc/passwd')).status).toBe(404);
    const link = await get(dash.port, '/run/1/confusion.svg');
    expect(link.status).toBe(403);
    expect(link.body).not.toContain('root:');
    expect((await get(dash.port, '/', `evil.example:${dash.port}`)).status).toBe(403);
    expect(isTraversal('/run/0/metrics.csv?v=1')).toBe(false);
  });

  it('sends an update event when a run folder changes', async () => {
    const event = new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: dash.port, path: '/api/events' }, (res) => {
        let buf = '';
        res.on('data', (c) => {
          buf += c;
          const m = /event: update\ndata: (.*)\n/.exec(buf);
          if (m) {
            resolve(m[1]);
            req.destroy();
          }
        });
      });
      req.on('error', reject);
      req.end();
      setTimeout(() => writeFileSync(join(a, 'metrics.csv'), 'epoch,step,lr,loss,train_acc,test_acc,examples_per_sec,seconds\n'), 200);
    });
    expect(JSON.parse(await event)).toEqual({ id: 0 });
    expect(JSON.parse((await get(dash.port, '/api/run/0')).body).metrics).toEqual([]);
  });

  it('refuses a missing folder and a bad port by name', async () => {
    await expect(startDashboard({ runs: [join(root, 'nope')] })).rejects.toThrow(`dashboard: ${join(root, 'nope')} is not a directory`);
    await expect(dashboardCommand([])).rejects.toThrow('skipgrad dashboard: name at least one run folder');
    await expect(dashboardCommand(['--port', '70000', a])).rejects.toThrow("--port expects an integer <= 65535, got '70000'");
  });
});
