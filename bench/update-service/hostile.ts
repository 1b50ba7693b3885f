// bench/update-service --hostile: the update check (/services/update-aslo.php) while anonymous
// clients ask /services/index.json with a new `sugar` or `since` value on every request, against
// the same store without them, in the same run.
//
//   npm run bench -- update-service --hostile [--activities 600] [--versions 4] [--duration 15]
//       [--rounds 2] [--connections 64] [--clients 5] [--rate 15] [--compare-root DIR] [--keep DIR] [--no-doc]
//
// The store runs pinned (taskset) to CPU 0; wrk (the updater's load) and the hostile clients run
// pinned to CPU 1, so the store has one core and the load generators do not take it. Reported:
// the updater's requests/s and latency, and the store's CPU time (all its threads, from /proc) per
// 1,000 update checks answered. `--compare-root DIR` runs the same rounds against another checkout
// of aslo (for example the code before this change) in the same run, one store after the other.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareCatalog } from '../lib/catalog.js';
import { median, updaterRequestPaths } from '../lib/load.js';
import { cpuMs, LISTENING, stopper, waitForOutput, type Server } from '../lib/processes.js';
import { ROOT, loadAverage, log, runLine, table, writeSection } from '../lib/report.js';

const { values: args } = parseArgs({
  options: {
    hostile: { type: 'boolean', default: true },
    activities: { type: 'string', default: '600' },
    versions: { type: 'string', default: '4' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '2' },
    clients: { type: 'string', default: '5' },
    rate: { type: 'string', default: '15' },
    'compare-root': { type: 'string' },
    'compare-label': { type: 'string', default: 'before (main)' },
    keep: { type: 'string' },
    'no-doc': { type: 'boolean', default: false },
  },
});
const ACTIVITIES = Number(args.activities);
const VERSIONS = Number(args.versions);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const ROUNDS = Number(args.rounds);
const CLIENTS = Number(args.clients);
const RATE = Number(args.rate);
const SEED = 11;
const PIN = cpus().length >= 2;
const SERVER_CPU = '0';
const LOAD_CPU = '1';

function pinned(cpu: string, cmd: string[]): string[] {
  return PIN ? ['taskset', '-c', cpu, ...cmd] : cmd;
}

async function startStore(root: string, env: Record<string, string>): Promise<Server> {
  const [cmd, ...rest] = pinned(SERVER_CPU, [process.execPath, join(root, 'bin', 'aslo.mjs'), 'serve', '--port', '0', '--host', '127.0.0.1']);
  const child = spawn(cmd!, rest, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForOutput(child, LISTENING, 'aslo serve');
  return { url: m[1]!.replace('localhost', '127.0.0.1'), child, stop: stopper(child) };
}

interface Wrk {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  bad: number;
}

function ms(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

function runWrk(url: string, script: string, seconds: number): Promise<Wrk> {
  const [cmd, ...rest] = pinned(LOAD_CPU, ['wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, url]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (code !== 0 || !rps) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const lat = (p: string) => {
        const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
        return m ? ms(m[1]!, m[2]!) : NaN;
      };
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      resolve({
        rps: Number(rps[1]),
        p50: lat('50'),
        p99: lat('99'),
        total: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
        bad: non2xx + (errs ? errs.slice(1).reduce((a, x) => a + Number(x), 0) : 0),
      });
    });
  });
}

/**
 * The hostile clients: a second wrk (C, cheap on the load generator's CPU), one connection per
 * client, each waiting 1/RATE s before every request, every request with a new `sugar` and `since`.
 */
