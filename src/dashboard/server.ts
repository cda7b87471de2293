// The dashboard's HTTP server: node:http on 127.0.0.1 only, serving one self-contained page, the
// runs' data as JSON, a Server-Sent Events stream that says when a run's files change, and a
// fixed list of files from the run folders it was given. Nothing else on disk is reachable:
// file names are matched against RUN_FILES (never joined from the URL), any URL holding `..`, a double encoding,
// an encoded slash, dot or backslash is refused outright, and a file whose real path (symlinks
// resolved) leaves its run folder is refused too.

import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join, sep } from 'node:path';
import { dashboardPage } from './page.js';
import { RUN_FILES, RunFolder } from './run_data.js';

/** Options of {@link startDashboard} (`skipgrad dashboard`'s flags). */
export interface DashboardOptions {
  /** Run folders to show (each must exist). */
  runs: readonly string[];
  /** TCP port (default 0: a free one). */
  port?: number;
  /** How often the files are checked for changes (default 1000 ms). */
  pollMs?: number;
}

/** A running dashboard: its URL and port, the runs it shows, and `close()`. */
export interface Dashboard {
  url: string;
  port: number;
  runs: readonly RunFolder[];
  /** Stops the server and its file watching. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.csv': 'text/csv; charset=utf-8', '.json': 'application/json; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png',
};

/** Whether a raw request target tries to step out of where it points (`..`, encoded separators or dots, backslashes). */
export function isTraversal(rawUrl: string): boolean {
  const path = rawUrl.split('?')[0];
  return /\.\.|%2e|%2f|%5c|%25|\\|%00/i.test(path);
}

function names(dirs: readonly string[]): string[] {
  // Two folders called `run` side by side become `run` and `run (2)`.
  const seen = new Map<string, number>();
  return dirs.map((d) => {
    const base = basename(d.replace(/[\\/]+$/, '')) || d;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base} (${n})`;
  });
}

/**
 * Serves the dashboard page over `options.runs` on 127.0.0.1 (live training curves, gradient flow, evaluation);
 * resolves once listening.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  if (!options.runs.length) throw new Error('dashboard: give at least one run folder');
  for (const d of options.runs) {
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new Error(`dashboard: ${d} is not a directory (a run folder written by 'skipgrad train')`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`dashboard: port must be an integer in [0, 65535], got ${port}`);
  const runNames = names(options.runs);
  const runs = options.runs.map((d, i) => new RunFolder(i, d, runNames[i]));
  const clients = new Set<ServerResponse>();
  const versions = runs.map((r) => r.version());
  let actualPort = 0;

  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const raw = req.url ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'only GET\n');
    // A page on another site cannot reach us through a DNS name that resolves to 127.0.0.1.
    const host = (req.headers.host ?? '').toLowerCase();
    if (host !== `127.0.0.1:${actualPort}` && host !== `localhost:${actualPort}`) return send(res, 403, 'refused: unexpected Host header\n');
    if (isTraversal(raw)) return send(res, 403, 'refused: outside the run folders\n');
    const path = raw.split('?')[0];
    if (path === '/' || path === '/index.html') return send(res, 200, dashboardPage(), 'text/html; charset=utf-8');
    if (path === '/api/runs') return send(res, 200, JSON.stringify(runs.map((r) => ({ id: r.id, name: r.name, dir: r.dir }))), TYPES['.json']);
    if (path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    let m = /^\/api\/run\/(\d+)$/.exec(path);
    if (m) {
      const run = runs[Number(m[1])];
      if (!run) return send(res, 404, 'no such run\n');
      return send(res, 200, JSON.stringify(run.read()), TYPES['.json']);
    }
    m = /^\/run\/(\d+)\/([A-Za-z0-9_.-]+)$/.exec(path);
    if (m) {
      const run = runs[Number(m[1])];
      const file = RUN_FILES.find((f) => f === m![2]);
      if (!run || !file) return send(res, 404, 'not a run file\n');
      const full = join(run.dir, file);
      if (!existsSync(full)) return send(res, 404, `${file}: not written yet\n`);
      let real: string;
      try {
        real = realpathSync(full);
      } catch {
        return send(res, 404, `${file}: not readable\n`);
      }
      if (!real.startsWith(realpathSync(run.dir) + sep)) return send(res, 403, 'refused: outside the run folders\n');
      res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      if (req.method === 'HEAD') return res.end();
      createReadStream(real).on('error', () => res.destroy()).pipe(res);
      return;
    }
    return send(res, 404, 'not found\n');
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      send(res, 500, `dashboard: ${(e as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'EADDRINUSE' ? `dashboard: port ${port} is already in use; pick another with --port` : `dashboard: ${e.message}`)),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  actualPort = (server.address() as AddressInfo).port;

  let beats = 0;
  const timer = setInterval(() => {
    runs.forEach((r, i) => {
      const v = r.version();
      if (v === versions[i]) return;
      versions[i] = v;
      for (const c of clients) c.write(`event: update\ndata: ${JSON.stringify({ id: r.id })}\n\n`);
    });
    // A comment now and then keeps proxies and idle timeouts from dropping the stream.
    if (++beats % 15 === 0) for (const c of clients) c.write(': keep-alive\n\n');
  }, options.pollMs ?? 1000);
  timer.unref();

  return {
    url: `http://127.0.0.1:${actualPort}/`,
    port: actualPort,
    runs,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        for (const c of clients) c.end();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
