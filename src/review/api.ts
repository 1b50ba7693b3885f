// The publishing API (token authentication only, no cookies, so no CSRF exposure):
//   POST /api/v1/uploads                          upload a bundle (raw body or multipart), streamed
//   GET  /api/v1/me                               who the token belongs to
//   GET  /api/v1/developer/activities             the token owner's activities and their status
//   POST /api/v1/developer/activities/:bundle_id/nominate   ask the editors for review
// docs/api.md describes them, with the NDJSON progress stream of uploads.
import { PassThrough, Transform, pipeline, type Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { requireActor, requireScope } from '../accounts/access.js';
import { AsloError, classifyError } from '../platform/errors.js';
import { textError } from '../platform/request-guard.js';
import { issueLanguage, localizeReport, type PublishingService, type UploadOptions, type UploadReport } from './publishing.js';
import type { ReviewService } from './service.js';
import type { ListingService } from './listing.js';
import type { RatingsService } from '../ratings/service.js';
import { BundleId, Type, type TypedApp } from '../platform/schemas.js';

export const BUNDLE_CONTENT_TYPES = [
  'application/octet-stream',
  'application/vnd.olpc-sugar',
  'application/vnd.olpc-content',
  'application/zip',
  'application/x-zip-compressed',
];
const PROGRESS_STEP = 256 * 1024;

declare module 'fastify' {
  interface FastifyInstance {
    publishing: PublishingService;
    review: ReviewService;
    listing: ListingService;
    ratings: RatingsService;
  }
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'value' in v && typeof (v as { value: unknown }).value === 'string') return (v as { value: string }).value;
  return undefined;
}

export function uploadStatus(r: UploadReport): number {
  if (r.outcome === 'imported') return 201;
  if (r.outcome === 'unchanged') return 200;
  const code = r.errors[0]?.code;
  if (code === 'INGEST_NOT_AUTHOR') return 403;
  if (code === 'UPLOAD_TOO_LARGE') return 413;
  if (code === 'INGEST_VERSION_EXISTS' || code === 'INGEST_CONFLICT') return 409;
  return 422;
}

/** The bundle stream and options of an upload request: raw body, or the first file of a multipart form. */
export async function readUploadRequest(
  req: FastifyRequest,
  checkFields?: (fields: Record<string, unknown>) => Promise<void>,
): Promise<{ source: Readable; opts: UploadOptions }> {
  const q = (req.query ?? {}) as Record<string, unknown>;
  if (req.isMultipart()) {
    const part = await req.file();
    if (!part) throw new AsloError('UPLOAD_NO_FILE', 'The form has no file: send the bundle in a field named "file".');
    const f = part.fields as Record<string, unknown>;
    // The fields before the file (the hub's CSRF token), checked before a byte of it is stored.
    if (checkFields) {
      await checkFields(f).catch((err: unknown) => {
        part.file.resume();
        throw err;
      });
    }
    return {
      source: part.file,
      opts: {
        fileName: part.filename,
        sugarMin: str(f.sugar_min) ?? str(q.sugar_min) ?? null,
        sugarMax: str(f.sugar_max) ?? str(q.sugar_max) ?? null,
        releaseNotes: str(f.release_notes) ?? str(q.release_notes) ?? null,
      },
    };
  }
  const body = req.body as Readable | undefined;
  if (!body || typeof (body as Readable).pipe !== 'function') {
    throw new AsloError(
      'UPLOAD_NO_FILE',
      `Send the bundle as the request body (Content-Type ${BUNDLE_CONTENT_TYPES[0]}) or as a multipart form field named "file".`,
      { statusCode: 415 },
    );
  }
  // ?filename= is decoded already (the query string); X-File-Name is percent-encoded (headers are ASCII).
  const header = req.headers['x-file-name'];
  let name = str(q.filename);
  if (name === undefined && typeof header === 'string') {
    try {
      name = decodeURIComponent(header);
    } catch {
      throw new AsloError('REQUEST_BAD_ENCODING', 'X-File-Name must be the file name percent-encoded as UTF-8.');
    }
    const bad = textError(name);
    if (bad) throw bad;
  }
  return {
    source: body,
    opts: { fileName: name || undefined, sugarMin: str(q.sugar_min) ?? null, sugarMax: str(q.sugar_max) ?? null, releaseNotes: str(q.release_notes) ?? null },
  };
}

