// Seeded fuzzing of the three file readers a user points skipgrad at: safetensors (weights and
// checkpoints), IDX (plain and .gz) and Kaggle CSV. Each case mutates a valid file (byte flips,
// truncation, inserted or repeated bytes, extreme header numbers, CSV punctuation) and reads it.
// Run by test/fuzz-formats.test.ts under --max-old-space-size=512; prints one JSON summary line:
// how many inputs loaded, how many gave a clean error (names the file, at most 300 characters),
// and the first few bad outcomes (a bare JavaScript error, an overlong message, a NaN-free check).
//
// usage: node --max-old-space-size=512 test/fuzz/fuzz-formats.mjs FORMAT SEED COUNT

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const sg = await import('../../dist/src/index.js');
const { readIdx, readFashionCsv, writeFashionCsv } = await import('../../dist/src/data/index.js');
const { loadSafetensorsFile } = await import('../../dist/src/io/safetensors.js');

const [format, seedArg, countArg] = process.argv.slice(2);
const gen = new sg.Generator(Number(seedArg));
const rand = (n) => Math.floor(gen.random() * n);
const dir = mkdtempSync(join(tmpdir(), `skipgrad-fuzz-${format}-`));
process.env.SKIPGRAD_CACHE_DIR = 'off';

const EXTREMES = [0, 1, 0x7f, 0x80, 0xff, 0xffffffff, 0x7fffffff, 0x80000000];

function mutate(bytes) {
  const b = Uint8Array.from(bytes);
  switch (rand(7)) {
    case 0: { // flip a few bytes, biased to the header
      for (let k = 1 + rand(4); k > 0; k--) b[rand(Math.min(b.length, rand(2) ? 64 : b.length))] ^= 1 << rand(8);
      return b;
    }
    case 1: return b.subarray(0, rand(b.length)); // truncate
    case 2: { // insert random bytes
      const at = rand(b.length + 1);
      const extra = Uint8Array.from({ length: 1 + rand(16) }, () => rand(256));
      return concat(b.subarray(0, at), extra, b.subarray(at));
    }
    case 3: { // repeat a chunk many times (lengthens a header or a line)
      const at = rand(b.length);
      const chunk = b.subarray(at, at + 1 + rand(32));
      return concat(b.subarray(0, at), ...Array(1 + rand(2000)).fill(chunk), b.subarray(at));
    }
    case 4: { // an extreme 32-bit number at a word boundary near the start
      const dv = new DataView(b.buffer);
      const at = 4 * rand(Math.max(1, Math.min(8, Math.floor(b.length / 4) - 1)));
      if (at + 4 <= b.length) dv.setUint32(at, EXTREMES[rand(EXTREMES.length)], rand(2) === 1);
      return b;
    }
    case 5: { // CSV and JSON punctuation
      const marks = [0x22, 0x2c, 0x0a, 0x0d, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2d, 0x2e, 0x65, 0x20, 0x00];
      for (let k = 1 + rand(6); k > 0; k--) b[rand(b.length)] = marks[rand(marks.length)];
      return b;
    }
    default: return concat(b, b.subarray(rand(b.length))); // trailing junk
  }
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

async function seeds() {
  if (format === 'safetensors') {
    const path = join(dir, 'seed.safetensors');
    await sg.saveSafetensors(path, {
      'conv.weight': sg.randn([4, 2, 3, 3]), 'bn.running_var': sg.ones([4]),
      'bn.num_batches_tracked': sg.tensor(3, { dtype: 'int32' }), 'fc.bias': sg.zeros([10], { dtype: 'float64' }),
    }, { 'skipgrad.config': '{"width":4}' });
    const { readFileSync } = await import('node:fs');
    return [{ name: 'x.safetensors', bytes: readFileSync(path) }];
  }
  if (format === 'idx') {
    const header = (dims) => {
      const h = new Uint8Array(4 + 4 * dims.length);
      h[2] = 8; h[3] = dims.length;
      dims.forEach((d, i) => new DataView(h.buffer).setUint32(4 + 4 * i, d, false));
      return h;
    };
    const images = concat(header([3, 28, 28]), Uint8Array.from({ length: 3 * 784 }, (_, i) => i % 256));
    const labels = concat(header([5]), Uint8Array.of(0, 9, 3, 1, 2));
    return [
      { name: 'x-idx3-ubyte', bytes: images }, { name: 'x-idx1-ubyte', bytes: labels },
      { name: 'x-idx3-ubyte.gz', bytes: gzipSync(images) }, { name: 'x-idx1-ubyte.gz', bytes: gzipSync(labels) },
    ];
  }
  const path = join(dir, 'seed.csv');
  await writeFashionCsv(path, { pixels: Uint8Array.from({ length: 3 * 784 }, (_, i) => (i * 7) % 256), labels: Uint8Array.of(1, 9, 0), rows: 28, cols: 28 });
  const { readFileSync } = await import('node:fs');
  return [{ name: 'x.csv', bytes: readFileSync(path) }];
}

async function read(path) {
  if (format === 'safetensors') {
    const r = await loadSafetensorsFile(path);
    return Object.keys(r.tensors).length;
  }
  if (format === 'idx') return (await readIdx(path)).data.length;
  return (await readFashionCsv(path)).count;
}

const base = await seeds();
const summary = { format, cases: 0, loaded: 0, cleanErrors: 0, bad: [] };
for (let i = 0; i < Number(countArg); i++) {
  const seed = base[i % base.length];
  const path = join(dir, `${i}-${seed.name}`);
  writeFileSync(path, mutate(seed.bytes));
  summary.cases++;
  try {
    await read(path);
    summary.loaded++;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const clean = e instanceof Error && message.startsWith(path) && message.length <= 300;
    if (clean) summary.cleanErrors++;
    else if (summary.bad.length < 5) summary.bad.push({ case: i, type: e?.constructor?.name, length: message.length, message: message.slice(0, 300) });
    else summary.bad.push({ case: i });
  }
  rmSync(path, { force: true });
}
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(summary));
