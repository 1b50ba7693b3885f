// The JSON index of all public activities for one Sugar version, for school servers and modern
// clients: names and summaries in every locale, versions with their Sugar ranges, runtime, size,
// sha256 and download URL. Served with an ETag, precompressed (gzip, brotli) and signed: the
// detached Ed25519 signature of the exact bytes is at index.json.sig (and in the
// X-Aslo-Signature header). Diffs: ?since=<next_since of a previous answer> lists only the
// activities that changed, and the ids to drop. docs/updates.md is the reference for clients.
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zc } from 'node:zlib';
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

class Doc implements IndexDocument {
  private gz: Promise<Buffer> | null = null;
  private br: Promise<Buffer> | null = null;
  constructor(
    readonly body: Buffer,
    readonly etag: string,
    readonly signature: string,
  ) {}

  encoded(encoding: 'gzip' | 'br'): Promise<Buffer> {
    // Compressed once per document, off the event loop (zlib's thread pool).
    if (encoding === 'gzip') return (this.gz ??= gzipAsync(this.body, { level: 9 }));
    return (this.br ??= brotliAsync(this.body, {
      params: { [zc.BROTLI_PARAM_QUALITY]: 9, [zc.BROTLI_PARAM_MODE]: zc.BROTLI_MODE_TEXT, [zc.BROTLI_PARAM_SIZE_HINT]: this.body.length },
    }));
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
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
  if (!name.und && Object.keys(name).length === 0) name.und = a.bundleId;
  return { name: sorted(name), summary: sorted(summary) };
}

export interface IndexOptions {
  baseUrl: string;
  downloadUrl(v: IxVersion, bundleId: string): string;
  keys: SigningKeys;
}

export function compatibleVersions(index: UpdateIndex, a: IxActivity, sugarKey: string | null): IxVersion[] {
  if (sugarKey === null) return a.pub;
  return a.pub.filter((v) => (v.minKey === null || v.minKey <= sugarKey) && (v.maxKey === null || sugarKey <= v.maxKey));
}

function entry(index: UpdateIndex, a: IxActivity, sugarKey: string | null, opts: IndexOptions): Record<string, unknown> | null {
  const versions = compatibleVersions(index, a, sugarKey);
  if (versions.length === 0) return null;
  const t = texts(a);
  return {
    bundle_id: a.bundleId,
    kind: a.kind,
    name: t.name,
    summary: t.summary,
    versions: versions.map((v) => ({
      version: v.version,
      sugar_min: v.sugarMin,
      sugar_max: v.sugarMax,
      runtime: v.runtime,
      size: v.size,
      sha256: v.sha256,
      url: opts.downloadUrl(v, a.bundleId),
      created_at: v.createdAt,
    })),
  };
}

/**
 * Build the document for a Sugar version (null: every public version) and, with `since`, the diff
 * since that time. Deterministic: the same catalog gives the same bytes in every process, so ETags
 * and signatures agree behind a load balancer.
 */
export function buildIndexDocument(
  index: UpdateIndex,
  query: { sugar: string | null; sugarKey: string | null; since: Date | null; nextSince: Date },
  opts: IndexOptions,
): IndexDocument {
  const last = index.lastChangeAt();
  const activities: Record<string, unknown>[] = [];
  const removed: string[] = [];
  if (query.since) {
    const from = query.since.getTime();
    const changed = [...index.changeLog()]
      .filter((c) => c.changedAt.getTime() > from)
      .sort((x, y) => (x.bundleId < y.bundleId ? -1 : x.bundleId > y.bundleId ? 1 : 0));
    for (const c of changed) {
      const a = index.activity(c.bundleId);
      const e = a ? entry(index, a, query.sugarKey, opts) : null;
      if (e) activities.push(e);
      // Never name an activity that was only ever in the sandbox.
      else if (c.publicSeen) removed.push(c.bundleId);
    }
  } else {
    const all = [...index.activities()].sort((x, y) => (x.bundleId < y.bundleId ? -1 : x.bundleId > y.bundleId ? 1 : 0));
    for (const a of all) {
      const e = entry(index, a, query.sugarKey, opts);
      if (e) activities.push(e);
    }
  }
  const doc: Record<string, unknown> = {
    format: INDEX_FORMAT,
    store: opts.baseUrl,
    sugar: query.sugar,
    updated_at: last ? last.toISOString() : null,
    since: query.since ? query.since.toISOString() : null,
    // Ask with this next time to get only what changed after this answer.
    next_since: query.nextSince.toISOString(),
    activities,
  };
  if (query.since) doc.removed = removed;
  const body = Buffer.from(JSON.stringify(doc), 'utf8');
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
  const signature = sign(null, body, opts.keys.privateKey).toString('base64');
  return new Doc(body, etag, signature);
}
