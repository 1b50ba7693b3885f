// The redirect fast path (src/downloads/redirect.ts) against the general decision (rankMirrors,
// used by the mirror list and the metalinks): for clients all over the address space, on HTTP
// and HTTPS, with every kind of mirror (restricted to a country, a continent or an AS, a
// network prefix shorter and longer than a /24, HTTPS only, HTTP down, weight 0, a size limit,
// disabled), the same mirror and the same alternatives in the same order. And the index follows
// changes by notification alone (no periodic re-reading): in this process, and on PostgreSQL in
// another process's index.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, TEST_DATABASE, type TestApp } from '../helpers/env.js';
import { prng } from '../helpers/mirrors.js';
import { MirrorRegistry, type MirrorInput } from '../../src/mirrors/registry.js';
import { DownloadIndex } from '../../src/downloads/file-index.js';
import { downloadsChanged } from '../../src/downloads/events.js';
import { onFileStatusChanged } from '../../src/downloads/repo.js';
import { createContext, type AppContext } from '../../src/platform/context.js';
import { parseIp, v4Text } from '../../src/geo/ip.js';
import { continentOf } from '../../src/geo/continents.js';

const FILES = 120;

describe('the redirect fast path', () => {
  let t: TestApp;
  let reg: MirrorRegistry;
  const ids: Record<string, number> = {};
  let files: { id: number; repoPath: string }[] = [];

  before(async () => {
    // No periodic look at the database: what the index knows comes from notifications.
    t = await createTestApp({
      env: { ASLO_DOWNLOADS_ORIGIN_THRESHOLD_BYTES: '0', ASLO_DOWNLOADS_COUNT_FLUSH_SECONDS: '0', ASLO_DOWNLOADS_INDEX_REFRESH_SECONDS: '0' },
    });
    await t.app.downloads.geo.load();
    reg = new MirrorRegistry(t.ctx);
    const db = t.ctx.db;
    await sql`insert into activities (bundle_id, kind, status) select 'org.test.fast' || i, 'activity', 'public' from generate_series(1, ${FILES / 4}) i`.execute(
      db,
    );
    await sql`insert into versions (activity_id, version, version_normalized, sort_key, runtime, metadata)
      select a.id, v::text, v::text, lpad(v::text, 8, '0'), 'python3', '{}'::jsonb from activities a, generate_series(1, 4) v`.execute(db);
    await sql`insert into files (version_id, sha256, size, storage_key, file_name, status, piece_length, piece_hashes, repo_path, published_at)
      select v.id, encode(sha256(('f' || v.id)::bytea), 'hex'), 1048576, encode(sha256(('f' || v.id)::bytea), 'hex'), 'fast ' || v.activity_id || '-' || v.version || '.xo', 'public', 262144,
        sha256(('p' || v.id)::bytea), v.activity_id || '/fast ' || v.activity_id || '-' || v.version || '.xo', now()
      from versions v`.execute(db);
    const base = { continent: null, asn: null, latitude: null, longitude: null } satisfies MirrorInput;
    // Every location field given: nothing is looked up (no name resolution).
    const add = async (name: string, input: MirrorInput) =>
      (ids[name] = (await reg.add({ ...base, continent: continentOf((input.country as string | undefined) ?? null), name, ...input })).id);
    await add('us', { httpUrl: 'http://us.example/s', country: 'US', weight: 100 });
    await add('de', { httpUrl: 'http://de.example/s', httpsUrl: 'https://de.example/s', country: 'DE', weight: 200 });
    await add('gb-https', { httpsUrl: 'https://gb.example/s', country: 'GB', weight: 50 });
    await add('fr-http-down', { httpUrl: 'http://fr.example/s', httpsUrl: 'https://fr.example/s', country: 'FR', weight: 120 });
    await add('br-only', { httpUrl: 'http://br.example/s', country: 'BR', countryOnly: true, weight: 100 });
    await add('jp-continent', { httpUrl: 'http://jp.example/s', country: 'JP', continentOnly: true, weight: 80 });
    await add('google-as', { httpUrl: 'http://as.example/s', asn: 15169, asOnly: true, weight: 100 });
    await add('net24', { httpUrl: 'http://n24.example/s', prefixes: ['81.2.69.0/24'], weight: 10 });
    await add('net28', { httpUrl: 'http://n28.example/s', prefixes: ['8.8.8.0/28', '2001:db8:1::/56'], weight: 10 });
    await add('zero', { httpUrl: 'http://zero.example/s', weight: 0 });
    await add('small', { httpUrl: 'http://small.example/s', maxFileSize: 1000 });
    await add('off', { httpUrl: 'http://off.example/s', enabled: false });
    await add('au', { httpUrl: 'http://au.example/s', httpsUrl: 'https://au.example/s', country: 'AU', weight: 300 });
    await db.updateTable('mirrors').set({ http_ok: false, http_error: 'HTTP 500' }).where('id', '=', ids['fr-http-down']!).execute();
    // About 70 % coverage, every pair decided by a fixed seed.
    const rand = prng(5);
    const all = await db.selectFrom('files').select(['id', 'repo_path']).orderBy('id').execute();
    files = all.map((f) => ({ id: f.id, repoPath: f.repo_path! }));
    const rows = [];
    for (const f of all)
      for (const id of Object.values(ids))
        if (rand() < 0.7) rows.push({ mirror_id: id, file_id: f.id, state: 'verified' as const, verified_at: new Date(), updated_at: new Date() });
    await db.deleteFrom('mirror_files').execute();
    await db.insertInto('mirror_files').values(rows).execute();
    await t.app.downloads.index.refreshNow(true);
  });
  after(async () => {
    await t.cleanup();
  });

  const linksOf = (h: string | string[] | undefined) => ([] as string[]).concat(h ?? []).flatMap((v) => v.split(/,\s*(?=<)/));

  it('sends every client where the general decision does, with the same alternatives', async () => {
    const rand = prng(99);
    const clients = [
      '8.8.8.1',
      '8.8.8.100',
      '8.8.4.4',
      '8.34.208.5',
      '8.35.192.7',
      '35.190.0.9',
      '34.64.0.3',
      '81.2.69.5',
      '81.2.69.200',
      '200.147.67.142',
      '133.242.0.3',
      '2001:db8:1::1',
      '2001:db8:2::1',
      '2a03:2880:f003::1',
    ];
    // One address per /24 (a network's location is looked up once, for the first address seen).
    const seen = new Set<number>();
    while (clients.length < 400) {
      const n = Math.floor(rand() * 0xdeffffff) + 0x01000000;
      if (seen.has(n >>> 8)) continue;
      seen.add(n >>> 8);
      clients.push(v4Text(n >>> 0));
    }
    const svc = t.app.downloads;
    const before = svc.redirector.redirects;
    // aslo_download_redirects_total{mirror}: per mirror host, what /metrics shows.
    const redirectMetrics = async () => {
      const per = new Map<string, number>();
      for (const m of (await t.ctx.metrics.text()).matchAll(/^aslo_download_redirects_total\{[^}]*mirror="([^"]+)"[^}]*\} (\d+)/gm))
        per.set(m[1]!, (per.get(m[1]!) ?? 0) + Number(m[2]));
      return per;
    };
    const metricsBefore = await redirectMetrics();
    let redirects = 0;
    let origin = 0;
    const used = new Set<string>();
    for (const [n, client] of clients.entries()) {
      for (const scheme of ['http', 'https'] as const) {
        const f = files[(n * 7 + (scheme === 'https' ? 3 : 0)) % files.length]!;
        const file = svc.index.byId.get(f.id)!;
        const want = svc.decide(file, parseIp(client), scheme, { limit: 5 });
        const res = await t.app.inject({
          method: 'GET',
          url: `/repo/${f.repoPath.split('/').map(encodeURIComponent).join('/')}`,
          headers: { 'x-forwarded-for': client, 'x-forwarded-proto': scheme },
        });
        if (want.kind === 'redirect') {
          redirects++;
          assert.equal(res.statusCode, 302, `${client} ${scheme} file ${f.id}`);
          assert.equal(res.headers.location, want.ranked[0]!.url, `${client} ${scheme} file ${f.id}`);
          const dup = linksOf(res.headers.link as string | string[]).filter((l) => l.includes('rel=duplicate'));
          assert.deepEqual(
            dup.map((l) => /^<([^>]+)>/.exec(l)![1]),
            want.ranked.map((r) => r.url),
            `${client} ${scheme}`,
          );
          assert.deepEqual(
            dup.map((l) => /pri=(\d+)/.exec(l)![1]),
            want.ranked.map((_, i) => String(i + 1)),
          );
          used.add(want.ranked[0]!.mirror.name);
        } else {
          origin++;
          assert.notEqual(res.statusCode, 302, `${client} ${scheme}: ${want.reason}`);
        }
      }
    }
    // The fast path answered the redirects itself, and every kind of mirror was met.
    assert.equal(svc.redirector.redirects - before, redirects);
    assert.ok(redirects > 700, `${redirects} redirects, ${origin} from the origin`);
    for (const name of ['us', 'de', 'gb-https', 'au', 'google-as', 'net24', 'net28', 'jp-continent', 'fr-http-down'])
      assert.ok(used.has(name), `${name} never chosen: ${[...used].join(', ')}`);
    for (const name of ['zero', 'small', 'off']) assert.ok(!used.has(name), `${name} chosen`);
    // Every redirect is counted once under its mirror's host (handed to the metrics once a second).
    let delta = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const now = await redirectMetrics();
      delta = new Map([...now].map(([k, v]) => [k, v - (metricsBefore.get(k) ?? 0)] as [string, number]).filter(([, v]) => v > 0));
      if ([...delta.values()].reduce((a, b) => a + b, 0) >= redirects) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(
      [...delta.values()].reduce((a, b) => a + b, 0),
      redirects,
      'redirects in /metrics',
    );
    assert.ok(delta.size >= used.size, `one series per mirror host: ${[...delta.keys()].join(', ')}`);
  });

  it('lets the origin answer when no mirror may serve the client', async () => {
    // A file only the Brazil-only mirror holds: a Brazilian client goes there, others get the origin.
    const f = files.at(-1)!;
    await t.ctx.db.deleteFrom('mirror_files').where('file_id', '=', f.id).execute();
    await t.ctx.db
      .insertInto('mirror_files')
      .values({ mirror_id: ids['br-only']!, file_id: f.id, state: 'verified', verified_at: new Date(), updated_at: new Date() })
      .execute();
    await downloadsChanged(t.ctx, { files: [f.id] });
    await t.app.downloads.index.idle();
    const url = `/repo/${f.repoPath.split('/').map(encodeURIComponent).join('/')}`;
    const br = await t.app.inject({ method: 'GET', url, headers: { 'x-forwarded-for': '200.147.67.142' } });
    assert.equal(br.statusCode, 302);
    assert.ok(String(br.headers.location).startsWith('http://br.example/s/'));
    const before = t.app.downloads.redirector.redirects;
    const us = await t.app.inject({ method: 'GET', url, headers: { 'x-forwarded-for': '8.8.4.4' } });
    assert.notEqual(us.statusCode, 302);
    assert.equal(t.app.downloads.redirector.redirects, before);
    assert.equal(t.app.downloads.decide(t.app.downloads.index.byId.get(f.id)!, parseIp('8.8.4.4'), 'http').kind, 'origin');
  });

  it('follows changes by notification alone, here and in another process', async () => {
    // Another process's index: a second context on PostgreSQL (NOTIFY), the same one on PGlite
    // (one process owns that database: the in-process events).
    let other: AppContext | null = null;
    if (TEST_DATABASE === 'postgres') other = await createContext(t.config);
    const ctx = other ?? t.ctx;
    const remote = new DownloadIndex(ctx);
    await remote.start();
    const here = t.app.downloads.index;
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) {
        await here.idle();
        await remote.idle();
        if (!ok()) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(ok(), what);
    };
    try {
      const patches = [here.patches, remote.patches];
      // A mirror disabled, then edited to a new base URL (its evidence goes).
      await reg.setEnabled(ids.us!, false);
      await until('disabled everywhere', () => here.mirrors.get(ids.us!)?.enabled === false && remote.mirrors.get(ids.us!)?.enabled === false);
      const onDe = () => files.filter((f) => remote.verified.get(f.id)?.has(ids.de!)).length;
      assert.ok(onDe() > 0);
      await reg.edit(ids.de!, { httpUrl: 'http://new-de.example/s' });
      await until('evidence of the moved mirror dropped', () => onDe() === 0 && files.every((f) => !here.verified.get(f.id)?.has(ids.de!)));
      assert.ok(files.every((f) => !(here.byId.get(f.id)?.plan?.http ?? []).some((u) => u?.startsWith('http://de.example'))));
      // Verified again (as the verifier records it): the file's plan holds the new URL.
      const f0 = files[0]!;
      await t.ctx.db
        .updateTable('mirror_files')
        .set({ state: 'verified', verified_at: new Date() })
        .where('mirror_id', '=', ids.de!)
        .where('file_id', '=', f0.id)
        .execute();
      await downloadsChanged(t.ctx, { files: [f0.id] });
      await until(
        'verified again',
        () =>
          Boolean(remote.verified.get(f0.id)?.has(ids.de!)) && Boolean(here.byId.get(f0.id)?.plan?.http.some((u) => u?.startsWith('http://new-de.example/s/'))),
      );
      // A file withdrawn: out of every index at once, before the publish job runs.
      const f1 = files[1]!;
      await t.ctx.db.updateTable('files').set({ status: 'disabled', status_changed_at: new Date() }).where('id', '=', f1.id).execute();
      await onFileStatusChanged(t.ctx, f1.id);
      await until('withdrawn file gone', () => !here.byId.has(f1.id) && !remote.byId.has(f1.id));
      const res = await t.app.inject({
        method: 'GET',
        url: `/repo/${f1.repoPath.split('/').map(encodeURIComponent).join('/')}`,
        headers: { 'x-forwarded-for': '8.8.4.4' },
      });
      assert.notEqual(res.statusCode, 302);
      // A health change.
      await t.ctx.db.updateTable('mirrors').set({ http_ok: false, http_error: 'timed out' }).where('id', '=', ids.au!).execute();
      await downloadsChanged(t.ctx, { mirrors: [ids.au!] });
      await until('health seen', () => here.mirrors.get(ids.au!)?.httpOk === false && remote.mirrors.get(ids.au!)?.httpOk === false);
      // A removed mirror.
      await reg.remove(ids['jp-continent']!);
      await until(
        'removed everywhere',
        () => !remote.mirrors.has(ids['jp-continent']!) && files.every((f) => !remote.verified.get(f.id)?.has(ids['jp-continent']!)),
      );
      assert.ok(here.patches > patches[0]! && remote.patches > patches[1]!, 'applied as patches');
      assert.ok(here.healthy && remote.healthy);
    } finally {
      remote.close();
      await other?.close();
    }
  });
});
