// Real mirrors for tests: loopback HTTP servers serving a folder (GET, HEAD, one byte range),
// each filled from the repo tree with real rsync, that can go down, come back and log requests.
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';

export interface TestMirror {
  root: string;
  port: number;
  url: string;
  requests: { method: string; path: string; range: string | null }[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Sends at most `bytesPerSecond` (so that a client opens several connections, like on a real network). */
function throttle(bytesPerSecond: number): Transform {
  const started = Date.now();
  let sent = 0;
  return new Transform({
    highWaterMark: 16 * 1024,
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      const due = started + (sent / bytesPerSecond) * 1000;
      const wait = due - Date.now();
      if (wait > 0) setTimeout(() => done(null, chunk), wait);
      else done(null, chunk);
    },
  });
}

export async function startMirror(root?: string, opts: { bytesPerSecond?: number; host?: string } = {}): Promise<TestMirror> {
  // Each mirror on its own loopback address (127.0.0.2, ...): clients limit connections per host.
  const host = opts.host ?? '127.0.0.1';
  const dir = root ?? (await mkdtemp(join(tmpdir(), 'aslo-mirror-')));
  const requests: TestMirror['requests'] = [];
  let server: http.Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = http.createServer((req, res) => {
        const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
        requests.push({ method: req.method ?? '', path, range: (req.headers.range as string) ?? null });
        const abs = normalize(join(dir, path));
        if (!abs.startsWith(dir)) return void res.writeHead(403).end();
        stat(abs).then(
          (st) => {
            if (!st.isFile()) return void res.writeHead(404).end();
            const m = /^bytes=(\d+)-(\d*)$/.exec((req.headers.range as string) ?? '');
            let start = 0;
            let end = st.size - 1;
            let status = 200;
            const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
            if (m) {
              start = Number(m[1]);
              end = m[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1;
              if (start > end) return void res.writeHead(416, { 'content-range': `bytes */${st.size}` }).end();
              status = 206;
              headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
            }
            headers['content-length'] = st.size === 0 ? 0 : end - start + 1;
            res.writeHead(status, headers);
            if (req.method === 'HEAD' || st.size === 0) return void res.end();
            const src = createReadStream(abs, { start, end, highWaterMark: 16 * 1024 });
            // Deleted between stat and open (a mirror losing files): the client sees a broken answer.
            src.on('error', () => res.destroy());
            if (opts.bytesPerSecond) src.pipe(throttle(opts.bytesPerSecond)).pipe(res);
            else src.pipe(res);
            res.on('close', () => src.destroy());
          },
          () => void res.writeHead(404).end(),
        );
      });
      s.once('error', reject);
      s.listen(port, host, () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  await listen();
  const m: TestMirror = {
    root: dir,
    port,
    url: `http://${host}:${port}`,
    requests,
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
    async start() {
      if (!server) await listen();
    },
  };
  return m;
}

/** `rsync -a --delete <repo>/ <mirror>/`, the way a mirror syncs (locally, between folders). */
export function rsync(from: string, to: string, opts: { checksum?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    // --checksum: for tests that damaged a mirror's copy within the same second (rsync's quick check compares whole seconds).
    const p = spawn('rsync', ['-a', '--delete', ...(opts.checksum ? ['--checksum'] : []), `${from}/`, `${to}/`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`rsync exited with ${code}: ${err}`))));
  });
}

export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Deterministic PRNG (mulberry32) for simulated clients. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
