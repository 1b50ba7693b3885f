// HTTP routes of the download role. Published files (public, in the repo tree) are answered by
// the DownloadService from memory (also before Fastify, src/downloads/fast-path.ts): redirects to
// verified mirrors, or the bytes from the origin, plus .meta4/.sha256/.sha1/.md5. Files that are
// not public keep their access rules (src/review/downloads.ts: experimental files for logged-in
// users who confirm, disabled ones for their authors and editors) and are always served by the
// origin. Every URL ends in the file name, so the last path segment ends in .xo/.xol as Sugar's
// updater requires.
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONFIRM_PARAM, CONFIRM_VALUE } from '../review/downloads.js';
import { contentTypeFor } from '../bundles/index.js';

import { notFound } from '../platform/errors.js';
import { hashLine, metalink, splitSuffix } from './representations.js';
import { sendFile } from './send.js';
import { METALINK_TYPE } from './service.js';
import { TRACE_FILE } from './repo.js';
import type { IndexedFile } from './file-index.js';
import { looseParam, RowId, Text, Type, type TypedApp, type TypedRequest } from '../platform/schemas.js';

/** Renders a published file's `.mirrorlist` page (the HTML lives with the other pages, in src/web). */
export type MirrorlistPage = (
  app: FastifyInstance,
  req: FastifyRequest & { query: { fromip?: unknown } },
  reply: FastifyReply,
  file: IndexedFile,
) => Promise<FastifyReply>;

export interface DownloadRoutesOptions {
  mirrorlistPage: MirrorlistPage;
}

/** What an administrator adds to a .mirrorlist address to see the list another client would get. */
const mirrorlistQuery = { fromip: looseParam('Administrators: the mirror list as this IPv4 or IPv6 address would get it') };
const fileSchema = {
  params: Type.Object({ id: RowId, name: Type.String({ description: 'File name, with .meta4, .sha256, .sha1, .md5 or .mirrorlist for those answers' }) }),
  querystring: Type.Object({
    [CONFIRM_PARAM]: looseParam(`"${CONFIRM_VALUE}": a logged-in user confirms downloading a file not yet reviewed`),
    ...mirrorlistQuery,
  }),
  hide: true,
};
const repoSchema = { params: Type.Object({ '*': Text }), querystring: Type.Object(mirrorlistQuery), hide: true };

export async function downloadRoutes(app: TypedApp, opts: DownloadRoutesOptions): Promise<void> {
  const svc = app.downloads;
  const { mirrorlistPage } = opts;

  const fileHandler = async (req: TypedRequest<typeof fileSchema>, reply: FastifyReply) => {
    const { id, name } = req.params;
    const path = req.url.split('?')[0]!;
    const { suffix } = splitSuffix(name);
    const target = svc.match(path);
    if (target) {
      if (suffix === '.mirrorlist') return mirrorlistPage(app, req, reply, target.file);
      reply.hijack();
      await svc.respond(req.raw, reply.raw, target);
      return;
    }
    // Not published: the access rules of experimental and disabled files; always the origin.
    const confirmed = req.query[CONFIRM_PARAM] === CONFIRM_VALUE;
    const file = await svc.unpublishedFile(id, () => req.viewer(), confirmed);
    const info = { sha256: file.sha256, sha1: file.sha1, md5: file.md5, fileName: file.file_name };
    const cacheControl = file.isPublic ? 'public, max-age=86400, immutable' : 'private, no-store';
    if (suffix === '.sha256' || suffix === '.sha1' || suffix === '.md5') {
      const line = hashLine(suffix, info);
      if (!line) throw notFound('HASH_UNKNOWN', `No ${suffix.slice(1)} hash is known for this file.`);
      return reply.header('cache-control', cacheControl).type('text/plain; charset=utf-8').send(line);
    }
    if (suffix === '.mirrorlist') throw notFound('MIRRORLIST_NOT_PUBLISHED', 'This file is not on the mirrors: only published files have a mirror list.');
    const selfUrl = `${app.ctx.config.downloads.baseUrl}/downloads/file/${file.id}/${encodeURIComponent(file.file_name)}`;
    if (suffix === '.meta4') {
      const body = metalink(
        {
          fileName: file.file_name,
          size: Number(file.size),
          sha256: file.sha256,
          sha1: file.sha1,
          md5: file.md5,
          pieceLength: file.piece_length,
          pieceHashes: Buffer.from(file.piece_hashes as Uint8Array),
          publishedAt: new Date(file.created_at),
        },
        [{ url: selfUrl, priority: 1 }],
        { origin: `${selfUrl}.meta4`, generator: 'aslo' },
      );
      return reply.header('cache-control', cacheControl).type(METALINK_TYPE).send(body);
    }
    const b64 = Buffer.from(file.sha256, 'hex').toString('base64');
    reply.hijack();
    try {
      await sendFile(req.raw, reply.raw, {
        path: app.ctx.files.pathOf(file.storage_key),
        size: Number(file.size),
        etag: `"${file.sha256}"`,
        lastModified: new Date(file.created_at),
        contentType: contentTypeFor(file.file_name),
        fileName: file.file_name,
        cacheControl,
        headers: { 'repr-digest': `sha-256=:${b64}:`, digest: `SHA-256=${b64}` },
      });
    } catch {
      svc.sendError(reply.raw, 503, 'FILE_BYTES_UNAVAILABLE', 'The bytes of this file cannot be read right now. Try again later.');
    }
  };

  const repoHandler = async (req: TypedRequest<typeof repoSchema>, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    const target = svc.match(path);
    if (target) {
      if (target.suffix === '.mirrorlist') return mirrorlistPage(app, req, reply, target.file);
      reply.hijack();
      await svc.respond(req.raw, reply.raw, target);
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(path.slice('/repo/'.length));
    } catch {
      throw notFound('FILE_NOT_FOUND', 'No published file has this path.');
    }
    const safe = /^[1-9][0-9]*\/[^/\\\0]+$/.test(rel) && !rel.split('/')[1]!.startsWith('.');
    // The trace file, and (only while the database cannot be asked) any file of the tree.
    if (rel === TRACE_FILE || (safe && !svc.index.healthy && /\.xol?$/.test(rel))) {
      const abs = join(app.ctx.config.storage.repoDir, rel);
      const st = await stat(abs).catch(() => null);
      if (st?.isFile()) {
        reply.hijack();
        await sendFile(req.raw, reply.raw, {
          path: abs,
          size: st.size,
          etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
          lastModified: st.mtime,
          contentType: rel === TRACE_FILE ? 'text/plain; charset=utf-8' : contentTypeFor(rel),
          fileName: rel.split('/').pop()!,
          cacheControl: rel === TRACE_FILE ? 'no-cache' : 'public, max-age=300',
        }).catch(() => svc.sendError(reply.raw, 404, 'FILE_NOT_FOUND', 'No published file has this path.'));
        return;
      }
    }
    throw notFound('FILE_NOT_FOUND', 'No published file has this path.');
  };

  // GET and HEAD in one route (Fastify would otherwise add its own HEAD route for the GET).
  app.route({ method: ['GET', 'HEAD'], url: '/downloads/file/:id/:name', schema: fileSchema, handler: fileHandler });
  app.route({ method: ['GET', 'HEAD'], url: '/repo/*', schema: repoSchema, handler: repoHandler });
}
