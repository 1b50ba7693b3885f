// bench/redirector/churn.ts: the correctness figures of the redirector, with everything on its
// real schedule (health round every mirrors.healthIntervalSeconds, verification sweep, backoff)
// and real mirrors: loopback HTTP servers (127.0.0.2, ...) filled with plain `rsync -a --delete`
// from the repo tree every --sync-seconds, each at its own moment, like a mirror's cron job.
//
// (a) Mirror churn while clients download: one mirror loses files and stops syncing for a
//     while, one gets corrupted copies (same size, other bytes) and stops syncing, one goes down
//     and comes back. Every redirect is checked at once against what that mirror serves: the
//     client's GET of the Location, its bytes hashed and compared with the Repr-Digest of the
//     redirect. Counted: redirects to a missing file, to wrong bytes, to a mirror that does not
//     answer; each with the churn event it followed and how long after it.
// (b) Time from publish to the first redirect to a mirror: new versions published while the
//     load runs (through the ingest service, as an upload would), each asked for twice a second
//     until the first 302.
//
//   node --import tsx bench/redirector/churn.ts [--files 40] [--mirrors 4] [--duration 600] [--sync-seconds 60]
//        [--publish-every 30] [--database-url postgres://...] [--no-doc]
//
// Needs rsync and PostgreSQL (the store runs as `aslo serve` in a process of its own while this
// process publishes and registers mirrors). Writes the bench:redirector-churn section of
// docs/benchmarks.md.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/platform/config.js';
import { createContext } from '../../src/platform/context.js';
import { CatalogService } from '../../src/catalog/service.js';
import { MirrorRegistry } from '../../src/mirrors/registry.js';
import { buildActivity } from '../../test/helpers/activities.js';
import { rsync, startMirror, type TestMirror } from '../../test/helpers/mirrors.js';
import { startCliServer } from '../../test/helpers/cli.js';
import { loadAverage, plainTable, shortMachineLine, today, writeSection } from '../lib/report.js';
import { clientAddresses, createDatabase, prng } from './lib.js';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '40' },
    mirrors: { type: 'string', default: '4' },
    duration: { type: 'string', default: '600' },
    'sync-seconds': { type: 'string', default: '60' },
    'publish-every': { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '4' },
    'database-url': { type: 'string', default: process.env.ASLO_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    'no-doc': { type: 'boolean', default: false },
  },
});
const DURATION = Number(args.duration) * 1000;
const SYNC_MS = Number(args['sync-seconds']) * 1000;
const log = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Published {
  fileId: number;
  repoPath: string;
  sha256: string;
  publishedAt: number;
  firstRedirect: number | null;
}

interface Churn {
  at: number;
  mirror: number;
  kind: 'lost files' | 'corrupted files' | 'down' | 'back up';
  detail: string;
  files: Set<string>;
}

