// HTTP for the updater: the legacy RDF endpoints, the microformat feeds, the signed JSON index,
// release notes and the experimental download route. The RDF endpoints are also answered before
// Fastify's router by the fast path (fast-path.ts) when the app listens; both call the same
// UpdateService.answerUpdate.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { contentTypeFor } from '../bundles/index.js';
import { parseRange } from '../platform/http/range.js';
import { errorBody, isAsloError } from '../platform/errors.js';
import { EMPTY_RDF } from './rdf.js';
import { etagMatches } from './query.js';
import { htmlEscape } from './microformat.js';
import { looseParam, textParams, Type, type TypedApp } from '../platform/schemas.js';
import { INDEX_RETRY_AFTER_SECONDS } from './service.js';

export const UPDATE_PATHS = ['/services/update-aslo.php', '/services/update.php'];

function preferredEncoding(header: string | string[] | undefined): 'br' | 'gzip' | null {
  const h = (Array.isArray(header) ? header.join(',') : (header ?? '')).toLowerCase();
  const q = (name: string): number => {
    const m = new RegExp(`(?:^|,)\\s*${name}\\s*(?:;\\s*q=([0-9.]+))?\\s*(?:,|$)`).exec(h);
    if (!m) return 0;
    return m[1] === undefined ? 1 : Number(m[1]);
  };
  const br = q('br');
  const gz = q('gzip');
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return null;
}

