// Anonymous clients that ask /services/index.json with a new `sugar` or `since` value on every
// request, each at a fixed rate, reading every answer whole. Run by bench/update-service --hostile
// in a process of its own (pinned to the load generator's core).
//   node hostile-clients.mjs URL SECONDS CLIENTS RATE
// Prints one JSON line of counts when done (or on SIGTERM).
import http from 'node:http';

const [url, seconds, clients, rate] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const base = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients * 32 });
const stats = { sent: 0, answered: 0, skipped: 0, errors: 0, bytes: 0, codes: {} };

// A fixed pseudo-random sequence, so every run sends the same requests.
let x = 88172645;
const rnd = () => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const releases = [];
for (let m = 82; m <= 122; m += 2) releases.push(`0.${m}`);
const now = Date.now();

function nextPath() {
  // sugar: a release, a development version, a point release, something unknown, or none.
  const s = rnd();
  const sugar =
    s < 0.3 ? pick(releases) : s < 0.5 ? `0.${81 + 2 * Math.floor(rnd() * 21)}` : s < 0.7 ? `${pick(releases)}.${Math.floor(rnd() * 1e6)}` : s < 0.8 ? `0.${200 + Math.floor(rnd() * 1e6)}` : null;
  // since: none, any moment of the last two years, or of the last ten minutes (where the
  // catalog's recent change points are), to the millisecond.
  const t = rnd();
  const since = t < 0.2 ? null : t < 0.6 ? now - Math.floor(rnd() * 2 * 365 * 86400_000) : now - Math.floor(rnd() * 600_000);
  const q = [sugar !== null ? `sugar=${sugar}` : null, since !== null ? `since=${encodeURIComponent(new Date(since).toISOString())}` : null].filter(Boolean).join('&');
  return `/services/index.json${q ? `?${q}` : ''}`;
}

function client() {
  let inFlight = 0;
  const timer = setInterval(() => {
    // A client keeps at most 32 requests open; beyond that a tick is skipped.
    if (inFlight >= 32) {
      stats.skipped++;
      return;
    }
    inFlight++;
    stats.sent++;
    const req = http.get({ host: base.hostname, port: base.port, path: nextPath(), agent, headers: { 'accept-encoding': 'identity' } }, (res) => {
      stats.codes[res.statusCode] = (stats.codes[res.statusCode] ?? 0) + 1;
      res.on('data', (d) => (stats.bytes += d.length));
      res.on('end', () => {
        inFlight--;
        stats.answered++;
      });
    });
    req.on('error', () => {
      inFlight--;
      stats.errors++;
    });
    req.setTimeout(30_000, () => req.destroy());
  }, 1000 / rate);
  return timer;
}

const timers = Array.from({ length: clients }, () => client());
const done = () => {
  for (const t of timers) clearInterval(t);
  process.stdout.write(JSON.stringify(stats) + '\n');
  process.exit(0);
};
setTimeout(done, seconds * 1000);
process.on('SIGTERM', done);