type Outcome = 'ok' | 'missing' | 'wrong bytes' | 'unreachable';

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'aslo-bench-churn-'));
  const bundles = join(dir, 'bundles');
  const db = await createDatabase(args['database-url'], 'aslo_churn');
  const mirrors: TestMirror[] = [];
  const env = { ASLO_DATA_DIR: dir, ASLO_INSTANCE: 'churn', ASLO_DATABASE_URL: db.url, ASLO_SAMPLE_LOAD_ON_START: 'false', ASLO_SERVER_LOG_LEVEL: 'warn' };
  const config = loadConfig({ dataDir: dir, instance: 'churn', env, writeDefaults: true });
  const ctx = await createContext(config, { migrate: true, generateSecrets: true });
  const catalog = new CatalogService(ctx);
  const reg = new MirrorRegistry(ctx);
  let server: Awaited<ReturnType<typeof startCliServer>> | null = null;
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;
  try {
    await mkdir(bundles, { recursive: true });
    // The store, with its job worker on the real schedule (config defaults).
    server = await startCliServer(['--host', '127.0.0.1', '--port', '0'], env);
    const base = server.url.replace('localhost', '127.0.0.1');
    log(
      `store at ${base}; mirrors sync every ${args['sync-seconds']} s; health every ${config.mirrors.healthIntervalSeconds} s; verification backoff ${config.mirrors.verifyBackoffSeconds.join(', ')} s`,
    );
    for (let i = 0; i < Number(args.mirrors); i++) {
      const m = await startMirror(undefined, { host: `127.0.0.${i + 2}` });
      mirrors.push(m);
      await reg.add(
        { name: `m${i + 1}`, httpUrl: m.url, weight: 100, country: null, continent: null, asn: null, latitude: null, longitude: null },
        { actor: null, label: 'bench' },
      );
    }
    const published: Published[] = [];
    let seq = 0;
    const publish = async (): Promise<Published> => {
      const n = ++seq;
      const path = await buildActivity(bundles, {
        bundleId: `org.bench.churn.a${n}`,
        name: `Churn ${n}`,
        version: '1',
        payload: randomBytes(12_000).toString('base64'),
      });
      const publishedAt = Date.now();
      const r = await catalog.ingest.ingestPath(path, { status: 'public' });
      if (!r.fileId) throw new Error(`ingest: ${JSON.stringify(r)}`);
      // The store's worker puts it into the repo tree: wait for its path.
      let row: { repo_path: string | null; sha256: string } | undefined;
      for (let i = 0; i < 600; i++) {
        row = await ctx.db.selectFrom('files').select(['repo_path', 'sha256']).where('id', '=', r.fileId).executeTakeFirst();
        if (row?.repo_path) break;
        await sleep(100);
      }
      const p: Published = { fileId: r.fileId, repoPath: row!.repo_path!, sha256: row!.sha256, publishedAt, firstRedirect: null };
      published.push(p);
      return p;
    };
    // Mirror syncs, each on its own clock; a mirror can pause its syncing (a broken mirror).
    const pausedUntil = new Array<number>(mirrors.length).fill(0);
    const syncing = new Array<Promise<void>>(mirrors.length).fill(Promise.resolve());
    const sync = (i: number) => {
      if (stopping || Date.now() < pausedUntil[i]!) return;
      syncing[i] = rsync(config.storage.repoDir, mirrors[i]!.root).catch((e: Error) => void log(`rsync m${i + 1}: ${e.message}`));
    };
    mirrors.forEach((_, i) => {
      setTimeout(
        () => {
          sync(i);
          timers.push(setInterval(() => sync(i), SYNC_MS));
        },
        (SYNC_MS * i) / mirrors.length,
      );
    });

    // The catalog: every file published, then verified on every mirror (on the real schedule).
    log(`publishing ${args.files} files...`);
    for (let i = 0; i < Number(args.files); i++) await publish();
    const startWait = Date.now();
    for (;;) {
      const n = await ctx.db
        .selectFrom('mirror_files')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', '=', 'verified')
        .executeTakeFirstOrThrow();
      if (Number(n.n) >= published.length * mirrors.length) break;
      if (Date.now() - startWait > 15 * 60_000) throw new Error('files were not verified on every mirror within 15 minutes');
      await sleep(2000);
    }
    log(`every file verified on every mirror after ${((Date.now() - startWait) / 1000).toFixed(0)} s`);
    for (const p of published) p.firstRedirect = -1; // the initial catalog: not part of (b)

    // --- the load, with every redirect checked -------------------------------------------------
    const ips = clientAddresses(5_000, 3);
    const rand = prng(11);
    const outcomes: { at: number; mirror: number; outcome: Outcome; path: string }[] = [];
    let origin = 0;
    let requests = 0;
    const t0 = Date.now();
    const mirrorOf = (loc: string) => mirrors.findIndex((m) => loc.startsWith(`${m.url}/`));
    const client = async () => {
      while (!stopping) {
        const list = published.filter((p) => p.firstRedirect !== null);
        const f = list[Math.floor(rand() * list.length)]!;
        const url = `${base}/repo/${f.repoPath.split('/').map(encodeURIComponent).join('/')}`;
        requests++;
        let res: Response;
        try {
          res = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-for': ips[Math.floor(rand() * ips.length)]! } });
        } catch {
          await sleep(50);
          continue;
        }
        if (res.status !== 302) {
          await res.arrayBuffer().catch(() => {});
          if (res.status === 200) origin++;
          continue;
        }
        const loc = res.headers.get('location')!;
        const digest = /sha-256=:([^:]+):/.exec(res.headers.get('repr-digest') ?? '')?.[1];
        const mirror = mirrorOf(loc);
        const at = Date.now();
        let outcome: Outcome;
        try {
          const got = await fetch(loc);
          if (got.status !== 200) {
            await got.arrayBuffer().catch(() => {});
            outcome = 'missing';
          } else {
            const body = Buffer.from(await got.arrayBuffer());
            outcome = createHash('sha256').update(body).digest('base64') === digest ? 'ok' : 'wrong bytes';
          }
        } catch {
          outcome = 'unreachable';
        }
        outcomes.push({ at, mirror, outcome, path: f.repoPath });
      }
    };
    // (b) publications during the load, each watched until its first redirect.
    const watchers: Promise<void>[] = [];
    const watch = (p: Published) =>
      (async () => {
        const url = `${base}/repo/${p.repoPath.split('/').map(encodeURIComponent).join('/')}`;
        while (!stopping && p.firstRedirect === null) {
          const r = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-for': '8.8.8.8' } }).catch(() => null);
          await r?.arrayBuffer().catch(() => {});
          if (r?.status === 302) p.firstRedirect = Date.now();
          else await sleep(500);
        }
      })();
    timers.push(
      setInterval(() => {
        if (stopping || Date.now() - t0 > DURATION - 120_000) return;
        void publish().then((p) => watchers.push(watch(p)));
      }, Number(args['publish-every']) * 1000),
    );

    // --- churn ---------------------------------------------------------------------------------
    const churn: Churn[] = [];
    const at = (s: number, fn: () => Promise<void>) => timers.push(setTimeout(() => void fn().catch((e) => log(`churn: ${(e as Error).message}`)), s * 1000));
    const some = (frac: number) => {
      const r = prng(churn.length + 1);
      const from = published.filter((p) => p.firstRedirect === -1);
      const picked = from.filter(() => r() < frac);
      return picked.length ? picked : from.slice(0, 1);
    };
    if (mirrors.length >= 3) {
      at(60, async () => {
        // m1 loses a fifth of its files and stops syncing for 4 minutes.
        pausedUntil[0] = Date.now() + 240_000;
        await syncing[0];
        const lost = some(0.2);
        for (const p of lost) await rm(join(mirrors[0]!.root, p.repoPath), { force: true });
        churn.push({
          at: Date.now(),
          mirror: 0,
          kind: 'lost files',
          detail: `${lost.length} of ${published.length} files deleted, no sync for 4 min`,
          files: new Set(lost.map((p) => p.repoPath)),
        });
        log(`m1 lost ${lost.length} files`);
      });
      at(150, async () => {
        // m2 gets corrupted copies (same size) of a tenth of its files and stops syncing for 4 minutes.
        pausedUntil[1] = Date.now() + 240_000;
        await syncing[1];
        const bad = some(0.1);
        for (const p of bad) {
          const path = join(mirrors[1]!.root, p.repoPath);
          const size = (await stat(path)).size;
          const fh = await open(path, 'r+');
          await fh.write(Buffer.from('corrupted!'), 0, 10, Math.floor(size / 2));
          await fh.close();
        }
        churn.push({
          at: Date.now(),
          mirror: 1,
          kind: 'corrupted files',
          detail: `${bad.length} files with other bytes (same size), no sync for 4 min`,
          files: new Set(bad.map((p) => p.repoPath)),
        });
        log(`m2 has ${bad.length} corrupted files`);
      });
      at(240, async () => {
        await mirrors[2]!.stop();
        churn.push({ at: Date.now(), mirror: 2, kind: 'down', detail: 'stops answering', files: new Set() });
        log('m3 down');
      });
      at(360, async () => {
        await mirrors[2]!.start();
        churn.push({ at: Date.now(), mirror: 2, kind: 'back up', detail: 'answers again', files: new Set() });
        log('m3 back');
      });
    }
    log(`load for ${args.duration} s with churn...`);
    const clients = Array.from({ length: Number(args.concurrency) }, () => client());
    await sleep(DURATION);
    stopping = true;
    await Promise.all(clients);
    await Promise.all(watchers);

    // --- report --------------------------------------------------------------------------------
    const total = outcomes.length;
    const bad = outcomes.filter((o) => o.outcome !== 'ok');
    const byKind = (k: Outcome) => bad.filter((o) => o.outcome === k).length;
    const eventRows = churn.map((c) => {
      const next = churn.filter((x) => x.mirror === c.mirror && x.at > c.at).map((x) => x.at)[0] ?? Infinity;
      const after = bad.filter((o) => o.mirror === c.mirror && o.at >= c.at && o.at < next && c.kind !== 'back up');
      const toMirror = outcomes.filter((o) => o.mirror === c.mirror && o.at >= c.at && o.at < next).length;
      const last = after.length ? ((Math.max(...after.map((o) => o.at)) - c.at) / 1000).toFixed(0) : '-';
      return [`m${c.mirror + 1}: ${c.kind}`, c.detail, toMirror, after.length, last];
    });
    const newFiles = published.filter((p) => p.firstRedirect !== -1);
    const times = newFiles
      .filter((p) => p.firstRedirect)
      .map((p) => (p.firstRedirect! - p.publishedAt) / 1000)
      .sort((a, b) => a - b);
    const q = (f: number) => (times.length ? times[Math.min(times.length - 1, Math.floor(f * times.length))]!.toFixed(0) : '-');
    const md = [
      `The store as \`aslo serve\` on PostgreSQL with its job worker on the default schedule (health round every ${config.mirrors.healthIntervalSeconds} s sampling ${config.mirrors.healthSampleFiles} verified files per mirror, a piece read every ${config.mirrors.spotCheckEvery} rounds, verification sweep every ${config.mirrors.verifySweepSeconds} s, backoff ${config.mirrors.verifyBackoffSeconds.join('/')} s); ${mirrors.length} loopback mirrors filled with \`rsync -a --delete\` from the repo tree every ${args['sync-seconds']} s each (staggered); ${args.files} published files of about 16 KB, then one more every ${args['publish-every']} s; ${args.concurrency} clients downloading for ${args.duration} s from 5,000 addresses, each redirect followed at once and the bytes hashed against its Repr-Digest. Bench: \`node --import tsx bench/redirector/churn.ts\`.`,
      '',
      `Machine: ${shortMachineLine()}; load average at the end ${loadAverage()}. Run ${today()}.`,
      '',
      '**(a) Redirects that would have hit a missing or wrong file under mirror churn**',
      '',
      plainTable(
        ['redirects checked', 'right bytes', 'missing file', 'wrong bytes', 'mirror not answering', 'served by the origin'],
        [[total, total - bad.length, byKind('missing'), byKind('wrong bytes'), byKind('unreachable'), origin]],
      ),
      '',
      plainTable(['event', 'what', 'redirects to that mirror until its next event', 'of them bad', 'last bad one, s after the event'], eventRows),
      '',
      `**(b) Publish to first redirect to a mirror** (${newFiles.length} files published during the run, ${times.length} redirected before it ended): median ${q(0.5)} s, 90th percentile ${q(0.9)} s, longest ${times.length ? times.at(-1)!.toFixed(0) : '-'} s.`,
    ].join('\n');
    process.stdout.write(`\n${md}\n`);
    if (!args['no-doc']) writeSection('redirector-churn', '### Correctness under mirror churn', md);
  } finally {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    await server?.stop();
    for (const m of mirrors) await m.stop();
    await ctx.close();
    await db.drop().catch(() => {});
    for (const m of mirrors) await rm(m.root, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