export async function updateRoutes(app: TypedApp): Promise<void> {
  const updates = app.services.updates;

  // Answers that need the index, asked before it is loaded (a process that has just started):
  // they wait for it (updates.indexWaitSeconds), then get 503 with Retry-After, never an answer
  // from the empty index ("no update", an empty feed).
  const retryWhenLoading = (err: unknown, reply: FastifyReply) => {
    if (isAsloError(err) && (err.code === 'UPDATE_INDEX_LOADING' || err.code === 'INDEX_BUSY')) {
      void reply.header('retry-after', String(INDEX_RETRY_AFTER_SECONDS));
    }
  };

  // ---- legacy RDF ----
  const rdfHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      await updates.whenReady();
    } catch (err) {
      if (!isAsloError(err)) throw err;
      // Not an empty RDF root: that would tell the client there is no update.
      retryWhenLoading(err, reply);
      return reply.code(err.statusCode).send(errorBody(err.code, err.message));
    }
    try {
      const res = updates.answerUpdate(req.method, req.url, req.headers['if-none-match']);
      void reply.code(res.status).headers(res.headers);
      return reply.send(res.body ?? undefined);
    } catch {
      // Never a 500, never HTML: an empty RDF root.
      void reply.code(200).headers({ 'content-type': 'text/xml; charset=utf-8', 'content-length': EMPTY_RDF.body.length, etag: EMPTY_RDF.etag });
      return reply.send(req.method === 'HEAD' ? undefined : EMPTY_RDF.body);
    }
  };
  for (const url of UPDATE_PATHS) {
    app.route({
      method: ['GET', 'HEAD'],
      url,
      // No request logging on the hottest path of the store.
      logLevel: 'warn',
      // Read from the raw address by the handler (as the fast path does): documented here, never refused.
      schema: {
        summary: 'Update check of Sugar and the old site (Mozilla update RDF)',
        description:
          "The newest version of an activity that runs on the Sugar asking, as the update RDF Sugar's updater reads. Any problem (an unknown activity, a bad parameter) answers an empty RDF root with 200, never an error page.",
        tags: ['updates'],
        querystring: Type.Object({
          id: looseParam('Bundle id of the activity'),
          appVersion: looseParam('Sugar version of the client, like 0.118'),
          experimental: looseParam('1, true, yes or on: also versions not yet reviewed'),
        }),
      },
      handler: rdfHandler,
      errorHandler: (_err, req, reply) => {
        void reply
          .code(200)
          .headers({ 'content-type': 'text/xml; charset=utf-8', etag: EMPTY_RDF.etag })
          .send(req.method === 'HEAD' ? undefined : EMPTY_RDF.body);
      },
    });
  }

  // ---- release notes (em:updateInfoURL) ----
  app.get(
    '/services/update-info/:versionId',
    {
      schema: { summary: 'Release notes of a version (em:updateInfoURL of the update RDF), as XHTML', tags: ['updates'], params: textParams('versionId') },
    },
    async (req, reply) => {
      const { body, isPublic } = await updates
        .releaseNotes(() => req.viewer(), req.params.versionId)
        .catch((err: unknown) => {
          retryWhenLoading(err, reply);
          throw err;
        });
      // What only the activity's people may see is never kept by a shared cache.
      void reply.type('application/xhtml+xml; charset=utf-8').header('cache-control', isPublic ? updates.cacheControlHeader : 'private, no-store');
      return body;
    },
  );

  // ---- microformat ----
  app.get(
    '/services/micro-format.php',
    {
      schema: {
        summary: "Update microformat page (an HTML list of activities and their newest versions), as Sugar's updater reads it",
        description: 'Errors are answered as a small HTML page with the message and its code.',
        tags: ['updates'],
        querystring: Type.Object({
          lang: looseParam('Locale of the names (default en)'),
          sugar: looseParam('Sugar release, like 0.118 (else the one in the User-Agent)'),
          collection_nickname: looseParam('Only the activities of this collection'),
        }),
      },
    },
    async (req, reply) => {
      try {
        const page = await updates.microformat(req.query, req.headers['user-agent']);
        // Without sugar=, the answer follows the client's User-Agent (Sugar/X.Y).
        void reply
          .header('cache-control', updates.cacheControlHeader)
          .header('etag', page.etag)
          .header('vary', page.varies ? 'user-agent, accept-encoding' : 'accept-encoding');
        if (etagMatches(req.headers['if-none-match'], page.etag)) return reply.code(304).send();
        return reply.type('text/html; charset=utf-8').send(page.html);
      } catch (err) {
        retryWhenLoading(err, reply);
        const status = isAsloError(err) ? err.statusCode : 500;
        if (!isAsloError(err)) req.log.error({ err }, 'microformat feed failed');
        const msg = isAsloError(err) ? `${err.message} [${err.code}]` : 'The feed could not be built; the error was logged. Please try again.';
        return reply
          .code(status)
          .type('text/html; charset=utf-8')
          .send(
            `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n<title>Error</title>\n</head>\n<body>\n<p>${htmlEscape(msg)}</p>\n</body>\n</html>\n`,
          );
      }
    },
  );

  // ---- JSON index ----
  const indexSchema = {
    summary: 'Signed JSON index of public activities for a Sugar version',
    tags: ['updates'],
    querystring: Type.Object({
      sugar: Type.Optional(Type.String({ description: 'Sugar version (like 0.118): only versions that run on it' })),
      since: Type.Optional(Type.String({ description: 'next_since of a previous answer: only what changed after it (a diff)' })),
    }),
  };
  // A document not built yet is built on a worker thread; when too many wait, 503 and Retry-After.
  const documentFor = async (req: FastifyRequest & { query: { sugar?: string; since?: string } }, reply: FastifyReply) => {
    const q = updates.parseIndexQuery(req.query);
    try {
      return await updates.indexDocument(q);
    } catch (err) {
      retryWhenLoading(err, reply);
      throw err;
    }
  };
  app.get('/services/index.json', { schema: indexSchema }, async (req, reply) => {
    const doc = await documentFor(req, reply);
    void reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', updates.cacheControlHeader)
      .header('etag', doc.etag)
      .header('vary', 'accept-encoding')
      .header('x-aslo-signature', doc.signature);
    if (etagMatches(req.headers['if-none-match'], doc.etag)) return reply.code(304).send();
    const enc = preferredEncoding(req.headers['accept-encoding']);
    // Not compressed yet and the build workers busy: the uncompressed body (always acceptable).
    const buf = enc ? await doc.encoded(enc).catch(() => null) : null;
    if (enc && buf) {
      void reply.header('content-encoding', enc).header('content-length', buf.length);
      return reply.send(req.method === 'HEAD' ? undefined : buf);
    }
    void reply.header('content-length', doc.body.length);
    return reply.send(req.method === 'HEAD' ? undefined : doc.body);
  });
  app.get(
    '/services/index.json.sig',
    { schema: { ...indexSchema, summary: 'Detached Ed25519 signature (base64) of index.json with the same parameters' } },
    async (req, reply) => {
      const doc = await documentFor(req, reply);
      void reply
        .type('text/plain; charset=utf-8')
        .header('cache-control', updates.cacheControlHeader)
        // The ETag of the index.json bytes this signs: compare it with the one you downloaded.
        .header('etag', doc.etag)
        .header('x-aslo-index-etag', doc.etag);
      if (etagMatches(req.headers['if-none-match'], doc.etag)) return reply.code(304).send();
      return doc.signature + '\n';
    },
  );
  app.get('/services/index-key.pem', { schema: { summary: 'Public Ed25519 key that signs index.json', tags: ['updates'] } }, async (_req, reply) => {
    void reply
      .type('application/x-pem-file')
      .header('cache-control', 'public, max-age=86400')
      .header('x-aslo-key-fingerprint', `sha256:${updates.keys.fingerprint}`);
    return updates.keys.publicKeyPem;
  });

  // ---- downloads experimental clients are sent to (sandbox and pending files) ----
  const expDownload = async (req: FastifyRequest & { params: { id: string; name: string } }, reply: FastifyReply) => {
    const { id } = req.params;
    const file = await updates.experimentalFile(id);
    const size = Number(file.size);
    void reply
      .header('content-type', contentTypeFor(file.file_name))
      .header('content-disposition', `attachment; filename="${file.file_name}"`)
      .header('accept-ranges', 'bytes')
      .header('etag', `"${file.sha256}"`)
      .header('cache-control', 'private, max-age=300');
    if (etagMatches(req.headers['if-none-match'], `"${file.sha256}"`)) return reply.code(304).send();
    const range = parseRange(req.headers.range, size);
    if (range === 'invalid') return reply.code(416).header('content-range', `bytes */${size}`).send();
    if (range) {
      void reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
        .header('content-length', range.end - range.start + 1);
      return reply.send(req.method === 'HEAD' ? undefined : app.ctx.files.read(file.storage_key, range));
    }
    void reply.header('content-length', size);
    return reply.send(req.method === 'HEAD' ? undefined : app.ctx.files.read(file.storage_key));
  };
  app.route({
    method: ['GET', 'HEAD'],
    url: '/services/experimental/file/:id/:name',
    schema: { hide: true, params: textParams('id', 'name') },
    handler: expDownload,
  });
}
