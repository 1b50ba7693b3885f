// Publishing from git as the API and the forges' webhooks ask for it (docs/building.md): an
// activity's source settings and recent builds for its authors, a build of the newest tag on
// request, and release webhooks that queue a build of the tag they pushed. Each method checks
// access first; the SQL is in queries.ts, the builds themselves in publish.ts.
import { createHash } from 'node:crypto';
import type { AppContext } from '../platform/context.js';
import { AsloError } from '../platform/errors.js';
import { requireActor, requireAuthor, requireScope, type Viewer } from '../accounts/access.js';
import { setLegacyId, setSourceUrl } from './settings.js';
import { queueSourceBuild, recentSourceBuilds, requestSourceBuild } from './publish.js';
import { deliveryOf, eventOf, normalizeRepoUrl, payloadRepositories, pushedTag, verifySignature, type Forge } from './hooks.js';
import { activitiesWithSource, activitySourceByBundleId, forgetHookDeliveriesBefore, recordHookDelivery } from './queries.js';

/** Deliveries are remembered this long (a replay after that can only queue a build of the newest tag). */
const DELIVERY_MEMORY_MS = 90 * 86400_000;

export interface HookDelivery {
  headers: Record<string, string | string[] | undefined>;
  /** The exact bytes of the body: the signature is over them. */
  raw: Buffer;
  body: Record<string, unknown>;
}

export type HookOutcome = { queued: false; reason: string } | { queued: true; build_id: number; tag: string };

export class SourceService {
  constructor(private readonly ctx: AppContext) {}

  hookUrls() {
    const base = this.ctx.config.server.baseUrl;
    return { github: `${base}/api/v1/hooks/github`, gitlab: `${base}/api/v1/hooks/gitlab`, gitea: `${base}/api/v1/hooks/gitea` };
  }

  private async activity(bundleId: string) {
    const a = await activitySourceByBundleId(this.ctx.db, bundleId);
    if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', `There is no activity ${bundleId}.`, { statusCode: 404 });
    return a;
  }

  /** The source, hook URLs and secret, and recent builds (authors and administrators, read scope). */
  async describe(viewer: Viewer, bundleId: string) {
    const actor = requireActor(viewer);
    requireScope(actor, 'read');
    const a = await this.activity(bundleId);
    await requireAuthor(this.ctx.db, actor, a.id, { orAdmin: true });
    const builds = (await recentSourceBuilds(this.ctx, a.id)).map((b) => ({
      id: Number(b.id),
      state: b.state,
      outcome: b.outcome,
      codes: b.codes,
      tag: b.tag,
      commit: b.commit_sha,
      version: b.version,
      file_status: b.file_status,
      log: b.log,
      created_at: b.created_at,
      finished_at: b.finished_at,
    }));
    return { bundle_id: a.bundle_id, source_url: a.source_url, hooks: { ...this.hookUrls(), secret: a.source_hook_secret }, builds };
  }

  /** Sets (or clears, with an empty URL) the source repository (publish scope; settings.ts checks the author). */
  async setSource(viewer: Viewer, bundleId: string, sourceUrl: string) {
    const actor = requireActor(viewer);
    requireScope(actor, 'publish');
    const a = await this.activity(bundleId);
    const url = await setSourceUrl(this.ctx, actor, a.id, sourceUrl);
    const secret = (await this.activity(a.bundle_id)).source_hook_secret;
    return { bundle_id: a.bundle_id, source_url: url, hooks: { ...this.hookUrls(), secret } };
  }

  /** Queues a build of the newest tag (publish scope; publish.ts checks the author). */
  async check(viewer: Viewer, bundleId: string) {
    const actor = requireActor(viewer);
    requireScope(actor, 'publish');
    const a = await this.activity(bundleId);
    const id = await requestSourceBuild(this.ctx, actor, a.id);
    return { bundle_id: a.bundle_id, build_id: id, state: 'queued' as const };
  }

  /** A release webhook's delivery: its signature is the access check (the activity's hook secret). */
  async receiveHook(forge: Forge, delivery: HookDelivery): Promise<HookOutcome> {
    const { headers, raw, body } = delivery;
    const urls = new Set(payloadRepositories(forge, body).map(normalizeRepoUrl));
    const candidates = urls.size ? (await activitiesWithSource(this.ctx.db)).filter((a) => urls.has(normalizeRepoUrl(a.source_url!))) : [];
    // Of the activities built from that repository, the one whose secret signed the delivery.
    const matched = candidates.find((a) => a.source_hook_secret && verifySignature(forge, headers, raw, a.source_hook_secret));
    if (!matched) {
      if (candidates.length === 0) throw new AsloError('HOOK_UNKNOWN_REPOSITORY', 'No activity here is built from this repository.', { statusCode: 404 });
      throw new AsloError('HOOK_BAD_SIGNATURE', 'The delivery is not signed with the hook secret of an activity built from this repository.', {
        statusCode: 401,
      });
    }
    const key = `${forge}:${deliveryOf(forge, headers) ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`}`;
    if (!(await recordHookDelivery(this.ctx.db, key, matched.id)))
      throw new AsloError('HOOK_REPLAYED', 'This delivery was received before.', { statusCode: 409 });
    await forgetHookDeliveriesBefore(this.ctx.db, new Date(Date.now() - DELIVERY_MEMORY_MS));
    const event = eventOf(forge, headers);
    const tag = pushedTag(forge, event, body);
    if (!tag) return { queued: false, reason: event === 'ping' ? 'ping' : 'not a tag push' };
    if (matched.status === 'disabled')
      throw new AsloError('INGEST_ACTIVITY_DISABLED', 'This activity was disabled by the editors, so it takes no new versions.', { statusCode: 409 });
    const id = await queueSourceBuild(this.ctx, matched.id, matched.source_url!, null);
    return { queued: true, build_id: id, tag };
  }

  // ---- the hub's forms, by activity id (settings.ts and publish.ts check the viewer) ----

  /** The recent builds of an activity's source (its authors and administrators). */
  async recentBuilds(viewer: Viewer, activityId: number) {
    await requireAuthor(this.ctx.db, viewer, activityId, { orAdmin: true });
    return recentSourceBuilds(this.ctx, activityId);
  }

  setSourceOf(viewer: Viewer, activityId: number, sourceUrl: string): Promise<string | null> {
    return setSourceUrl(this.ctx, viewer, activityId, sourceUrl);
  }

  checkSourceOf(viewer: Viewer, activityId: number): Promise<number> {
    return requestSourceBuild(this.ctx, viewer, activityId);
  }

  /** The old store's numeric id of an activity (administrators). */
  setLegacyId(viewer: Viewer, activityId: number, value: string, reason: string): Promise<void> {
    return setLegacyId(this.ctx, viewer, activityId, value, reason);
  }
}
