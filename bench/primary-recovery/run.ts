// How long writes stay refused after the PostgreSQL primary comes back: primary back (pg_ctl start
// has returned, the server accepts connections) → the first acknowledged upload (201), measured
// over N trials on the scaled set-up of the topology test (a primary and a streaming replica of the
// bench's own, Redis, `aslo serve --role web` processes), with an uploader sending one upload at
// a time all along, as the topology test does.
//
//   npm run bench -- primary-recovery                 20 trials, 1 web process
//   npm run bench -- primary-recovery --trials 5 --web 2 --down-ms 3000
//
// Prints a table (every trial) and the median and worst; docs/operations.md quotes them, and
// test/integration/topology-loopback.test.ts derives its wait for recovery from the worst.
// Needs the PostgreSQL server binaries and redis-server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { canRunCluster, startReplicatedCluster } from '../../test/helpers/pg-cluster.js';
import { buildActivity } from '../../test/helpers/activities.js';
import { newApiToken, sha256Hex } from '../../src/accounts/secrets.js';
import { freePort, startAsloServe, type Server } from '../lib/processes.js';
import { log, machineLine, loadAverage, plainTable, ROOT } from '../lib/report.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const TRIALS = option('trials', 20);
const WEB = option('web', 1);
/** How long the primary stays down (after the web processes report read-only mode). */
const DOWN_MS = option('down-ms', 2000);
/** Pause between two uploads (the topology test's uploader pauses 150 ms). */
const PAUSE_MS = option('pause-ms', 150);
/** Give up on a trial after this long without an acknowledged upload. */
const GIVE_UP_MS = option('give-up-ms', 120_000);
/** Keep the web processes' logs in this folder (default: removed with everything else). */
const LOGS = process.argv.includes('--logs') ? process.argv[process.argv.indexOf('--logs') + 1]! : null;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'aslo-bench-recovery-'));
  const cleanups: (() => Promise<unknown>)[] = [async () => rm(root, { recursive: true, force: true })];
  try {
    log('starting a PostgreSQL primary and a streaming replica');
    const cluster = await startReplicatedCluster();
    cleanups.push(() => cluster.destroy());
    const redisPort = await freePort();
    const redis: ChildProcess = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    cleanups.push(async () => redis.kill('SIGKILL'));
    for (
      let i = 0;
      i < 100 &&
      spawnSync('redis-cli', ['-p', String(redisPort), 'ping'])
        .stdout?.toString()
        .trim() !== 'PONG';
      i++
    )
      await sleep(100);

    const env: Record<string, string> = {
      ASLO_DATA_DIR: join(root, 'data'),
      ASLO_INSTANCE: 'recovery',
      ASLO_DATABASE_URL: cluster.primary.url,
      ASLO_DATABASE_REPLICAS: cluster.replica.url,
      ASLO_DATABASE_MAX_REPLICA_LAG_SECONDS: '10',
      ASLO_CACHE_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      ASLO_SERVER_LOG_LEVEL: 'warn',
      ASLO_SAMPLE_LOAD_ON_START: 'false',
      ASLO_RATE_LIMITS_UPLOAD_PER_ADDRESS: '1000000',
      ASLO_RATE_LIMITS_UPLOAD_PER_ACCOUNT: '1000000',
    };
    const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'aslo.mjs'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    for (const args of [['migrate'], ['user', 'create', '--email', 'bench@example.org', '--name', 'Bench']]) {
      const r = cli(args);
      if (r.status !== 0) throw new Error(`aslo ${args.join(' ')}: ${r.stderr.toString()}`);
    }
    const token = newApiToken();
    {
      const c = new pg.Client({ connectionString: cluster.primary.url });
      await c.connect();
      await c.query(
        `insert into api_tokens (user_id, name, token_hash, token_prefix, scopes, created_at, expires_at)
         select id, 'bench', $1, $2, array['publish'], now(), now() + interval '1 day' from users where email = 'bench@example.org'`,
        [sha256Hex(token), token.slice(0, 9)],
      );
      await c.end();
    }

    const webs: Server[] = [];
    for (let i = 0; i < WEB; i++) {
      const s = await startAsloServe(env, ['--role', 'web']);
      const out = createWriteStream(join(LOGS ?? root, `web${i + 1}.log`));
      s.child.stdout!.pipe(out);
      s.child.stderr!.pipe(out);
      webs.push(s);
      cleanups.push(() => s.stop());
    }

    // Bundles: one per acknowledged upload (a refused one is sent again).
    const bdir = join(root, 'bundles');
    let version = 0;
    const nextBundle = async () =>
      readFile(await buildActivity(bdir, { bundleId: 'org.bench.Recovery', name: 'Recovery', version: String(++version), payload: `v${version}` }));
    let bundle = await nextBundle();
    let turn = 0;
    const upload = async (): Promise<{ status: number; code: string }> => {
      const base = webs[turn++ % webs.length]!.url;
      try {
        const r = await fetch(`${base}/api/v1/uploads`, {
          method: 'POST',
          body: bundle,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'x-file-name': `recovery-${version}.xo` },
          signal: AbortSignal.timeout(30_000),
        });
        const text = await r.text();
        if (r.status === 201) bundle = await nextBundle();
        let code = '';
        try {
          code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
        } catch {
          // not JSON
        }
        return { status: r.status, code };
      } catch (err) {
        return { status: 0, code: (err as Error).message };
      }
    };
    const readOnlyEverywhere = async () => {
      for (const w of webs) {
        const r = await fetch(`${w.url}/readyz`)
          .then((x) => x.json() as Promise<{ checks: { database: { mode?: string } } }>)
          .catch(() => null);
        if (r?.checks.database.mode !== 'read-only') return false;
      }
      return true;
    };

    // The uploader: one upload at a time, a pause between two, from now to the end.
    let running = true;
    let lastAck = 0;
    const failuresSince: { at: number; status: number; code: string }[] = [];
    const uploader = (async () => {
      while (running) {
        const r = await upload();
        if (r.status === 201) lastAck = Date.now();
        else failuresSince.push({ at: Date.now(), ...r });
        await sleep(PAUSE_MS);
      }
    })();

    const results: { trial: number; ms: number | null; refused: number; codes: string }[] = [];
    try {
      for (let trial = 1; trial <= TRIALS; trial++) {
        // Writes work before each trial.
        const ready = Date.now();
        while (lastAck < ready && Date.now() - ready < GIVE_UP_MS) await sleep(20);
        if (lastAck < ready) throw new Error(`trial ${trial}: writes do not work before the primary is stopped`);
        await cluster.primary.stop();
        const downAt = Date.now();
        while (!(await readOnlyEverywhere()) && Date.now() - downAt < 60_000) await sleep(50);
        await sleep(DOWN_MS);
        await cluster.primary.start();
        const backAt = Date.now();
        failuresSince.length = 0;
        while (lastAck < backAt && Date.now() - backAt < GIVE_UP_MS) await sleep(5);
        const ms = lastAck >= backAt ? lastAck - backAt : null;
        const refused = failuresSince.filter((f) => f.at >= backAt);
        const codes = [...new Set(refused.map((f) => `${f.status} ${f.code}`))].join(', ');
        results.push({ trial, ms, refused: refused.length, codes });
        log(`trial ${trial}: ${ms === null ? `no acknowledged write within ${GIVE_UP_MS} ms` : `${ms} ms`} (${refused.length} refused: ${codes || '-'})`);
      }
    } finally {
      running = false;
      await uploader;
    }

    const times = results
      .map((r) => r.ms)
      .filter((x): x is number => x !== null)
      .sort((a, b) => a - b);
    const median = times.length ? (times.length % 2 ? times[(times.length - 1) / 2]! : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2) : NaN;
    const worst = times.length ? times[times.length - 1]! : NaN;
    const failed = results.filter((r) => r.ms === null).length;
    console.log(
      `\nPrimary back → first acknowledged upload, ${TRIALS} trials, ${WEB} web process(es), primary down ${DOWN_MS} ms after read-only mode, uploads every ${PAUSE_MS} ms.`,
    );
    console.log(`${machineLine()}; load average ${loadAverage()}.\n`);
    console.log(
      plainTable(
        ['trial', 'recovery ms', 'refused after back', 'answers'],
        results.map((r) => [r.trial, r.ms ?? `none in ${GIVE_UP_MS}`, r.refused, r.codes || '-']),
      ),
    );
    console.log(`\nmedian ${median} ms, worst ${worst} ms${failed ? `, ${failed} trial(s) never recovered` : ''}`);
    if (failed) process.exitCode = 1;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}

if (!canRunCluster() || spawnSync('redis-server', ['--version']).status !== 0) {
  log('primary-recovery: skipped (needs the PostgreSQL server binaries and redis-server)');
} else {
  await main();
}
