// The JSON index's build worker: holds a snapshot of the public catalog (sent by the main thread
// when the catalog changed) and builds, hashes, signs and compresses documents, so that none of
// that runs on the event loop that answers the updater. On Linux the thread lowers its own
// scheduling priority: when the CPU is short, the updater's requests come first and builds wait.
import { parentPort } from 'node:worker_threads';
import { setPriority } from 'node:os';
import type { KeyObject } from 'node:crypto';
import { compressSync, renderIndexBody, sealIndexBody, type IndexQuery, type IndexSnapshot, type SnapActivity } from './json-index.js';
import type { WorkerReply, WorkerRequest } from './index-builder.js';

/** Nice value of the build thread (0 normal, 19 lowest). */
const BUILD_NICE = 19;

if (process.platform === 'linux') {
  // On Linux the nice value belongs to the thread: this lowers the worker only.
  try {
    setPriority(0, BUILD_NICE);
  } catch {
    // not allowed here: builds run at normal priority
  }
}

let snapshot: IndexSnapshot | null = null;
let byId = new Map<string, SnapActivity>();
let key: KeyObject | null = null;

function reply(m: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(m, transfer);
}

/** A Buffer's bytes as an ArrayBuffer of their own (safe to transfer). */
function own(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer) return buf.buffer;
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return copy;
}

parentPort!.on('message', (m: WorkerRequest) => {
  if (m.type === 'snapshot') {
    snapshot = m.snapshot;
    byId = new Map(snapshot.activities.map((a) => [a.bundle_id, a]));
    key = m.key;
    return;
  }
  try {
    if (m.type === 'build') {
      if (!snapshot || !key) throw new Error('no snapshot yet');
      const body = renderIndexBody(snapshot, m.query as IndexQuery, byId);
      const seal = sealIndexBody(body, key);
      const ab = own(body);
      reply({ id: m.id, ok: true, body: ab, etag: seal.etag, signature: seal.signature }, [ab]);
    } else {
      const out = own(compressSync(Buffer.from(m.body), m.encoding));
      reply({ id: m.id, ok: true, body: out }, [out]);
    }
  } catch (err) {
    reply({ id: m.id, ok: false, message: (err as Error).message });
  }
});
