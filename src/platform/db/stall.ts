// The embedded database runs on the main thread: PGlite executes each statement synchronously in
// WebAssembly. After a PANIC inside a commit it never returns (seen with PGlite 0.2: the commit
// spins), so the process can neither answer /healthz nor run src/platform/db/fatal.ts's shutdown.
// A watchdog thread sees the main thread stop ticking; after STALL_LIMIT_MS without a tick it
// writes one line to stderr and ends the process with SIGKILL (no JavaScript of the main thread
// can run any more): its supervisor starts a fresh one, and the data folder's lock (a socket) is
// gone with it. No statement of the embedded database legitimately runs for a whole minute.
import { Worker } from 'node:worker_threads';

export const STALL_LIMIT_MS = 60_000;

const WATCHDOG = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
let last = Date.now();
parentPort.on('message', () => { last = Date.now(); });
setInterval(() => {
  const stalled = Date.now() - last;
  if (stalled < workerData.limitMs) return;
  writeSync(2, JSON.stringify({ level: 60, time: new Date().toISOString(), pid: process.pid, msg: 'the main thread has not run for ' + Math.round(stalled / 1000) + ' s (' + workerData.what + '): ending the process so that its supervisor starts a new one' }) + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, Math.min(1000, workerData.limitMs / 4));
`;

/** Watch the main thread; returns stop(). */
export function startStallWatchdog(opts: { limitMs?: number; what: string }): () => void {
  const limitMs = opts.limitMs ?? STALL_LIMIT_MS;
  const worker = new Worker(WATCHDOG, { eval: true, workerData: { limitMs, what: opts.what } });
  worker.unref();
  const tick = setInterval(() => worker.postMessage(0), Math.min(1000, limitMs / 8));
  tick.unref();
  return () => {
    clearInterval(tick);
    void worker.terminate();
  };
}
