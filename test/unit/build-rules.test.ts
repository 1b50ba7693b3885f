// The source builder's pure rules: which paths the bundle builder leaves out, which setup.py
// files only start the standard builder, zip times, and deflate output equal to canonical zlib
// (the bytes Python's zipfile writes with zlib 1.2.13 at level 6, committed as a digest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { customSetupLine, isIgnored } from '../../src/build/select.js';
import { dosDateTime, readZipRecords, writeZip } from '../../src/build/zip.js';

test('ignore rules: three top-level folders, patterns matched against the whole path', () => {
  for (const p of ['dist/a.xo', '.git/x', 'screenshots/a.png', '.gitignore', 'MANIFEST', 'pseudo.po', 'a.pyc', 'sub/b.pyc', 'x~', 'd/y.bak'])
    assert.equal(isIgnored(p), true, p);
  for (const p of ['sub/dist/x', 'sub/.gitignore', 'sub/MANIFEST', 'po/pseudo.po', 'Makefile', 'MANIFEST.in', 'a.py', 'README'])
    assert.equal(isIgnored(p), false, p);
});

test('setup.py: the standard starters pass, anything else is named', () => {
  const ok = [
    '#!/usr/bin/env python3\n# Copyright\n"""Doc\nstring"""\nfrom sugar3.activity import bundlebuilder\nbundlebuilder.start()\n',
    '#!/usr/bin/env python\nfrom sugar.activity import bundlebuilder\nif __name__ == "__main__":\n    bundlebuilder.start(\'Paint\')\n',
  ];
  for (const s of ok) assert.equal(customSetupLine(s), null, s);
  assert.deepEqual(customSetupLine('from sugar3.activity import bundlebuilder\nimport subprocess\nsubprocess.call(["make"])\nbundlebuilder.start()\n'), {
    line: 2,
    text: 'import subprocess',
  });
});

test('zip times are the commit time read in UTC, at 2-second resolution, clamped to 1980', () => {
  const { date, time } = dosDateTime(Date.UTC(2024, 4, 17, 10, 20, 31) / 1000);
  assert.equal(date, ((2024 - 1980) << 9) | (5 << 5) | 17);
  assert.equal(time, (10 << 11) | (20 << 5) | 15);
  assert.deepEqual(dosDateTime(0), { date: (1 << 5) | 1, time: 0 });
});

test('deflate output is canonical zlib level 6, the same on every machine', () => {
  const data = Buffer.concat(Array.from({ length: 20000 }, (_, i) => Buffer.from(`line ${i}: the quick brown fox jumps over the lazy dog ${(i * i) % 97}\n`)));
  const zip = writeZip(
    [
      { name: 'R.activity/a.txt', data, mode: 0o100644 },
      { name: 'R.activity/d/', mode: 0o40755 },
      { name: 'R.activity/é', data: Buffer.alloc(0), mode: 0o100755 },
    ],
    0,
  );
  const records = readZipRecords(zip)!;
  assert.deepEqual(
    records.map((r) => r.name),
    ['R.activity/a.txt', 'R.activity/d/', 'R.activity/é'],
  );
  const local = records[0].local;
  const stream = local.subarray(30 + local.readUInt16LE(26));
  assert.equal(stream.length, 84912);
  assert.equal(createHash('sha256').update(stream).digest('hex'), '8adf9ddfd1040abdbd31b47f3b6032a3455e7ed28fcbe916cab3b5d55fbd7bca');
  assert.ok(inflateRawSync(stream).equals(data));
  // Directory: stored, external attributes 0o40755 << 16 | 0x10. Non-ASCII name: UTF-8 flag. Empty file: a 2-byte stream.
  assert.equal(records[1].central.readUInt16LE(10), 0);
  assert.equal(records[1].central.readUInt32LE(38), ((0o40755 << 16) | 0x10) >>> 0);
  assert.equal(records[2].central.readUInt16LE(8), 0x800);
  assert.equal(records[2].central.readUInt32LE(20), 2);
  assert.equal(records[0].central.readUInt16LE(4), 0x0314);
});

test('one deflate stream reused for every file (and every archive) gives each file the stream a fresh zlib gives it', async () => {
  const { deflateRaw } = await import('pako');
  const { randomBytes } = await import('node:crypto');
  const files = [
    randomBytes(70_000),
    Buffer.from('text '.repeat(30_000)),
    randomBytes(100),
    Buffer.alloc(0),
    Buffer.concat([randomBytes(40_000), Buffer.alloc(40_000, 1)]),
    randomBytes(200_000),
  ];
  // Short files after longer ones that share their bytes (the window past their end held the
  // longer one's bytes).
  files.splice(2, 0, Buffer.from('abcdXabcdYabcdX'), Buffer.from('abcdXabcdYabcd'), Buffer.from('text '.repeat(7)));
  // The deflater is shared by every archive too: a second archive, in the other order, after
  // the first has left its window and chains behind.
  for (const order of [files, [...files].reverse()]) {
    const zip = writeZip(
      order.map((data, i) => ({ name: `R.activity/f${i}`, data, mode: 0o100644 })),
      0,
    );
    const records = readZipRecords(zip)!;
    records.forEach((r, i) => {
      const stream = r.local.subarray(30 + r.local.readUInt16LE(26));
      assert.ok(stream.equals(Buffer.from(deflateRaw(order[i], { level: 6 }))), `file ${i}`);
    });
  }
});
