// The catalog's read API. Handlers only translate HTTP to service calls.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fromAcceptLanguage } from './locales.js';

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } },
};

const summarySchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    bundle_id: { type: 'string' },
    kind: { type: 'string', enum: ['activity', 'content'] },
    name: { type: 'string' },
    summary: { type: 'string', nullable: true },
    locale: { type: 'string' },
    icon_url: { type: 'string', nullable: true },
    tags: { type: 'array', items: { type: 'string' } },
    runtime: { type: 'string', nullable: true },
    current_version: { type: 'string', nullable: true },
    url: { type: 'string' },
  },
};

export function requestLocale(req: FastifyRequest): string | null {
  const q = (req.query as Record<string, unknown> | undefined)?.lang;
  if (typeof q === 'string' && q) return q;
  return fromAcceptLanguage(req.headers['accept-language']);
}

export async function catalogRoutes(app: FastifyInstance): Promise<void> {
  const catalog = app.services.catalog;

  app.get('/api/v1/activities', {
    schema: {
      summary: 'List public activities',
      tags: ['catalog'],
      querystring: {
        type: 'object',
        properties: {
          page: { type: 'string', description: 'Page number, from 1' },
          per_page: { type: 'string', description: 'Items per page, 1-100 (default 20)' },
          tag: { type: 'string' },
          category: { type: 'string' },
          runtime: { type: 'string', enum: ['python2', 'python3', 'web', 'other'] },
          sugar: { type: 'string', description: 'Only activities with a version compatible with this Sugar version' },
          q: { type: 'string', description: 'Text to look for in names and summaries' },
          sort: { type: 'string', enum: ['popular', 'updated', 'newest', 'rated', 'name'] },
          lang: { type: 'string', description: 'Locale of the texts (else Accept-Language)' },
        },
      },
      response: {
        200: { type: 'object', properties: { items: { type: 'array', items: summarySchema }, page: { type: 'integer' }, per_page: { type: 'integer' }, total: { type: 'integer' } } },
        400: errorSchema,
      },
    },
  }, async (req) => {
    const query = catalog.parseListQuery(req.query as Record<string, unknown>);
    return catalog.listActivities({ ...query, lang: requestLocale(req) });
  });

  app.get('/api/v1/activities/:bundle_id', {
    schema: { summary: 'One public activity', tags: ['catalog'], params: { type: 'object', properties: { bundle_id: { type: 'string' } } }, response: { 404: errorSchema } },
  }, async (req) => {
    const { bundle_id } = req.params as { bundle_id: string };
    return catalog.getActivity(bundle_id, requestLocale(req));
  });

  app.get('/api/v1/activities/:bundle_id/versions', {
    schema: { summary: 'Public versions of an activity, newest first', tags: ['catalog'], response: { 404: errorSchema } },
  }, async (req) => {
    const { bundle_id } = req.params as { bundle_id: string };
    return { bundle_id, versions: await catalog.listVersions(bundle_id) };
  });

  app.get('/api/v1/activities/:bundle_id/versions/:version', {
    schema: { summary: 'One public version with its files', tags: ['catalog'], response: { 404: errorSchema } },
  }, async (req) => {
    const { bundle_id, version } = req.params as { bundle_id: string; version: string };
    return catalog.getVersion(bundle_id, version);
  });

  app.get('/api/v1/activities/:bundle_id/icon.svg', { schema: { summary: 'Activity icon with colours resolved', tags: ['catalog'] } }, async (req, reply) => {
    const { bundle_id } = req.params as { bundle_id: string };
    const svg = await catalog.iconSvg(bundle_id);
    void reply
      .type('image/svg+xml; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .header('x-content-type-options', 'nosniff');
    return svg;
  });

  app.get('/api/v1/files/:id', {
    schema: { summary: 'Metadata of one public file (hashes, size, download URL)', tags: ['catalog'], params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } } }, response: { 404: errorSchema } },
  }, async (req) => {
    const { id } = req.params as { id: number };
    return catalog.fileView(id);
  });
}
