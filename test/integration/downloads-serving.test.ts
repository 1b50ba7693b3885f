// The download role serving published files itself: GET and HEAD, one byte range (206/416),
// ETag/If-None-Match, Last-Modified/If-Modified-Since, the bundle Content-Type, hashes and
// metalink; files that are not public keep their access rules.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { createDownloadWorker } from '../../src/downloads/worker.js';
import type { FileRow } from '../../src/platform/db/schema.js';

describe('download role: serving files', () => {
  let t: TestApp;
  let dir: string;
  let pub: FileRow;
  let bytes: Buffer;
  let sandboxId: number;
  let sandboxName: string;
  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    const path = await buildActivity(dir, { bundleId: 'org.test.serve', name: 'Serve Me', version: '2', payload: randomBytes(400_000).toString('base64') });
    const r = await t.app.services.catalog.ingest.ingestPath(path, { status: 'public' });
    await createDownloadWorker(t.ctx).runner.drain();
    await t.app.downloads.index.refreshNow();
    pub = await t.ctx.db.selectFrom('files').selectAll().where('id', '=', r.fileId!).executeTakeFirstOrThrow();
    bytes = await readFile(t.ctx.files.pathOf(pub.storage_key));
    const s = await t.app.services.catalog.ingest.ingestPath(await buildActivity(dir, { bundleId: 'org.test.sandboxed', name: 'Sandboxed', version: '1' }), {});
    sandboxId = s.fileId!;
    sandboxName = (await t.ctx.db.selectFrom('files').select('file_name').where('id', '=', sandboxId).executeTakeFirstOrThrow()).file_name;
  });
  after(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const url = () => `/repo/${pub.repo_path}`;

  it('GET answers the exact bytes with the bundle type, validators and digests', async () => {
    for (const u of [url(), `/downloads/file/${pub.id}/${pub.file_name}`]) {
      const res = await t.app.inject({ method: 'GET', url: u });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'application/vnd.olpc-sugar');
      assert.equal(res.headers['etag'], `"${pub.sha256}"`);
      assert.equal(res.headers['accept-ranges'], 'bytes');
      assert.equal(Number(res.headers['content-length']), bytes.length);
      assert.ok(res.headers['last-modified']);
      assert.equal(res.headers['repr-digest'], `sha-256=:${Buffer.from(pub.sha256, 'hex').toString('base64')}:`);
      assert.ok(res.rawPayload.equals(bytes));
    }
  });

  it('HEAD has the headers and no body; ranges give 206 or 416', async () => {
    const head = await t.app.inject({ method: 'HEAD', url: url() });
    assert.equal(head.statusCode, 200);
    assert.equal(Number(head.headers['content-length']), bytes.length);
    assert.equal(head.rawPayload.length, 0);
    const part = await t.app.inject({ method: 'GET', url: url(), headers: { range: 'bytes=100-299' } });
    assert.equal(part.statusCode, 206);
    assert.equal(part.headers['content-range'], `bytes 100-299/${bytes.length}`);
    assert.ok(part.rawPayload.equals(bytes.subarray(100, 300)));
    const tail = await t.app.inject({ method: 'GET', url: url(), headers: { range: 'bytes=-10' } });
    assert.ok(tail.rawPayload.equals(bytes.subarray(bytes.length - 10)));
    const bad = await t.app.inject({ method: 'GET', url: url(), headers: { range: `bytes=${bytes.length}-` } });
    assert.equal(bad.statusCode, 416);
    assert.equal(bad.headers['content-range'], `bytes */${bytes.length}`);
    // If-Range with another validator: the whole file.
    const stale = await t.app.inject({ method: 'GET', url: url(), headers: { range: 'bytes=0-9', 'if-range': '"other"' } });
    assert.equal(stale.statusCode, 200);
  });

  it('conditional requests answer 304', async () => {
    const a = await t.app.inject({ method: 'GET', url: url(), headers: { 'if-none-match': `"${pub.sha256}"` } });
    assert.equal(a.statusCode, 304);
    assert.equal(a.rawPayload.length, 0);
    const lm = (await t.app.inject({ method: 'HEAD', url: url() })).headers['last-modified'] as string;
    const b = await t.app.inject({ method: 'GET', url: url(), headers: { 'if-modified-since': lm } });
    assert.equal(b.statusCode, 304);
    const c = await t.app.inject({ method: 'GET', url: url(), headers: { 'if-modified-since': new Date(Date.parse(lm) - 10_000).toUTCString() } });
    assert.equal(c.statusCode, 200);
    const d = await t.app.inject({ method: 'GET', url: url(), headers: { 'if-none-match': '"nope"', 'if-modified-since': lm } });
    assert.equal(d.statusCode, 200);
  });

  it('serves sha256sum-format hashes and a valid Metalink with pieces', async () => {
    const s = await t.app.inject({ method: 'GET', url: `${url()}.sha256` });
    assert.equal(s.statusCode, 200);
    assert.equal(s.body, `${pub.sha256}  ${pub.file_name}\n`);
    assert.equal((await t.app.inject({ method: 'GET', url: `${url()}.md5` })).body, `${pub.md5}  ${pub.file_name}\n`);
    assert.equal((await t.app.inject({ method: 'GET', url: `${url()}.sha1` })).body, `${pub.sha1}  ${pub.file_name}\n`);
    const m = await t.app.inject({ method: 'GET', url: `${url()}.meta4` });
    assert.equal(m.statusCode, 200);
    assert.equal(m.headers['content-type'], 'application/metalink4+xml');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(m.body);
    assert.equal(doc.metalink['@xmlns'], 'urn:ietf:params:xml:ns:metalink');
    const f = doc.metalink.file;
    assert.equal(f['@name'], pub.file_name);
    assert.equal(Number(f.size), bytes.length);
    const hashes = Array.isArray(f.hash) ? f.hash : [f.hash];
    assert.ok(hashes.some((h: { '@type': string; '#text': string }) => h['@type'] === 'sha-256' && h['#text'] === pub.sha256));
    const pieces = [f.pieces.hash].flat();
    assert.equal(Number(f.pieces['@length']), 262144);
    assert.equal(pieces.length, Math.ceil(bytes.length / 262144));
    assert.equal(pieces[1], createHash('sha256').update(bytes.subarray(262144, 524288)).digest('hex'));
    assert.equal(f.url['#text'] ?? f.url, `http://store.test${url()}`);
    // Content negotiation on the file URL itself.
    const neg = await t.app.inject({ method: 'GET', url: url(), headers: { accept: 'application/metalink4+xml' } });
    assert.equal(neg.headers['content-type'], 'application/metalink4+xml');
  });

  it('keeps the access rules of files that are not public, and 404s unknown paths', async () => {
    const anon = await t.app.inject({ method: 'GET', url: `/downloads/file/${sandboxId}/${sandboxName}` });
    assert.equal(anon.statusCode, 401);
    assert.equal(anon.json().error.code, 'DOWNLOAD_LOGIN_REQUIRED');
    const missing = await t.app.inject({ method: 'GET', url: '/repo/999/nothing-1.xo' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'FILE_NOT_FOUND');
    const trace = await t.app.inject({ method: 'GET', url: '/repo/TRACE' });
    assert.equal(trace.statusCode, 200);
  });

  it('the real server answers from its fast path the same way', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as { port: number }).port;
    const res = await fetch(`http://127.0.0.1:${port}${url()}`, { headers: { range: 'bytes=0-99' } });
    assert.equal(res.status, 206);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(0, 100)));
    const head = await fetch(`http://127.0.0.1:${port}${url()}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), bytes.length);
  });
});
