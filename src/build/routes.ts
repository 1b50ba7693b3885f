// HTTP side of publishing from git (docs/building.md):
//   GET  /api/v1/developer/activities/:bundle_id/source        the source, hook URLs and secret, recent builds
//   PUT  /api/v1/developer/activities/:bundle_id/source        { "source_url": "https://..." } (authors)
//   POST /api/v1/developer/activities/:bundle_id/source/check  queue a build of the newest tag (202)
//   POST /api/v1/hooks/github | gitlab | gitea                 release webhooks: a pushed tag queues a build
// Webhooks are verified the way each forge signs: GitHub `X-Hub-Signature-256: sha256=<HMAC-SHA256
// of the body>`, Gitea/Forgejo `X-Gitea-Signature` / `X-Forgejo-Signature: <hex HMAC>`, GitLab
// `X-Gitlab-Token: <secret>`, with the activity's hook secret. A delivery is taken once.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AsloError } from '../platform/errors.js';
import { requireActor, requireAuthor, requireScope } from '../accounts/access.js';
import { setSourceUrl } from './settings.js';
import { queueSourceBuild, recentSourceBuilds, requestSourceBuild } from './publish.js';
import { BundleId, Type, type TypedApp } from '../platform/schemas.js';

const bundleParams = Type.Object({ bundle_id: BundleId });

export type Forge = 'github' | 'gitlab' | 'gitea';

/**
 * A repository URL in a comparable form: lower case, no scheme or user, no trailing slash or
 * .git (a local path is compared with file:// URLs). It only picks the candidate activities: the
 * delivery's signature, with each one's secret, decides.
 */
export function normalizeRepoUrl(url: string): string {
  let path: string;
  try {
    const u = new URL(url.startsWith('/') ? `file://${url}` : url);
    path = `${u.host}${decodeURIComponent(u.pathname)}`;
  } catch {
    path = url;
  }
  return path.replace(/\/+$/, '').replace(/\.git$/, '').toLowerCase();
}

/** The repository URLs a forge's payload names. */
export function payloadRepositories(forge: Forge, body: Record<string, any>): string[] {
  const r = forge === 'gitlab' ? { ...(body.repository ?? {}), ...(body.project ?? {}) } : body.repository ?? {};
  return ['clone_url', 'html_url', 'git_http_url', 'web_url', 'homepage', 'url', 'http_url'].map((k) => r[k]).filter((v): v is string => typeof v === 'string' && v.length > 0);
}

