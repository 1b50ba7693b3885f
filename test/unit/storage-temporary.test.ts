// The file store's temporary files: what the sweep removes (leftovers of processes that are gone,
// files nobody touched for an hour) and what it never removes (a file an upload is still writing,
// in this process or another one, however long the upload has stalled).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { FileStore, TEMP_MAX_AGE_MS } from '../../src/platform/storage/file-store.js';

const STORE_MODULE = fileURLToPath(new URL('../../src/platform/storage/file-store.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const twoHoursAgo = () => new Date(Date.now() - 2 * 3600_000);

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Another process staging a file whose upload stalls after a few bytes (it never ends). */
function stallingUploader(root: string, touchEveryMs: number): Promise<{ child: ChildProcess; name: string }> {
  const code = `
    import { FileStore } from ${JSON.stringify(STORE_MODULE)};
    import { PassThrough } from 'node:stream';
    import { readdir } from 'node:fs/promises';
    const store = new FileStore(${JSON.stringify(root)}, { touchEveryMs: ${touchEveryMs} });
    const source = new PassThrough();
    source.write(Buffer.alloc(1000, 7));
    store.stage(source).catch(() => {});
    setInterval(async () => {
      const names = await readdir(${JSON.stringify(join(root, 'tmp'))}).catch(() => []);
      const mine = names.find((n) => n.includes('-' + process.pid + '-'));
      if (mine) process.stdout.write('staging ' + mine + '\\n');
    }, 50);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /staging (\S+)/.exec(out);
      if (m) resolve({ child, name: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`the uploader exited (${code}): ${out}`)));
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGKILL');
  });
}

describe('temporary files of the file store', () => {
  let root = '';
  const children: ChildProcess[] = [];
  const tmp = () => join(root, 'tmp');
  const names = async () => (await readdir(tmp()).catch(() => [] as string[])).sort();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'aslo-store-'));
  });
  after(async () => {
    for (const c of children) await killHard(c);
    await rm(root, { recursive: true, force: true });
  });

  it('keeps a file another live process is writing, even stalled past the age limit, and removes it once that process is killed', async () => {
    const store = new FileStore(root);
    const { child, name } = await stallingUploader(root, 100);
    children.push(child);
    // Its upload stalls: no byte for "two hours". The owner touches the file while it holds it.
    await utimes(join(tmp(), name), twoHoursAgo(), twoHoursAgo());
    await until('the owner to touch its file again', async () => Date.now() - (await stat(join(tmp(), name))).mtimeMs < TEMP_MAX_AGE_MS);
    assert.deepEqual(await store.sweepTemporary(), { removed: 0, bytes: 0 });
    assert.deepEqual(await names(), [name]);
    // kill -9: the file is a leftover at once (its owner is gone), whatever its age.
    await killHard(child);
    const r = await store.sweepTemporary();
    assert.equal(r.removed, 1);
    assert.equal(r.bytes, 1000);
    assert.deepEqual(await names(), []);
  });

  it('never removes a file this process is still writing, whatever its time', async () => {
    const store = new FileStore(root);
    const source = new PassThrough();
    source.write(Buffer.alloc(4096, 1));
    const staging = store.stage(source);
    const [name] = await until('the temporary file', async () => ((await names()).length === 1 ? names() : null));
    await utimes(join(tmp(), name!), twoHoursAgo(), twoHoursAgo());
    assert.equal((await store.sweepTemporary()).removed, 0);
    source.end(Buffer.alloc(4096, 2));
    const staged = await staging;
    assert.equal(staged.size, 8192);
    assert.equal((await store.sweepTemporary()).removed, 0, 'a staged file waits for its commit');
    await store.commit(staged);
    assert.ok(await store.has(staged.sha256));
    assert.deepEqual(await names(), []);
  });

  it('removes files nobody touched for longer than the limit, and only those', async () => {
    const store = new FileStore(root);
    await mkdir(tmp(), { recursive: true });
    // Names it cannot attribute to a process of this machine (another machine's, the old naming,
    // the catalog generator's): the age decides.
    const old = ['0123456789ab-4242-1700000000000-aa.part', '1700000000000-4242-0a0b0c.part', 'generate-4242-abc.part'];
    const fresh = ['0123456789ab-4243-1700000000001-bb.part', '1700000000001-4243-0d0e0f.part'];
    for (const n of [...old, ...fresh]) await writeFile(join(tmp(), n), 'x');
    for (const n of old) await utimes(join(tmp(), n), twoHoursAgo(), twoHoursAgo());
    const r = await store.sweepTemporary();
    assert.equal(r.removed, old.length);
    assert.deepEqual(await names(), fresh.sort());
    for (const n of fresh) await rm(join(tmp(), n));
  });

  it('a store without a tmp folder has nothing to sweep', async () => {
    const store = new FileStore(join(root, 'nothing-here'));
    assert.deepEqual(await store.sweepTemporary(), { removed: 0, bytes: 0 });
  });
});
