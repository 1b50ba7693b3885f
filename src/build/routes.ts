// HTTP side of publishing from git (docs/building.md):
//   GET  /api/v1/developer/activities/:bundle_id/source        the source, hook URLs and secret, recent builds
//   PUT  /api/v1/developer/activities/:bundle_id/source        { "source_url": "https://..." } (authors)
//   POST /api/v1/developer/activities/:bundle_id/source/check  queue a build of the newest tag (202)
//   POST /api/v1/hooks/github | gitlab | gitea                 release webhooks: a pushed tag queues a build
// Webhooks (JSON, or GitHub's and Gitea's form-encoded `payload=`) are verified with the activity's hook secret the way each forge signs (hooks.ts); a
// delivery is taken once. HTTP only: the access checks and the work are SourceService's (service.ts).
import type { FastifyRequest } from 'fastify';
import { AsloError } from '../platform/errors.js';
import { formPayload } from './hooks.js';
import { BundleId, Type, type TypedApp } from '../platform/schemas.js';

const bundleParams = Type.Object({ bundle_id: BundleId });

export async function buildRoutes(app: TypedApp): Promise<void> {
  // Webhook bodies are read as bytes: the signature is over the exact body.
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 }, (req, body, done) => {
    (req as FastifyRequest & { rawBody?: Buffer }).rawBody = body as Buffer;
    try {
      done(null, (body as Buffer).length ? JSON.parse((body as Buffer).toString('utf8')) : {});
    } catch {
      done(new AsloError('BAD_JSON', 'The body is not valid JSON.', { statusCode: 400 }), undefined);
    }
  });

  // A form-encoded delivery (GitHub's and Gitea's "application/x-www-form-urlencoded" content
  // type: `payload=<url-encoded JSON>`), signed over the form's bytes. This plugin's routes are the
  // API's and the webhooks' only: the hub's HTML forms keep the parser of the accounts plugin.
  app.removeContentTypeParser('application/x-www-form-urlencoded');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 }, (req, body, done) => {
    (req as FastifyRequest & { rawBody?: Buffer }).rawBody = body as Buffer;
    const payload = formPayload(body as Buffer);
    if (!payload) {
      done(new AsloError('HOOK_BAD_REQUEST', 'A form-encoded webhook delivery carries its JSON in a "payload" field.', { statusCode: 400 }), undefined);
      return;
    }
    done(null, payload);
  });

  const sources = app.services.sources;

  app.get(
    '/api/v1/developer/activities/:bundle_id/source',
    { schema: { summary: "The activity's source repository, webhooks and recent builds", tags: ['publishing'], params: bundleParams } },
    async (req) => {
      return sources.describe(await req.viewer(), req.params.bundle_id);
    },
  );

  app.put(
    '/api/v1/developer/activities/:bundle_id/source',
    {
      schema: {
        summary: "Set the activity's source repository (https URL; empty to clear)",
        tags: ['publishing'],
        params: bundleParams,
        body: Type.Object({ source_url: Type.String({ description: 'https URL of the git repository; empty to clear' }) }),
      },
    },
    async (req) => {
      return sources.setSource(await req.viewer(), req.params.bundle_id, req.body.source_url);
    },
  );

  app.post(
    '/api/v1/developer/activities/:bundle_id/source/check',
    { schema: { summary: 'Build the newest tag of the source as a new version (queued)', tags: ['publishing'], params: bundleParams } },
    async (req, reply) => {
      return reply.status(202).send(await sources.check(await req.viewer(), req.params.bundle_id));
    },
  );

  const hookPayload = Type.Unknown({ description: 'The JSON payload of a push or tag event, as the forge sends it' });
  for (const forge of ['github', 'gitlab', 'gitea'] as const) {
    app.post(
      `/api/v1/hooks/${forge}`,
      { schema: { summary: `Release webhook for ${forge} (a pushed tag builds a new version)`, tags: ['publishing'], body: hookPayload } },
      async (req, reply) => {
        const raw = (req as FastifyRequest & { rawBody?: Buffer }).rawBody;
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (!raw)
          throw new AsloError('HOOK_BAD_REQUEST', 'A webhook delivery is a JSON body (content type application/json or application/x-www-form-urlencoded).', {
            statusCode: 400,
          });
        const outcome = await sources.receiveHook(forge, { headers: req.headers, raw, body });
        return reply.status(outcome.queued ? 202 : 200).send(outcome);
      },
    );
  }
}