function hostileScript(now: number): string {
  return [
    `math.randomseed(${SEED})`,
    'local releases = {}',
    'for m = 82, 122, 2 do releases[#releases + 1] = "0." .. m end',
    `local now = ${Math.floor(now / 1000)}`,
    'local function iso(t, ms) return os.date("!%Y-%m-%dT%H:%M:%S", t) .. string.format(".%03dZ", ms) end',
    'request = function()',
    '  local q = {}',
    '  local s = math.random()',
    '  if s < 0.3 then q[#q + 1] = "sugar=" .. releases[math.random(#releases)]',
    '  elseif s < 0.5 then q[#q + 1] = "sugar=0." .. (81 + 2 * math.random(0, 20))',
    '  elseif s < 0.7 then q[#q + 1] = "sugar=" .. releases[math.random(#releases)] .. "." .. math.random(1, 999999)',
    '  elseif s < 0.8 then q[#q + 1] = "sugar=0." .. math.random(200, 999999) end',
    '  local t = math.random()',
    '  if t >= 0.2 then',
    '    local back = t < 0.6 and math.random(0, 2 * 365 * 86400) or math.random(0, 600)',
    '    q[#q + 1] = "since=" .. iso(now - back, math.random(0, 999))',
    '  end',
    '  local path = "/services/index.json"',
    '  if #q > 0 then path = path .. "?" .. table.concat(q, "&") end',
    '  return wrk.format("GET", path, { ["Accept-Encoding"] = "identity" })',
    'end',
    `delay = function() return ${Math.round(1000 / RATE)} end`,
    '',
  ].join('\n');
}

interface Hostile {
  requests: number;
  perSecond: number;
  non2xx: number;
}

function startHostile(url: string, script: string, seconds: number): Promise<Hostile> {
  const [cmd, ...rest] = pinned(LOAD_CPU, ['wrk', '-t1', `-c${CLIENTS}`, `-d${seconds}s`, '--timeout', '30s', '-s', script, url]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', () => {
      const n = /(\d+) requests in/.exec(out);
      if (!n) return reject(new Error(`hostile wrk failed:\n${out}`));
      resolve({
        requests: Number(n[1]),
        perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
        non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
      });
    });
  });
}

interface Row {
  store: string;
  hostile: boolean;
  wrk: Wrk;
  cpuPerK: number;
  hostileStats: Hostile | null;
}

async function measureStore(
  label: string,
  root: string,
  env: Record<string, string>,
  script: string,
  hostileLua: string,
): Promise<{ rows: Row[]; indexBytes: number; indexFirstMs: number }> {
  log(`${label}: starting the store (${root})...`);
  const store = await startStore(root, env);
  const pid = store.child.pid!;
  const rows: Row[] = [];
  let indexBytes = 0;
  let indexFirstMs = 0;
  try {
    log(`${label}: warming up (${WARMUP} s)...`);
    await runWrk(store.url, script, WARMUP);
    const t0 = Date.now();
    indexBytes = (await (await fetch(`${store.url}/services/index.json?sugar=0.118`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer()).byteLength;
    indexFirstMs = Date.now() - t0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const hostile of r % 2 === 0 ? [false, true] : [true, false]) {
        log(`${label}: round ${r + 1}/${ROUNDS}, ${hostile ? `with ${CLIENTS} hostile clients at ${RATE} req/s each` : 'updater alone'}, ${DURATION} s...`);
        // The hostile clients start a second before the measured load and stop a second after it.
        const h = hostile ? startHostile(store.url, hostileLua, DURATION + 2) : null;
        if (h) await new Promise((res) => setTimeout(res, 1000));
        const before = cpuMs(pid);
        const w = await runWrk(store.url, script, DURATION);
        const cpu = cpuMs(pid) - before;
        const hs = h ? await h : null;
        const cpuPerK = (cpu / Math.max(1, w.total)) * 1000;
        rows.push({ store: label, hostile, wrk: w, cpuPerK, hostileStats: hs });
        log(
          `  ${Math.round(w.rps)} req/s, p50 ${w.p50.toFixed(2)} ms, p99 ${w.p99.toFixed(1)} ms, ${cpuPerK.toFixed(1)} CPU ms per 1000 update checks${hs ? `; index.json ${hs.perSecond.toFixed(1)} req/s answered, ${hs.non2xx} of ${hs.requests} not 2xx` : ''}`,
        );
        // Let what the hostile clients started finish before the next round.
        await new Promise((res) => setTimeout(res, 2000));
      }
    }
  } finally {
    await store.stop();
  }
  return { rows, indexBytes, indexFirstMs };
}

