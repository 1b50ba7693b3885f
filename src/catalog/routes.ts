// The catalog's read API. Handlers only translate HTTP to service calls.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fromAcceptLanguage } from './locales.js';
import { SORTS } from './service.js';
import type { Viewer } from '../accounts/access.js';
import { SESSION_COOKIE } from '../accounts/plugin.js';
import { BundleId, LangQuery, Pagination, RowId, Type, VersionString, FormField, type TypedApp } from '../platform/schemas.js';

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

export function requestLocale(req: { query: { lang?: unknown }; headers: FastifyRequest['headers'] }): string | null {
  const q = req.query.lang;
  if (typeof q === 'string' && q) return q;
  return fromAcceptLanguage(req.headers['accept-language']);
}

/**
 * Who reads (an API token, or the session cookie of a logged-in browser), only when the request
 * carries credentials: anonymous reads stay on the cached public path. An answer given to someone
 * is private: it may show what only authors, editors and administrators see.
 */
async function readerOf(req: FastifyRequest, reply: FastifyReply): Promise<Viewer> {
  if (!req.headers.authorization && !req.cookies?.[SESSION_COOKIE]) return null;
  const viewer = await req.viewer();
  if (viewer) void reply.header('cache-control', 'private, no-store');
  return viewer;
}

const bundleParams = Type.Object({ bundle_id: BundleId });

export async function catalogRoutes(app: TypedApp): Promise<void> {
  const catalog = app.services.catalog;

  app.get(
    '/api/v1/activities',
    {
      schema: {
        summary: 'List public activities',
        tags: ['catalog'],
        querystring: Type.Object({
          ...Pagination,
          tag: Type.Optional(Type.String()),
          category: Type.Optional(Type.String()),
          runtime: Type.Optional(Type.String({ enum: ['python2', 'python3', 'web', 'other'] })),
          sugar: Type.Optional(Type.String({ description: 'Only activities with a version compatible with this Sugar version' })),
          q: Type.Optional(
            Type.String({
              description:
                'Words to look for in names, tags, summaries and descriptions in every language (accent-insensitive, tolerant of small typos); pair with sort=relevance for the best matches first',
            }),
          ),
          sort: Type.Optional(
            Type.String({
              enum: [...SORTS],
              description:
                'popular (downloads), updated (last published; the default), newest, rated, name, or relevance (with q: best matches first, then downloads; without q: as popular)',
            }),
          ),
          lang: Type.Optional(LangQuery),
        }),
        response: {
          200: {
            type: 'object',
            properties: {
              items: { type: 'array', items: summarySchema },
              page: { type: 'integer' },
              per_page: { type: 'integer' },
              total: { type: 'integer' },
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req) => {
      const query = catalog.parseListQuery(req.query);
      return catalog.listActivities({ ...query, lang: requestLocale(req) });
    },
  );

  app.get(
    '/api/v1/activities/:bundle_id',
    {
      schema: {
        summary: 'One public activity (any status for its authors, editors and administrators)',
        description:
          'Anonymous readers see public activities only. With an API token that has the read scope (or a logged-in session), the authors of the activity, editors and administrators also see it in the sandbox, nominated or disabled, with its non-public versions and files; `status` tells which.',
        tags: ['catalog'],
        params: bundleParams,
        querystring: Type.Object({ lang: Type.Optional(FormField) }),
        response: { 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { bundle_id } = req.params;
      return catalog.getActivity(bundle_id, requestLocale(req), await readerOf(req, reply));
    },
  );

  app.get(
    '/api/v1/activities/:bundle_id/versions',
    {
      schema: {
        summary: 'Public versions of an activity, newest first (every version for its authors, editors and administrators)',
        tags: ['catalog'],
        params: bundleParams,
        response: { 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { bundle_id } = req.params;
      return { bundle_id, versions: await catalog.listVersions(bundle_id, await readerOf(req, reply)) };
    },
  );

  app.get(
    '/api/v1/activities/:bundle_id/versions/:version',
    {
      schema: {
        summary: 'One public version with its files (any for its authors, editors and administrators)',
        tags: ['catalog'],
        params: Type.Object({ bundle_id: BundleId, version: VersionString }),
        response: { 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { bundle_id, version } = req.params;
      return catalog.getVersion(bundle_id, version, await readerOf(req, reply));
    },
  );

  app.get(
    '/api/v1/activities/:bundle_id/icon.svg',
    { schema: { summary: 'Activity icon with colours resolved', tags: ['catalog'], params: bundleParams } },
    async (req, reply) => {
      const { bundle_id } = req.params;
      const reader = await readerOf(req, reply);
      const svg = await catalog.iconSvg(bundle_id, reader);
      void reply
        .type('image/svg+xml; charset=utf-8')
        .header('cache-control', reader ? 'private, no-store' : 'public, max-age=3600')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header('x-content-type-options', 'nosniff');
      return svg;
    },
  );

  app.get(
    '/api/v1/files/:id',
    {
      schema: {
        summary: 'Metadata of one public file (hashes, size, download URL); any file of their activity for its authors, editors and administrators',
        tags: ['catalog'],
        params: Type.Object({ id: RowId }),
        response: { 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      return catalog.fileView(id, await readerOf(req, reply));
    },
  );
}
