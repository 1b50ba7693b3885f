// A PostgreSQL primary and a streaming replica of the test's own, made in a temporary folder on
// free loopback ports: initdb for the primary, pg_basebackup -R for the replica. PostgreSQL
// refuses to run as root, so as root every command runs as the postgres user (runuser).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, chownSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export function pgBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_basebackup')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : null;
}

export function canRunCluster(): boolean {
  const bin = pgBinDir();
  if (!bin) return false;
  if (process.getuid?.() === 0) return spawnSync('id', ['-u', 'postgres']).status === 0 && spawnSync('runuser', ['--help']).status === 0;
  return true;
}

export interface PgNode {
  name: string;
  dir: string;
  port: number;
  url: string;
  running: boolean;
  start(): Promise<void>;
  /** Fast shutdown (what an operator's systemctl stop does). */
  stop(): Promise<void>;
}

export interface ReplicatedCluster {
  root: string;
  primary: PgNode;
  replica: PgNode;
  /** Wait until the replica has replayed everything the primary has written. */
  waitReplicated(timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

async function as(user: string | null, cmd: string, args: string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string }> {
  if (user) return run('runuser', ['-u', user, '--', cmd, ...args], { timeout: timeoutMs });
  return run(cmd, args, { timeout: timeoutMs });
}

/** Make a primary (with a database `dbName`) and a streaming replica of it, both running. */
export async function startReplicatedCluster(opts: { dbName?: string } = {}): Promise<ReplicatedCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin)');
  const user = process.getuid?.() === 0 ? 'postgres' : null;
  const root = mkdtempSync(join(tmpdir(), 'aslo-pgcluster-'));
  if (user) {
    const id = spawnSync('id', ['-u', user]).stdout.toString().trim();
    const gid = spawnSync('id', ['-g', user]).stdout.toString().trim();
    chownSync(root, Number(id), Number(gid));
  }
  const dbName = opts.dbName ?? 'aslo';
  const nodes: PgNode[] = [];
  const mk = (name: string, port: number): PgNode => {
    const dir = join(root, name);
    const node: PgNode = {
      name,
      dir,
      port,
      url: `postgres://postgres@127.0.0.1:${port}/${dbName}`,
      running: false,
      async start() {
        await as(user, join(bin, 'pg_ctl'), ['-D', dir, '-l', join(root, `${name}.log`), '-w', '-t', '60', 'start'], 90_000);
        node.running = true;
      },
      async stop() {
        if (!node.running) return;
        await as(user, join(bin, 'pg_ctl'), ['-D', dir, '-m', 'fast', '-w', '-t', '60', 'stop'], 90_000).catch(async () => {
          await as(user, join(bin, 'pg_ctl'), ['-D', dir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
        });
        node.running = false;
      },
    };
    nodes.push(node);
    return node;
  };
  const settings = (port: number) =>
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${root}'`,
      // A throwaway cluster: speed over durability.
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 200',
      'shared_buffers = 64MB',
      'wal_level = replica',
      'max_wal_senders = 5',
      'hot_standby = on',
      'wal_receiver_status_interval = 1s',
      'hot_standby_feedback = on',
      '',
    ].join('\n');
  const destroy = async () => {
    for (const n of nodes) await n.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const primary = mk('primary', await freePort());
    await as(user, join(bin, 'initdb'), ['-D', primary.dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
    writeFileSync(join(primary.dir, 'postgresql.auto.conf'), settings(primary.port));
    await primary.start();
    const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${primary.port}/postgres` });
    await c.connect();
    await c.query(`create database ${dbName}`);
    await c.end();
    const replica = mk('replica', await freePort());
    await as(user, join(bin, 'pg_basebackup'), [
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '-D',
      replica.dir,
      '-R',
      '-X',
      'stream',
      '--no-sync',
    ]);
    // The copy carries the primary's settings; only the port differs (pg_basebackup -R wrote
    // primary_conninfo to postgresql.auto.conf: keep it).
    const auto = join(replica.dir, 'postgresql.auto.conf');
    const conninfo = spawnSync('cat', [auto])
      .stdout.toString()
      .split('\n')
      .filter((l) => l.startsWith('primary_conninfo'));
    writeFileSync(auto, settings(replica.port) + conninfo.join('\n') + '\n');
    await replica.start();
    const cluster: ReplicatedCluster = {
      root,
      primary,
      replica,
      async waitReplicated(timeoutMs = 30_000) {
        const p = new pg.Client({ connectionString: primary.url });
        const r = new pg.Client({ connectionString: replica.url });
        await p.connect();
        await r.connect();
        try {
          // The insert position, not pg_current_wal_lsn() (the write position): with synchronous_commit
          // off a commit just made may not be written yet, and waiting for the write position
          // returned before the replica had it (the topology test's token was then unknown there).
          const lsn = (await p.query<{ l: string }>('select pg_current_wal_insert_lsn()::text as l')).rows[0]!.l;
          const end = Date.now() + timeoutMs;
          while (Date.now() < end) {
            const ok = (await r.query<{ ok: boolean }>('select pg_last_wal_replay_lsn() >= $1::pg_lsn as ok', [lsn])).rows[0]!.ok;
            if (ok) return;
            await new Promise((res) => setTimeout(res, 50));
          }
          throw new Error('the replica did not catch up');
        } finally {
          await p.end().catch(() => {});
          await r.end().catch(() => {});
        }
      },
      destroy,
    };
    return cluster;
  } catch (err) {
    await destroy();
    throw err;
  }
}
