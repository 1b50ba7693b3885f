// The editors' API (token scope "review", editor or admin role), so review can be scripted:
//   GET  /api/v1/review/queue                                  what awaits review
//   POST /api/v1/review/activities/:bundle_id/decision         approve, return, escalate, disable
// A decision covers exactly the versions it names; docs/api.md describes both.
import type { FastifyRequest } from 'fastify';
import { requireActor, requireEditor, requireScope, type Actor } from '../accounts/access.js';
import { DECISIONS } from './service.js';
import { BundleId, Type, type TypedApp } from '../platform/schemas.js';

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
};

const queueSchema = {
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['bundle_id', 'name', 'status', 'versions'],
        properties: {
          bundle_id: { type: 'string' },
          name: { type: 'string' },
          status: {
            type: 'string',
            enum: ['sandbox', 'nominated', 'public', 'disabled'],
            description: 'nominated: the activity itself awaits review; otherwise its pending versions do',
          },
          versions: {
            type: 'array',
            items: {
              type: 'object',
              required: ['version', 'file_id', 'status', 'uploaded_at'],
              properties: {
                version: { type: 'string' },
                file_id: { type: 'integer' },
                status: { type: 'string', enum: ['sandbox', 'pending'] },
                uploaded_at: { type: 'string', format: 'date-time' },
              },
            },
          },
        },
      },
    },
  },
};

const decisionBody = {
  type: 'object',
  required: ['action'],
  properties: {
    action: { type: 'string', enum: [...DECISIONS] },
    versions: {
      type: 'array',
      items: { type: 'string' },
      description: 'The versions reviewed (required for approve and return): the decision covers exactly these.',
    },
    comment: { type: 'string', description: 'To the authors (required).' },
  },
};

const decisionResult = {
  type: 'object',
  required: ['activity', 'versions'],
  properties: {
    activity: { type: 'object', required: ['bundle_id', 'status'], properties: { bundle_id: { type: 'string' }, status: { type: 'string' } } },
    versions: {
      type: 'array',
      items: { type: 'object', required: ['version', 'status'], properties: { version: { type: 'string' }, status: { type: 'string' } } },
    },
  },
};

/** Token with the review scope (a browser session may read the queue), and the editor or admin role. */
async function editorOf(req: FastifyRequest): Promise<Actor> {
  const actor = requireActor(await req.viewer());
  requireScope(actor, 'review');
  return requireEditor(actor);
}

export async function reviewApi(app: TypedApp): Promise<void> {
  app.get(
    '/api/v1/review/queue',
    {
      schema: {
        summary: "The editors' queue: activities with versions awaiting review, the longest waiting first",
        description:
          'Authorization: Bearer token with the review scope, of an editor or administrator. Editors never decide on activities they have been authors of; those are listed too.',
        tags: ['review'],
        response: { 200: queueSchema, 401: errorSchema, 403: errorSchema },
      },
    },
    async (req) => {
      const actor = await editorOf(req);
      return app.review.reviewQueue(actor);
    },
  );

  app.post(
    '/api/v1/review/activities/:bundle_id/decision',
    {
      // The schema documents the body; the service checks it, strictly (no type coercion) and
      // after the access checks, so a stranger learns nothing from it.
      validatorCompiler: () => () => true,
      schema: {
        summary: 'Decide on an activity or its pending versions; covers exactly the versions named',
        description:
          'Authorization: Bearer token with the review scope, of an editor or administrator. On a nominated activity the decision is on the activity: approve makes it and exactly the versions named public (any other version awaiting review stays pending, in the queue). On another activity it is on the pending versions named; disable without versions disables the activity. Errors: 400 (bad body; REVIEW_VERSIONS_REQUIRED, REVIEW_VERSION_UNKNOWN, COMMENT_REQUIRED), 401, 403 (TOKEN_SCOPE_MISSING, FORBIDDEN_NOT_EDITOR, REVIEW_OWN_ACTIVITY, REVIEW_ADMIN_ONLY), 404 ACTIVITY_NOT_FOUND, 409 REVIEW_STALE (a version named no longer awaits review) or REVIEW_BAD_STATUS.',
        tags: ['review'],
        params: Type.Object({ bundle_id: BundleId }),
        body: decisionBody,
        response: { 200: decisionResult, 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (req) => {
      const actor = await editorOf(req);
      const r = await app.review.decideByBundleId(actor, req.params.bundle_id, req.body);
      return { activity: r.activity, versions: r.versions };
    },
  );
}
