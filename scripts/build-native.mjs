// Builds the optional native addon (native/*.c -> build/native/skipgrad_native.node) with the C
// compiler at hand and Node's own headers; nothing is downloaded. Run at install (package.json
// "install"): it never fails the install. With no compiler or headers it prints one line saying
// why and exits 0, and skipgrad uses its WebAssembly kernels. oneDNN is not needed to build: the
// addon opens it at run time.
//
// Env: CC (default cc), SKIPGRAD_NODE_HEADERS (a dir with node_api.h), SKIPGRAD_NATIVE_OUT (output
// file), SKIPGRAD_SKIP_NATIVE=1 (skip).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.env.SKIPGRAD_NATIVE_OUT ?? join(root, 'build', 'native', 'skipgrad_native.node');
const say = (msg) => console.log(`skipgrad native addon: ${msg}`);

function headerDir() {
  const candidates = [
    process.env.SKIPGRAD_NODE_HEADERS,
    join(dirname(process.execPath), '..', 'include', 'node'), // official tarballs, nvm, Homebrew
    '/usr/include/node', // Debian/Ubuntu nodejs
    '/usr/local/include/node',
  ];
  return candidates.find((d) => d && existsSync(join(d, 'node_api.h')));
}

function main() {
  if (process.env.SKIPGRAD_SKIP_NATIVE === '1') return say('skipped (SKIPGRAD_SKIP_NATIVE=1); using the WebAssembly kernels');
  if (process.platform === 'win32') return say('not built on Windows (no build recipe); using the WebAssembly kernels');
  const headers = headerDir();
  if (!headers) return say("not built: Node's headers (node_api.h) not found; set SKIPGRAD_NODE_HEADERS. Using the WebAssembly kernels");
  const cc = process.env.CC || 'cc';
  const sources = ['addon.c', 'batchnorm.c', 'dnnl.c', 'loops.c', 'smallconv.c', 'taps.c'].map((f) => join(root, 'native', f));
  const link = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared', '-ldl', '-lpthread'];
  // Portable code only (no -march=native): wider vectors are chosen at run time. No FMA
  // contraction (GCC's default in GNU C): the loops round as the reference's JavaScript does.
  const args = ['-O3', '-ffp-contract=off', '-std=gnu11', '-fPIC', '-fvisibility=hidden', '-Wall', `-I${headers}`, ...sources, '-o', out, ...link];
  mkdirSync(dirname(out), { recursive: true });
  const r = spawnSync(cc, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.error) return say(`not built: compiler ${cc} not usable (${r.error.code ?? r.error.message}); using the WebAssembly kernels`);
  if (r.status !== 0) {
    const first = (r.stderr || r.stdout || '').split('\n').find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
    return say(`not built: ${cc} failed (${first.trim()}); using the WebAssembly kernels`);
  }
  say(`built ${out}`);
}

try {
  main();
} catch (e) {
  say(`not built: ${e instanceof Error ? e.message : e}; using the WebAssembly kernels`);
}
process.exitCode = 0;
