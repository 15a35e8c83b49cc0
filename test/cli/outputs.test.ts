/**
 * Output paths and checkpoint files a user can get wrong, through the built CLI: `train --checkpoint`,
 * `sweep --checkpoint-dir`, `paper --out` and `report --out` are checked before any work starts, and a checkpoint
 * with a valid checksum but a bad header is refused. Each: exit code 2, exactly one stderr line, no stack frame,
 * nothing written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliCommand, repoRoot, tempDir } from '../experiments/helpers.js';

function cli(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [...cliCommand(), ...args], { cwd: repoRoot(), encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
}

/** Exit 2, one `error:` line matching `pattern`, no stack frame. */
function oneLine(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
}

/** Every file under `dir`, recursively, with its contents: the before/after of a refused command. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((p) => { try { return `${p}=${readFileSync(p, 'hex')}`; } catch { return `${p}/`; } });
}

const train = ['train', '--dataset', 'synthetic', '--lr', '0.1', '--batch', '16', '--max-steps', '4', '--checkpoint-every', '2'];

test('train --checkpoint in a missing folder or at a folder fails before training', () => {
  const d = tempDir('out-train');
  mkdirSync(join(d, 'isdir'));
  const before = snapshot(d);
  oneLine(cli(...train, '--checkpoint', join(d, 'missing', 'c.ckpt')), /--checkpoint .*missing\/c\.ckpt: folder .*missing does not exist; give another path$/);
  oneLine(cli(...train, '--checkpoint', join(d, 'isdir')), /--checkpoint .*isdir: it is a folder, not a file; give another path$/);
  writeFileSync(join(d, 'file'), 'x');
  oneLine(cli(...train, '--checkpoint', join(d, 'file', 'c.ckpt')), /is not a folder/);
  assert.deepEqual(snapshot(d), [...before, `${join(d, 'file')}=78`].sort());
});

test('train --resume from a checkpoint with a valid checksum and a bad header names the file in one line', () => {
  const d = tempDir('out-header');
  const file = join(d, 'c.ckpt');
  // "MLCKPT01" | header length 40 | a version-2 header padded to 40 bytes | no buffers | SHA-256.
  const header = Buffer.from(JSON.stringify({ version: 2, signature: 's', meta: {}, buffers: [] }).padEnd(40, ' '));
  const head = Buffer.concat([Buffer.from('MLCKPT01', 'latin1'), Buffer.alloc(4), header]);
  head.writeUInt32LE(header.length, 8);
  writeFileSync(file, Buffer.concat([head, createHash('sha256').update(head).digest()]));
  const before = snapshot(d);
  oneLine(cli(...train, '--checkpoint', file, '--resume'), new RegExp(`^error: checkpoint ${file} has a malformed header \\(version 2, expected 1\\)`));
  oneLine(cli(...train, '--init-from', file), /malformed header/);
  assert.deepEqual(snapshot(d), before);
});

test('sweep --checkpoint-dir that is a file fails before any run, and no store is created', () => {
  const d = tempDir('out-sweep');
  const cfg = join(d, 'sweep.json');
  writeFileSync(cfg, JSON.stringify({
    name: 'tiny', task: 'synthetic', base: { steps: 4, batchSize: 16, params: { train: 64, valid: 32, test: 32 } },
    grid: { form: ['sgd'], lr: [0.1, 0.2] }, protocol: { tune: true, metric: 'valid/loss' },
  }));
  writeFileSync(join(d, 'ckpt'), 'x');
  writeFileSync(join(d, 'r.db.ckpt'), 'x');
  const before = snapshot(d);
  oneLine(cli('sweep', cfg, '--db', join(d, 'r.db'), '--checkpoint-dir', join(d, 'ckpt'), '--workers', '0'), /--checkpoint-dir .*ckpt: it is a file, not a folder; give another folder$/);
  // The default folder, <db>.ckpt, is checked the same way.
  oneLine(cli('sweep', cfg, '--db', join(d, 'r.db'), '--workers', '0'), /--checkpoint-dir .*r\.db\.ckpt: it is a file/);
  assert.deepEqual(snapshot(d), before);
});

test('paper --out and report --out pointing at a file fail before any work', () => {
  const d = tempDir('out-paper');
  writeFileSync(join(d, 'out'), 'x');
  const before = snapshot(d);
  oneLine(cli('paper', '--quick', '--out', join(d, 'out')), /--out .*out: it is a file, not a folder; give another folder$/);
  oneLine(cli('paper', '--quick', '--out', join(d, 'out', 'sub')), /--out .*out\/sub: .*out is a file, not a folder/);
  oneLine(cli('report', join(d, 'none.db'), '--out', join(d, 'out')), /--out .*out: it is a file, not a folder/);
  assert.deepEqual(snapshot(d), before);
});
