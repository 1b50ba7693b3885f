// The JSON index of all public activities for one Sugar version, for school servers and modern
// clients: names and summaries in every locale, versions with their Sugar ranges, runtime, size,
// sha256 and download URL. Served with an ETag, precompressed (gzip, brotli) and signed: the
// detached Ed25519 signature of the exact bytes is at index.json.sig (and in the
// X-Aslo-Signature header). Diffs: ?since=<next_since of a previous answer> lists only the
// activities that changed, and the ids to drop. docs/updates.md is the reference for clients.
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, brotliCompressSync, gzip, gzipSync, constants as zc } from 'node:zlib';
import type { IxActivity, IxVersion, UpdateIndex } from './update-index.js';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export const INDEX_FORMAT = 1;
/**
 * How long after its recorded time a change is surely visible in every process (commit and
 * propagation, 2 s required, plus slack for clocks). A cursor never runs ahead of "now - this".
 */
export const CHANGE_SETTLE_MS = 10_000;

/**
 * The cursor an answer hands out: every change recorded at or before it is in this answer (or in
 * the ones before it), every later one will be in the next diff. It is the latest change the
 * index knows when that change has settled, so a quiet catalog gives the same cursor, bytes and
 * ETag in every process and a re-poll gets an empty diff; while a change is settling it is the
 * settle horizon (whole seconds), so a change still on its way to this process is not skipped.
 * `dbNowMs` is the database clock's "now" (the clock that stamps changes).
 */
export function nextSinceOf(last: Date | null, since: Date | null, dbNowMs: number): Date {
  const horizon = Math.floor((dbNowMs - CHANGE_SETTLE_MS) / 1000) * 1000;
  let cursor = last && last.getTime() <= horizon ? last.getTime() : horizon;
  if (last === null) cursor = Math.max(0, horizon);
  // Never go back before what the client already had.
  if (since && since.getTime() > cursor) cursor = since.getTime();
  return new Date(cursor);
}

export interface SigningKeys {
  privateKey: KeyObject;
  publicKeyPem: string;
  /** sha256 of the DER public key, hex: what an operator compares out of band. */
  fingerprint: string;
}

export function signingKeysFrom(privatePem: string): SigningKeys {
  const privateKey = createPrivateKey(privatePem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`the signing key is a ${privateKey.asymmetricKeyType} key; the JSON index needs an Ed25519 key`);
  }
  const pub = createPublicKey(privateKey);
  const publicKeyPem = pub.export({ type: 'spki', format: 'pem' }).toString();
  const der = pub.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKeyPem, fingerprint: createHash('sha256').update(der).digest('hex') };
}

export interface IndexDocument {
  body: Buffer;
  etag: string;
  /** base64 Ed25519 signature of body. */
  signature: string;
  encoded(encoding: 'gzip' | 'br'): Promise<Buffer>;
}

export type Compressor = (body: Buffer, encoding: 'gzip' | 'br') => Promise<Buffer>;

/** Compression on zlib's thread pool (the fallback when no build worker runs). */
export const zlibCompressor: Compressor = (body, encoding) =>
  encoding === 'gzip'
    ? gzipAsync(body, { level: 9 })
    : brotliAsync(body, {
        params: { [zc.BROTLI_PARAM_QUALITY]: 9, [zc.BROTLI_PARAM_MODE]: zc.BROTLI_MODE_TEXT, [zc.BROTLI_PARAM_SIZE_HINT]: body.length },
      });

/** The same, synchronously (inside a build worker, which is off the event loop already). */
export function compressSync(body: Buffer, encoding: 'gzip' | 'br'): Buffer {
  return encoding === 'gzip'
    ? gzipSync(body, { level: 9 })
    : brotliCompressSync(body, {
        params: { [zc.BROTLI_PARAM_QUALITY]: 9, [zc.BROTLI_PARAM_MODE]: zc.BROTLI_MODE_TEXT, [zc.BROTLI_PARAM_SIZE_HINT]: body.length },
      });
}

export class Doc implements IndexDocument {
  private gz: Promise<Buffer> | null = null;
  private br: Promise<Buffer> | null = null;
  constructor(
    readonly body: Buffer,
    readonly etag: string,
    readonly signature: string,
    private readonly compress: Compressor = zlibCompressor,
  ) {}

  encoded(encoding: 'gzip' | 'br'): Promise<Buffer> {
    // Compressed once per document, off the event loop; a failure (the build workers are busy) is
    // not remembered, the next request tries again.
    const start = () => {
      const p = this.compress(this.body, encoding);
      p.catch(() => {
        if (encoding === 'gzip' && this.gz === p) this.gz = null;
        if (encoding === 'br' && this.br === p) this.br = null;
      });
      return p;
    };
    if (encoding === 'gzip') return (this.gz ??= start());
    return (this.br ??= start());
  }
}

interface TextMaps {
  name: Record<string, string>;
  summary: Record<string, string>;
}

function texts(a: IxActivity): TextMaps {
  // A developer's text beats the bundle's, per locale.
  const name: Record<string, string> = {};
  const summary: Record<string, string> = {};
  const rank = (o: string) => (o === 'developer' ? 2 : 1);
  const nameRank: Record<string, number> = {};
  const sumRank: Record<string, number> = {};
  for (const t of a.texts) {
    if (t.name && (nameRank[t.locale] ?? 0) < rank(t.origin)) {
      name[t.locale] = t.name;
      nameRank[t.locale] = rank(t.origin);
    }
    if (t.summary && (sumRank[t.locale] ?? 0) < rank(t.origin)) {
      summary[t.locale] = t.summary;
      sumRank[t.locale] = rank(t.origin);
    }
  }
  const sorted = (o: Record<string, string>) =>
    Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]!]),
    );
  if (!name.und && Object.keys(name).length === 0) name.und = a.bundleId;
  return { name: sorted(name), summary: sorted(summary) };
}

