// Static assets of the web store (src/web/assets/): read once at start, served under
// fingerprinted names (/assets/style.3f9a1c2b7e.css) with a year of immutable caching, so a
// laptop on a metered link downloads each version once. Gzip and Brotli copies are made at
// start; the smallest one the client accepts is sent.
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { textParams, type TypedApp } from '../platform/schemas.js';

export const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface Asset {
  name: string;
  /** The fingerprinted URL path. */
  url: string;
  type: string;
  body: Buffer;
  gzip: Buffer | null;
  br: Buffer | null;
  etag: string;
}

let registry: Map<string, Asset> | null = null;

function loadAssets(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const name of readdirSync(ASSETS_DIR).sort()) {
    const ext = extname(name);
    const type = TYPES[ext];
    if (!type) continue;
    const body = readFileSync(join(ASSETS_DIR, name));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
    const compressible = ext !== '.png';
    const gzip = compressible ? gzipSync(body, { level: 9 }) : null;
    const br = compressible ? brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }) : null;
    out.set(name, {
      name,
      url: `/assets/${name.slice(0, -ext.length)}.${hash}${ext}`,
      type,
      body,
      gzip: gzip && gzip.length < body.length ? gzip : null,
      br: br && br.length < body.length ? br : null,
      etag: `"${hash}"`,
    });
  }
  return out;
}

export function assets(): Map<string, Asset> {
  registry ??= loadAssets();
  return registry;
}

/** The fingerprinted URL of an asset by its file name ('style.css'). */
export function assetUrl(name: string): string {
  const a = assets().get(name);
  if (!a) throw new Error(`no asset named ${name} in ${ASSETS_DIR}`);
  return a.url;
}

export function acceptedEncoding(req: FastifyRequest): 'br' | 'gzip' | null {
  const h = String(req.headers['accept-encoding'] ?? '');
  if (/\bbr\b/.test(h)) return 'br';
  if (/\bgzip\b/.test(h)) return 'gzip';
  return null;
}

function sendAsset(req: FastifyRequest, reply: FastifyReply, a: Asset, immutable: boolean): FastifyReply {
  void reply
    .header('content-type', a.type)
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=86400')
    .header('etag', a.etag)
    .header('vary', 'Accept-Encoding')
    .header('x-content-type-options', 'nosniff');
  if (a.type.startsWith('image/svg')) void reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
  if (req.headers['if-none-match'] === a.etag) return reply.status(304).send();
  const enc = acceptedEncoding(req);
  const body = enc === 'br' && a.br ? a.br : enc && a.gzip ? a.gzip : null;
  if (body) return reply.header('content-encoding', enc === 'br' && a.br ? 'br' : 'gzip').send(body);
  return reply.send(a.body);
}

export async function assetRoutes(app: TypedApp): Promise<void> {
  const byUrl = new Map([...assets().values()].map((a) => [a.url, a]));
  app.get('/assets/:file', { schema: { hide: true, params: textParams('file') } }, async (req, reply) => {
    const a = byUrl.get(req.url.split('?')[0]!);
    if (a) return sendAsset(req, reply, a, true);
    // An old fingerprint (a page cached before a deploy): serve the current file, briefly cached.
    const { file } = req.params;
    const m = /^([\w-]+)\.[0-9a-f]{10}(\.\w+)$/.exec(file);
    const current = m ? assets().get(m[1]! + m[2]!) : undefined;
    if (current) return sendAsset(req, reply, current, false);
    return reply.callNotFound();
  });
  app.get('/favicon.ico', { schema: { hide: true } }, async (req, reply) => sendAsset(req, reply, assets().get('favicon.svg')!, false));
}
