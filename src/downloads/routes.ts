// The application's own download URL for a stored file. Every URL ends in the file name, so the
// last path segment ends in .xo/.xol as Sugar's updater requires.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONFIRM_PARAM, CONFIRM_VALUE, downloadableFile } from '../review/downloads.js';
import { contentTypeFor } from '../catalog/service.js';

export async function downloadRoutes(app: FastifyInstance): Promise<void> {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const { id } = req.params as { id: number; name: string };
    // Public files for everyone; experimental and disabled ones by the rules in review/downloads.ts.
    const confirmed = (req.query as Record<string, unknown> | undefined)?.[CONFIRM_PARAM] === CONFIRM_VALUE;
    const file = await downloadableFile(app.ctx.db, id, () => req.viewer(), confirmed);
    const size = Number(file.size);
    void reply
      .header('content-type', contentTypeFor(file.file_name))
      .header('content-disposition', `attachment; filename="${file.file_name}"`)
      .header('accept-ranges', 'bytes')
      .header('etag', `"${file.sha256}"`)
      .header('cache-control', file.isPublic ? 'public, max-age=86400, immutable' : 'private, no-store');
    if (req.headers['if-none-match'] === `"${file.sha256}"`) return reply.status(304).send();
    const range = parseRange(req.headers.range as string | undefined, size);
    if (range === 'invalid') {
      return reply.status(416).header('content-range', `bytes */${size}`).send();
    }
    if (range) {
      reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', range.end - range.start + 1);
      if (req.method === 'HEAD') return reply.send();
      return reply.send(app.ctx.files.read(file.storage_key, range));
    }
    reply.header('content-length', size);
    if (req.method === 'HEAD') return reply.send();
    return reply.send(app.ctx.files.read(file.storage_key));
  };
  const schema = { params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 }, name: { type: 'string' } } }, hide: true };
  // GET and HEAD in one route (Fastify would otherwise add its own HEAD route for the GET).
  app.route({ method: ['GET', 'HEAD'], url: '/downloads/file/:id/:name', schema, handler });
}

/** One byte range (`bytes=a-b`, `a-`, `-n`); several ranges are answered with the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const [, a, b] = m;
  let start: number;
  let end: number;
  if (a === '' && b === '') return 'invalid';
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'invalid';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'invalid';
  return { start, end };
}