// ---- snapshots: what a build needs, as plain data (it crosses to a worker thread) ----

export interface SnapVersion {
  version: string;
  sugar_min: string | null;
  sugar_max: string | null;
  runtime: string;
  size: number;
  sha256: string;
  url: string;
  created_at: string;
  minKey: string | null;
  maxKey: string | null;
}

export interface SnapActivity {
  bundle_id: string;
  kind: string;
  name: Record<string, string>;
  summary: Record<string, string>;
  /** Public versions, newest first. */
  versions: SnapVersion[];
}

export interface SnapChange {
  bundleId: string;
  /** ms since the epoch. */
  at: number;
  publicSeen: boolean;
}

export interface IndexSnapshot {
  baseUrl: string;
  /** Sorted by bundle id. */
  activities: SnapActivity[];
  changes: SnapChange[];
  /** ms of the latest change, or null. */
  lastChangeAt: number | null;
}

export interface IndexQuery {
  /** The release series asked for (null: every version). */
  sugar: string | null;
  sugarKey: string | null;
  /** The normalized cursor (a change point, or 0 before every change); null for the whole index. */
  since: number | null;
  nextSince: number;
}

const byBundle = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** The snapshot of an index (main thread; cheap next to the build it feeds). */
export function snapshotOf(index: UpdateIndex, baseUrl: string, downloadUrl: (v: IxVersion, a: IxActivity) => string): IndexSnapshot {
  const activities: SnapActivity[] = [];
  for (const a of index.activities()) {
    if (a.pub.length === 0) continue;
    const t = texts(a);
    activities.push({
      bundle_id: a.bundleId,
      kind: a.kind,
      name: t.name,
      summary: t.summary,
      versions: a.pub.map((v) => ({
        version: v.version,
        sugar_min: v.sugarMin,
        sugar_max: v.sugarMax,
        runtime: v.runtime,
        size: v.size,
        sha256: v.sha256,
        url: downloadUrl(v, a),
        created_at: v.createdAt,
        minKey: v.minKey,
        maxKey: v.maxKey,
      })),
    });
  }
  activities.sort((x, y) => byBundle(x.bundle_id, y.bundle_id));
  const changes = [...index.changeLog()].map((c) => ({ bundleId: c.bundleId, at: c.changedAt.getTime(), publicSeen: c.publicSeen }));
  const last = index.lastChangeAt();
  return { baseUrl, activities, changes, lastChangeAt: last ? last.getTime() : null };
}

function entryJson(a: SnapActivity, sugarKey: string | null): string | null {
  const versions =
    sugarKey === null ? a.versions : a.versions.filter((v) => (v.minKey === null || v.minKey <= sugarKey) && (v.maxKey === null || sugarKey <= v.maxKey));
  if (versions.length === 0) return null;
  return JSON.stringify({
    bundle_id: a.bundle_id,
    kind: a.kind,
    name: a.name,
    summary: a.summary,
    versions: versions.map((v) => ({
      version: v.version,
      sugar_min: v.sugar_min,
      sugar_max: v.sugar_max,
      runtime: v.runtime,
      size: v.size,
      sha256: v.sha256,
      url: v.url,
      created_at: v.created_at,
    })),
  });
}

/**
 * The bytes of the document for a Sugar release (null: every public version) and, with `since`,
 * the diff since that cursor. Deterministic: the same catalog gives the same bytes in every
 * process, so ETags and signatures agree behind a load balancer.
 */
export function renderIndexBody(snap: IndexSnapshot, q: IndexQuery, byId?: Map<string, SnapActivity>): Buffer {
  const parts: string[] = [];
  const removed: string[] = [];
  if (q.since !== null) {
    const from = q.since;
    const ids = byId ?? new Map(snap.activities.map((a) => [a.bundle_id, a]));
    const changed = snap.changes.filter((c) => c.at > from).sort((x, y) => byBundle(x.bundleId, y.bundleId));
    for (const c of changed) {
      const a = ids.get(c.bundleId);
      const e = a ? entryJson(a, q.sugarKey) : null;
      if (e) parts.push(e);
      // Never name an activity that was only ever in the sandbox.
      else if (c.publicSeen) removed.push(c.bundleId);
    }
  } else {
    for (const a of snap.activities) {
      const e = entryJson(a, q.sugarKey);
      if (e) parts.push(e);
    }
  }
  // The same key order as ever: format, store, sugar, updated_at, since, next_since, activities[, removed].
  const head = JSON.stringify({
    format: INDEX_FORMAT,
    store: snap.baseUrl,
    sugar: q.sugar,
    updated_at: snap.lastChangeAt === null ? null : new Date(snap.lastChangeAt).toISOString(),
    since: q.since === null ? null : new Date(q.since).toISOString(),
    // Ask with this next time to get only what changed after this answer.
    next_since: new Date(q.nextSince).toISOString(),
  });
  const tail = q.since !== null ? `,"removed":${JSON.stringify(removed)}}` : '}';
  return Buffer.from(`${head.slice(0, -1)},"activities":[${parts.join(',')}]${tail}`, 'utf8');
}

/** The ETag and signature of a body. */
export function sealIndexBody(body: Buffer, privateKey: KeyObject): { etag: string; signature: string } {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
  const signature = sign(null, body, privateKey).toString('base64');
  return { etag, signature };
}