/** The tag a delivery pushed, or null when it is not a tag push (then nothing is built). */
export function pushedTag(forge: Forge, event: string, body: Record<string, any>): string | null {
  const ref = typeof body.ref === 'string' ? body.ref : '';
  if (forge === 'gitlab') return body.object_kind === 'tag_push' && ref.startsWith('refs/tags/') && !/^0+$/.test(String(body.after ?? '')) ? ref.slice(10) : null;
  if (event === 'create' && body.ref_type === 'tag') return ref.replace(/^refs\/tags\//, '') || null;
  if (event === 'push' && ref.startsWith('refs/tags/') && body.deleted !== true) return ref.slice(10);
  return null;
}

function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Checks a delivery's signature (or token) against the hook secret. */
export function verifySignature(forge: Forge, headers: Record<string, string | string[] | undefined>, body: Buffer, secret: string): boolean {
  const h = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  if (forge === 'gitlab') {
    const token = h('x-gitlab-token');
    return typeof token === 'string' && sameSecret(token, secret);
  }
  const hmac = createHmac('sha256', secret).update(body).digest('hex');
  const given = forge === 'github' ? h('x-hub-signature-256') : h('x-gitea-signature') ?? h('x-forgejo-signature') ?? h('x-hub-signature-256');
  if (typeof given !== 'string') return false;
  const hex = given.replace(/^sha256=/, '');
  if (forge === 'github' && !given.startsWith('sha256=')) return false;
  return /^[0-9a-f]{64}$/i.test(hex) && timingSafeEqual(Buffer.from(hex.toLowerCase(), 'hex'), Buffer.from(hmac, 'hex'));
}

function eventOf(forge: Forge, headers: Record<string, string | string[] | undefined>): string {
  const v = forge === 'github' ? headers['x-github-event'] : forge === 'gitlab' ? headers['x-gitlab-event'] : headers['x-gitea-event'] ?? headers['x-forgejo-event'] ?? headers['x-github-event'];
  return String(Array.isArray(v) ? v[0] : v ?? '');
}

function deliveryOf(forge: Forge, headers: Record<string, string | string[] | undefined>): string | null {
  const v = forge === 'github' ? headers['x-github-delivery'] : forge === 'gitlab' ? headers['x-gitlab-event-uuid'] : headers['x-gitea-delivery'] ?? headers['x-forgejo-delivery'];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.length > 0 && s.length <= 200 ? s : null;
}

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

  const activityOf = async (bundleId: string) => {
    const a = await app.ctx.db.selectFrom('activities').select(['id', 'bundle_id', 'source_url', 'source_hook_secret']).where('bundle_id', '=', bundleId).executeTakeFirst();
    if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', `There is no activity ${bundleId}.`, { statusCode: 404 });
    return a;
  };
  const hookUrls = () => ({
    github: `${app.ctx.config.server.baseUrl}/api/v1/hooks/github`,
    gitlab: `${app.ctx.config.server.baseUrl}/api/v1/hooks/gitlab`,
    gitea: `${app.ctx.config.server.baseUrl}/api/v1/hooks/gitea`,
  });
  const builds = async (activityId: number) =>
    (await recentSourceBuilds(app.ctx, activityId)).map((b) => ({ id: Number(b.id), state: b.state, outcome: b.outcome, codes: b.codes, tag: b.tag, commit: b.commit_sha, version: b.version, file_status: b.file_status, log: b.log, created_at: b.created_at, finished_at: b.finished_at }));

  app.get('/api/v1/developer/activities/:bundle_id/source', { schema: { summary: "The activity's source repository, webhooks and recent builds", tags: ['publishing'], params: bundleParams } }, async (req) => {
    const actor = requireActor(await req.viewer());
    requireScope(actor, 'read');
    const a = await activityOf(req.params.bundle_id);
    await requireAuthor(app.ctx.db, actor, a.id, { orAdmin: true });
    return { bundle_id: a.bundle_id, source_url: a.source_url, hooks: { ...hookUrls(), secret: a.source_hook_secret }, builds: await builds(a.id) };
  });

  app.put('/api/v1/developer/activities/:bundle_id/source', {
    schema: { summary: "Set the activity's source repository (https URL; empty to clear)", tags: ['publishing'], params: bundleParams, body: Type.Object({ source_url: Type.String({ description: 'https URL of the git repository; empty to clear' }) }) },
  }, async (req) => {
    const actor = requireActor(await req.viewer());
    requireScope(actor, 'publish');
    const a = await activityOf(req.params.bundle_id);
    const url = await setSourceUrl(app.ctx, actor, a.id, req.body.source_url);
    const secret = (await activityOf(a.bundle_id)).source_hook_secret;
    return { bundle_id: a.bundle_id, source_url: url, hooks: { ...hookUrls(), secret } };
  });

  app.post('/api/v1/developer/activities/:bundle_id/source/check', { schema: { summary: 'Build the newest tag of the source as a new version (queued)', tags: ['publishing'], params: bundleParams } }, async (req, reply) => {
    const actor = requireActor(await req.viewer());
    requireScope(actor, 'publish');
    const a = await activityOf(req.params.bundle_id);
    const id = await requestSourceBuild(app.ctx, actor, a.id);
    return reply.status(202).send({ bundle_id: a.bundle_id, build_id: id, state: 'queued' });
  });

  // The forge's delivery as it sends it: read defensively, whatever its shape (an unknown one names no repository).
  const hookPayload = Type.Unknown({ description: 'The JSON payload of a push or tag event, as the forge sends it' });
  for (const forge of ['github', 'gitlab', 'gitea'] as const) {
    app.post(`/api/v1/hooks/${forge}`, { schema: { summary: `Release webhook for ${forge} (a pushed tag builds a new version)`, tags: ['publishing'], body: hookPayload } }, async (req, reply) => {
      const raw = (req as FastifyRequest & { rawBody?: Buffer }).rawBody;
      const body = (req.body ?? {}) as Record<string, any>;
      if (!raw) throw new AsloError('HOOK_BAD_REQUEST', 'A webhook delivery is a JSON body (content type application/json).', { statusCode: 400 });
      const urls = new Set(payloadRepositories(forge, body).map(normalizeRepoUrl));
      const candidates = urls.size
        ? (await app.ctx.db.selectFrom('activities').select(['id', 'source_url', 'source_hook_secret', 'status']).where('source_url', 'is not', null).execute()).filter((a) => urls.has(normalizeRepoUrl(a.source_url!)))
        : [];
      // Of the activities built from that repository, the one whose secret signed the delivery.
      const matched = candidates.find((a) => a.source_hook_secret && verifySignature(forge, req.headers, raw, a.source_hook_secret));
      if (!matched) {
        if (candidates.length === 0) throw new AsloError('HOOK_UNKNOWN_REPOSITORY', 'No activity here is built from this repository.', { statusCode: 404 });
        throw new AsloError('HOOK_BAD_SIGNATURE', 'The delivery is not signed with the hook secret of an activity built from this repository.', { statusCode: 401 });
      }
      const key = `${forge}:${deliveryOf(forge, req.headers) ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`}`;
      const fresh = await app.ctx.db.insertInto('hook_deliveries').values({ key, activity_id: matched.id }).onConflict((oc) => oc.column('key').doNothing()).returning('key').executeTakeFirst();
      if (!fresh) throw new AsloError('HOOK_REPLAYED', 'This delivery was received before.', { statusCode: 409 });
      // Deliveries are remembered for 90 days (a replay after that can only queue a build of the newest tag).
      await app.ctx.db.deleteFrom('hook_deliveries').where('received_at', '<', new Date(Date.now() - 90 * 86400_000)).execute();
      const event = eventOf(forge, req.headers);
      const tag = pushedTag(forge, event, body);
      if (!tag) return reply.status(200).send({ queued: false, reason: event === 'ping' ? 'ping' : 'not a tag push' });
      if (matched.status === 'disabled') throw new AsloError('INGEST_ACTIVITY_DISABLED', 'This activity was disabled by the editors, so it takes no new versions.', { statusCode: 409 });
      const id = await queueSourceBuild(app.ctx, matched.id, matched.source_url!, null);
      return reply.status(202).send({ queued: true, build_id: id, tag });
    });
  }
}