export async function publishingApi(app: TypedApp): Promise<void> {
  const max = app.ctx.config.bundles.maxUploadBytes;
  // Bundles are streamed to the file store, never buffered: the body parser hands the stream on.
  app.addContentTypeParser(BUNDLE_CONTENT_TYPES, (_req, payload, done) => done(null, payload));
  // The file store enforces the real limit (UPLOAD_TOO_LARGE); multipart's own is a backstop.
  await app.register(multipart, { limits: { fileSize: max * 2, files: 1, fields: 10, fieldSize: 64 * 1024 } });

  app.post(
    '/api/v1/uploads',
    {
      preHandler: app.limits.upload,
      schema: {
        summary: 'Upload a bundle (new activity or new version)',
        description:
          'Body: the .xo/.xol bytes (Content-Type application/octet-stream, file name in X-File-Name or ?filename=), or multipart/form-data with a "file" field. Authorization: Bearer token with the publish scope. With Accept: application/x-ndjson the answer is a stream of progress events then the result (docs/api.md).',
        tags: ['publishing'],
        querystring: Type.Object({
          filename: Type.Optional(Type.String({ description: 'File name of the bundle (or X-File-Name, percent-encoded)' })),
          sugar_min: Type.Optional(Type.String({ description: 'Oldest Sugar version the upload runs on, when the bundle does not say' })),
          sugar_max: Type.Optional(Type.String({ description: 'Newest Sugar version the upload runs on' })),
          release_notes: Type.Optional(Type.String({ description: 'Release notes of the new version' })),
        }),
      },
    },
    async (req, reply) => {
      const viewer = await req.viewer();
      app.publishing.checkCanUpload(viewer);
      const { source, opts } = await readUploadRequest(req);
      const total = Number(req.headers['content-length']) || null;
      const wantsStream = String(req.headers.accept ?? '').includes('application/x-ndjson');
      // Every issue keeps its English `message`; `message_localized` is in the developer's language.
      const lang = issueLanguage(viewer, req.headers['accept-language']);
      void reply.header('vary', 'Accept-Language').header('content-language', lang);
      if (!wantsStream) {
        const report = await app.publishing.upload(viewer, source, opts);
        return reply.status(uploadStatus(report)).send(localizeReport(report, lang));
      }
      const out = new PassThrough();
      const line = (o: unknown) => out.write(JSON.stringify(o) + '\n');
      let received = 0;
      let reported = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          received += chunk.length;
          if (received - reported >= PROGRESS_STEP) {
            reported = received;
            line({ event: 'progress', received, total });
          }
          cb(null, chunk);
        },
      });
      // pipeline, not pipe: an error of the source ends the counter with it, even one raised before
      // this line (a form cut short fails its file part while the parts are read), so no upload hangs.
      pipeline(source, counter, () => {});
      void reply.status(200).type('application/x-ndjson; charset=utf-8').header('cache-control', 'no-store').send(out);
      line({ event: 'progress', received: 0, total });
      app.publishing
        .upload(viewer, counter, opts)
        .then((report) => {
          line({ event: 'progress', received, total, done: true });
          out.end(JSON.stringify({ event: 'result', status: uploadStatus(report), ...localizeReport(report, lang) }) + '\n');
        })
        .catch((err: unknown) => {
          // Judged as the error handler judges it (a form cut short, a client gone: not our error).
          const a = classifyError(err, req);
          if (a.log === 'error') req.log.error({ err }, 'upload failed');
          else if (a.log === 'info') req.log.info({ code: a.code }, a.message);
          const e = { code: a.code, message: a.message };
          out.end(JSON.stringify({ event: 'error', error: e }) + '\n');
        });
      return reply;
    },
  );

  app.get('/api/v1/me', { schema: { summary: "The token's account", tags: ['publishing'] } }, async (req) => {
    const actor = requireActor(await req.viewer());
    requireScope(actor, 'read');
    return {
      id: actor.userId,
      email: actor.email,
      display_name: actor.displayName,
      role: actor.role,
      email_verified: actor.emailVerified,
      scopes: actor.scopes,
    };
  });

  app.get('/api/v1/developer/activities', { schema: { summary: "The token owner's activities, any status", tags: ['publishing'] } }, async (req) => {
    const actor = requireActor(await req.viewer());
    requireScope(actor, 'read');
    const items = await app.publishing.myActivities(actor);
    return {
      items: items.map((a) => ({
        bundle_id: a.bundle_id,
        name: a.name,
        status: a.status,
        trusted: a.trusted,
        role: a.role,
        hub_url: `${app.ctx.config.server.baseUrl}/developers/activities/${a.id}`,
      })),
    };
  });

  app.post(
    '/api/v1/developer/activities/:bundle_id/nominate',
    {
      schema: {
        summary: 'Nominate a sandbox activity for review',
        tags: ['publishing'],
        params: Type.Object({ bundle_id: BundleId }),
        body: Type.Object({ message: Type.String({ description: 'What the editors should know' }) }),
      },
    },
    async (req, reply) => {
      const actor = requireActor(await req.viewer());
      requireScope(actor, 'publish');
      const a = await app.publishing.activityByBundleId(req.params.bundle_id);
      await app.review.nominate(actor, a.id, req.body.message);
      return reply.status(200).send({ bundle_id: a.bundle_id, status: 'nominated' });
    },
  );
}
