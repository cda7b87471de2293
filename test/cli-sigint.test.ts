// Ctrl-C on a real `skipgrad train` process: it finishes the step, saves a checkpoint, exits, and
// --resume completes the run. Runs the built CLI (dist/), as a user would.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/src/cli/bin.js', import.meta.url));

function runCli(args: string[], interruptOn?: RegExp): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let sent = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (interruptOn && !sent && interruptOn.test(out)) {
        sent = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe.skipIf(!existsSync(bin))('skipgrad train and Ctrl-C', () => {
  it('saves a checkpoint on SIGINT and resumes to completion', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'skipgrad-sigint-')), 'run');
    const args = ['train', '--width', '4', '--limit', '640', '--batch-size', '32', '--epochs', '2', '--out', out];
    const first = await runCli(args, /epoch 1\/2 batch \d+\/20/);
    expect(first.out).toContain('interrupt: finishing this step and saving a checkpoint');
    expect(first.out).toMatch(/interrupted at epoch 1, batch \d+: checkpoint saved/);
    expect(first.out).not.toContain('    at ');
    expect(first.code).toBe(130);
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false);

    const second = await runCli(['train', '--resume', out]);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/resuming from .*checkpoint\.safetensors: epoch 1, batch \d+/);
    expect(second.out).toMatch(/epoch 2\/2: loss/);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
  }, 120_000);
});

describe.skipIf(!existsSync(bin))('skipgrad with its stdout closed early (| head)', () => {
  it('finishes the job and exits 0 without an EPIPE trace', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'skipgrad-epipe-')), 'run');
    const child = spawn(process.execPath, [bin, 'train', '--width', '4', '--limit', '64', '--batch-size', '32', '--epochs', '1', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy()); // the reader leaves after the first line
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).not.toContain('EPIPE');
    expect(code).toBe(0);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
  });
});