async function main(): Promise<void> {
  const dir = args.keep ?? (await mkdtemp(join(tmpdir(), 'aslo-bench-hostile-')));
  const env: Record<string, string> = { ASLO_SAMPLE_LOAD_ON_START: 'false', ASLO_SERVER_LOG_LEVEL: 'warn', ASLO_SERVER_BASE_URL: 'http://bench.local' };
  try {
    log(`catalog: ${ACTIVITIES} activities x ${VERSIONS} versions (embedded PGlite) in ${dir}`);
    const ids = await prepareCatalog(dir, env, { activities: ACTIVITIES, versions: VERSIONS, seed: SEED, analyze: false });
    const script = join(dir, 'updater.lua');
    const pathsFile = join(dir, 'updater-paths.txt');
    await writeFile(pathsFile, updaterRequestPaths(ids).join('\n') + '\n');
    await writeFile(
      script,
      [
        'local paths = {}',
        `for line in io.lines(${JSON.stringify(pathsFile)}) do paths[#paths + 1] = line end`,
        'local i = 0',
        'request = function()',
        '  i = i + 1',
        '  if i > #paths then i = 1 end',
        '  return wrk.format("GET", paths[i])',
        'end',
        '',
      ].join('\n'),
    );
    const serveEnv = { ...env, ASLO_DATA_DIR: dir, ASLO_INSTANCE: 'bench' };
    const stores: [string, string][] = [];
    if (args['compare-root']) stores.push([args['compare-label']!, args['compare-root']]);
    stores.push(['this branch', ROOT]);
    const results: { label: string; rows: Row[]; indexBytes: number; indexFirstMs: number }[] = [];
    const hostileLua = join(dir, 'hostile.lua');
    await writeFile(hostileLua, hostileScript(Date.now()));
    for (const [label, root] of stores) results.push({ label, ...(await measureStore(label, root, serveEnv, script, hostileLua)) });

    const head = ['store', 'load', 'update checks/s', 'p50 ms', 'p99 ms', 'store CPU ms per 1k checks', 'index.json answered', 'ratio to updater alone'];
    const out: (string | number)[][] = [];
    const summary: string[] = [];
    for (const r of results) {
      const alone = r.rows.filter((x) => !x.hostile);
      const attacked = r.rows.filter((x) => x.hostile);
      const base = median(alone.map((x) => x.wrk.rps));
      for (const [name, set] of [
        ['updater alone', alone],
        [`+ ${CLIENTS} clients x ${RATE}/s new sugar/since`, attacked],
      ] as const) {
        const rps = median(set.map((x) => x.wrk.rps));
        const hs = set.map((x) => x.hostileStats).filter((x): x is Hostile => x !== null);
        const perSecond = hs.length
          ? `${median(hs.map((x) => x.perSecond)).toFixed(1)}/s (${hs.reduce((a, x) => a + x.non2xx, 0)} of ${hs.reduce((a, x) => a + x.requests, 0)} not 2xx)`
          : '';
        out.push([
          r.label,
          name,
          Math.round(rps),
          Math.max(...set.map((x) => x.wrk.p50)).toFixed(2),
          Math.max(...set.map((x) => x.wrk.p99)).toFixed(1),
          set.every((x) => x.wrk.total === 0) ? '-' : median(set.map((x) => x.cpuPerK)).toFixed(1),
          perSecond || '-',
          (rps / base).toFixed(2),
        ]);
      }
      const ratio = median(attacked.map((x) => x.wrk.rps)) / base;
      const perRound = attacked.map((x, k) => (x.wrk.rps / alone[k]!.wrk.rps).toFixed(2)).join(', ');
      // CPU the store spent per second beyond what its update checks cost alone: what the hostile
      // clients cost it (steadier than requests/s on a shared machine).
      const cpuAlone = median(alone.map((x) => x.cpuPerK));
      const extra = median(attacked.map((x) => ((x.cpuPerK - cpuAlone) * (x.wrk.total / DURATION)) / 1000));
      summary.push(
        `${r.label}: ${ratio.toFixed(2)} of its throughput alone (per round ${perRound}); the hostile clients cost the store ${Math.max(0, extra).toFixed(0)} ms of CPU per second beyond its update checks; ` +
          `index.json for sugar=0.118 is ${(r.indexBytes / 1e6).toFixed(2)} MB, first build answered in ${r.indexFirstMs} ms`,
      );
    }
    const t = table(head, out);
    console.log(`\n${t}\n`);
    for (const s of summary) console.log(s);
    const mine = results.at(-1)!;
    const ratio = median(mine.rows.filter((x) => x.hostile).map((x) => x.wrk.rps)) / median(mine.rows.filter((x) => !x.hostile).map((x) => x.wrk.rps));
    console.log(
      `goal: update checks with the hostile clients >= 0.80 of without -> ${ratio.toFixed(2)} ${ratio >= 0.8 ? 'met' : 'NOT met'}; load average ${loadAverage()}`,
    );

    if (!args['no-doc']) {
      const body = [
        runLine(),
        '',
        `Catalog: ${ACTIVITIES.toLocaleString('en')} activities x ${VERSIONS} versions from \`aslo dev generate\` on embedded PGlite. ` +
          `The updater's load: \`wrk -t1 -c${CONNECTIONS}\` over the same request mix as above (90% known bundle ids, appVersion 0.82-0.122), ${ROUNDS} rounds of ${DURATION} s per case, alternating, after a ${WARMUP} s warm-up (requests/s and CPU: median of the rounds; latencies: the worst round). ` +
          `The hostile load: ${CLIENTS} anonymous clients (a second wrk, one connection each, waiting ${Math.round(1000 / RATE)} ms before every request: up to ${RATE} requests/s each) asking \`/services/index.json\` with a new \`sugar\` value (releases, development and point versions, unknown ones) and a new \`since\` (any second of the last two years or of the last ten minutes, with milliseconds) on every request, without compression, reading each answer whole. ` +
          (PIN
            ? `The store is pinned to CPU ${SERVER_CPU} (\`taskset\`, all its threads, the index build worker included); wrk and the hostile clients are pinned to CPU ${LOAD_CPU}. `
            : 'One CPU: nothing pinned. ') +
          '"store CPU ms per 1k checks" is the CPU time of the whole store process (all threads, from /proc) per 1,000 update checks answered: with the hostile clients it includes the work their requests cost.',
        '',
        t,
        '',
        ...summary.map((s) => `- ${s}`),
        '',
        "On a shared machine requests/s follow whatever else runs there (the per-round ratios show the spread); the store's CPU per check, and the CPU the hostile clients cost it per second, do not. Each hostile client waits for its answer before the next request, so against a store that answers slowly they send fewer requests (compare the index.json column): the damage before the change is a lower bound of what clients that do not wait would do.",
        '',
        `Goal: update checks with the hostile clients at least 0.80 of without, same run: **${ratio.toFixed(2)}** (${ratio >= 0.8 ? 'met' : 'not met'}). Load average at the end ${loadAverage()}.`,
        '',
        'Reproduce: `npm run bench -- update-service --hostile` (needs `wrk` and `taskset`; options `--activities`, `--versions`, `--duration`, `--rounds`, `--clients`, `--rate`, `--compare-root DIR` to measure another checkout in the same run).',
      ].join('\n');
      writeSection('update-service-hostile', '## Updater under index.json abuse (bench/update-service --hostile)', body);
      log('wrote the update-service-hostile section of docs/benchmarks.md');
    }
  } finally {
    if (!args.keep) await rm(dir, { recursive: true, force: true });
  }
}

await main();
