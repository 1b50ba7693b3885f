// Collections: curated lists of activities (a deployment's set, a school's set), each entry
// following the newest compatible public version or pinned to one version. The microformat feed
// (/services/micro-format.php?collection_nickname=...) serves them to Sugar. Every change is
// written to the audit log.
import { sql } from 'kysely';
import { parseSugarVersion } from '../bundles/index.js';
import type { AppContext } from '../platform/context.js';
import { AsloError, notFound } from '../platform/errors.js';

const NICKNAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

export interface CollectionInput {
  name?: string;
  description?: string | null;
  /** Localized names, by locale tag. */
  names?: Record<string, string>;
  listed?: boolean;
}

export interface CollectionEntryView {
  bundle_id: string;
  activity_status: string;
  pinned_version: string | null;
  optional: boolean;
  position: number;
}

export interface CollectionView {
  nickname: string;
  name: string;
  description: string | null;
  names: Record<string, string>;
  listed: boolean;
  created_at: string;
  updated_at: string;
  entries: CollectionEntryView[];
}

export interface Actor {
  userId?: number | null;
  label?: string | null;
}

function normalizedOf(version: string): string | null {
  const p = parseSugarVersion(version);
  return p.valid ? p.parts.join('.') : null;
}

export class CollectionService {
  constructor(private readonly ctx: AppContext) {}

  private get db() {
    return this.ctx.db;
  }

  private checkNickname(nickname: string): void {
    if (!NICKNAME.test(nickname)) {
      throw new AsloError('COLLECTION_BAD_NICKNAME', `"${nickname}" is not a valid collection nickname: use 1-64 letters, digits, "-" or "_", starting with a letter or digit.`);
    }
  }

  private async audit(action: string, nickname: string, actor: Actor, details: Record<string, unknown>): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        at: new Date(),
        actor_user_id: actor.userId ?? null,
        actor_label: actor.label ?? null,
        actor_address: null,
        action,
        target_type: 'collection',
        target_id: nickname,
        reason: null,
        details: JSON.stringify(details),
      })
      .execute();
  }

  private async collectionId(nickname: string): Promise<number> {
    const row = await this.db.selectFrom('collections').select('id').where('nickname', '=', nickname).executeTakeFirst();
    if (!row) throw notFound('COLLECTION_NOT_FOUND', `No collection has the nickname "${nickname}". List them with "aslo collection list".`);
    return row.id;
  }

  async create(nickname: string, input: CollectionInput & { name: string }, actor: Actor = {}): Promise<CollectionView> {
    this.checkNickname(nickname);
    if (!input.name?.trim()) throw new AsloError('COLLECTION_NAME_REQUIRED', 'A collection needs a name (--name).');
    const exists = await this.db.selectFrom('collections').select('id').where('nickname', '=', nickname).executeTakeFirst();
    if (exists) throw new AsloError('COLLECTION_EXISTS', `A collection with the nickname "${nickname}" already exists.`, { statusCode: 409 });
    const now = new Date();
    await this.db
      .insertInto('collections')
      .values({
        nickname,
        name: input.name.trim(),
        description: input.description ?? null,
        names: JSON.stringify(input.names ?? {}),
        owner_id: actor.userId ?? null,
        listed: input.listed ?? true,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await this.audit('collection.create', nickname, actor, { name: input.name });
    return this.get(nickname);
  }

  async update(nickname: string, input: CollectionInput, actor: Actor = {}): Promise<CollectionView> {
    const id = await this.collectionId(nickname);
    const set: Record<string, unknown> = { updated_at: new Date() };
    if (input.name !== undefined) {
      if (!input.name.trim()) throw new AsloError('COLLECTION_NAME_REQUIRED', 'A collection name cannot be empty.');
      set.name = input.name.trim();
    }
    if (input.description !== undefined) set.description = input.description;
    if (input.listed !== undefined) set.listed = input.listed;
    if (input.names !== undefined) {
      const row = await this.db.selectFrom('collections').select('names').where('id', '=', id).executeTakeFirstOrThrow();
      const merged = { ...(row.names ?? {}), ...input.names };
      for (const [k, v] of Object.entries(merged)) if (!v) delete merged[k];
      set.names = JSON.stringify(merged);
    }
    await this.db.updateTable('collections').set(set).where('id', '=', id).execute();
    await this.audit('collection.update', nickname, actor, { fields: Object.keys(set).filter((k) => k !== 'updated_at') });
    return this.get(nickname);
  }

  async remove(nickname: string, actor: Actor = {}): Promise<void> {
    const id = await this.collectionId(nickname);
    await this.db.deleteFrom('collections').where('id', '=', id).execute();
    await this.audit('collection.delete', nickname, actor, {});
  }

  async list(): Promise<{ nickname: string; name: string; listed: boolean; entries: number }[]> {
    const rows = await this.db
      .selectFrom('collections as c')
      .leftJoin('collection_activities as ca', 'ca.collection_id', 'c.id')
      .select(['c.nickname', 'c.name', 'c.listed', (eb) => eb.fn.count<number>('ca.activity_id').as('entries')])
      .groupBy(['c.id', 'c.nickname', 'c.name', 'c.listed'])
      .orderBy('c.nickname')
      .execute();
    return rows.map((r) => ({ nickname: r.nickname, name: r.name, listed: r.listed, entries: Number(r.entries) }));
  }

  async get(nickname: string): Promise<CollectionView> {
    const c = await this.db.selectFrom('collections').selectAll().where('nickname', '=', nickname).executeTakeFirst();
    if (!c) throw notFound('COLLECTION_NOT_FOUND', `No collection has the nickname "${nickname}". List them with "aslo collection list".`);
    const entries = await this.db
      .selectFrom('collection_activities as ca')
      .innerJoin('activities as a', 'a.id', 'ca.activity_id')
      .leftJoin('versions as v', 'v.id', 'ca.pinned_version_id')
      .select(['a.bundle_id', 'a.status', 'v.version as pinned', 'ca.optional', 'ca.position'])
      .where('ca.collection_id', '=', c.id)
      .orderBy('ca.position')
      .orderBy('a.bundle_id')
      .execute();
    return {
      nickname: c.nickname,
      name: c.name,
      description: c.description,
      names: (c.names ?? {}) as Record<string, string>,
      listed: c.listed,
      created_at: c.created_at.toISOString(),
      updated_at: c.updated_at.toISOString(),
      entries: entries.map((e) => ({ bundle_id: e.bundle_id, activity_status: e.status, pinned_version: e.pinned ?? null, optional: e.optional, position: e.position })),
    };
  }

  /** Entries as the feeds need them: activity ids, pinned version ids, flags, in order. */
  async feedEntries(nickname: string): Promise<{ collection: { name: string; description: string | null; names: Record<string, string> }; entries: { activityId: number; pinnedVersionId: number | null; optional: boolean }[] } | null> {
    const c = await this.db.selectFrom('collections').select(['id', 'name', 'description', 'names']).where('nickname', '=', nickname).executeTakeFirst();
    if (!c) return null;
    const entries = await this.db
      .selectFrom('collection_activities')
      .select(['activity_id', 'pinned_version_id', 'optional'])
      .where('collection_id', '=', c.id)
      .orderBy('position')
      .orderBy('activity_id')
      .execute();
    return {
      collection: { name: c.name, description: c.description, names: (c.names ?? {}) as Record<string, string> },
      entries: entries.map((e) => ({ activityId: Number(e.activity_id), pinnedVersionId: e.pinned_version_id === null ? null : Number(e.pinned_version_id), optional: e.optional })),
    };
  }

  private async activityId(bundleId: string): Promise<number> {
    const a = await this.db.selectFrom('activities').select('id').where('bundle_id', '=', bundleId).executeTakeFirst();
    if (!a) throw notFound('ACTIVITY_NOT_FOUND', `No activity has the bundle id "${bundleId}".`);
    return a.id;
  }

  private async versionId(activityId: number, bundleId: string, version: string): Promise<number> {
    const norm = normalizedOf(version);
    const row = await this.db
      .selectFrom('versions')
      .select('id')
      .where('activity_id', '=', activityId)
      .where((eb) => (norm ? eb.or([eb('version', '=', version), eb('version_normalized', '=', norm)]) : eb('version', '=', version)))
      .executeTakeFirst();
    if (!row) throw notFound('VERSION_NOT_FOUND', `${bundleId} has no version ${version}.`);
    return row.id;
  }

  /** Add an activity (or change its entry when already there). */
  async add(nickname: string, bundleId: string, opts: { pin?: string | null; optional?: boolean; position?: number } = {}, actor: Actor = {}): Promise<CollectionView> {
    const collectionId = await this.collectionId(nickname);
    const activityId = await this.activityId(bundleId);
    const pinned = opts.pin ? await this.versionId(activityId, bundleId, opts.pin) : null;
    const position =
      opts.position ??
      Number(
        (
          await this.db
            .selectFrom('collection_activities')
            .select(sql<number>`coalesce(max(position), -1) + 1`.as('next'))
            .where('collection_id', '=', collectionId)
            .executeTakeFirstOrThrow()
        ).next,
      );
    await this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('collection_activities')
        .select(['position', 'pinned_version_id', 'optional'])
        .where('collection_id', '=', collectionId)
        .where('activity_id', '=', activityId)
        .executeTakeFirst();
      if (existing) {
        await trx
          .updateTable('collection_activities')
          .set({
            ...(opts.pin !== undefined ? { pinned_version_id: pinned } : {}),
            ...(opts.optional !== undefined ? { optional: opts.optional } : {}),
            ...(opts.position !== undefined ? { position: opts.position } : {}),
          })
          .where('collection_id', '=', collectionId)
          .where('activity_id', '=', activityId)
          .execute();
      } else {
        await trx
          .insertInto('collection_activities')
          .values({ collection_id: collectionId, activity_id: activityId, pinned_version_id: pinned, optional: opts.optional ?? false, position })
          .execute();
      }
      await trx.updateTable('collections').set({ updated_at: new Date() }).where('id', '=', collectionId).execute();
    });
    await this.audit('collection.add', nickname, actor, { bundle_id: bundleId, pin: opts.pin ?? null, optional: opts.optional ?? null });
    return this.get(nickname);
  }

  async drop(nickname: string, bundleId: string, actor: Actor = {}): Promise<CollectionView> {
    const collectionId = await this.collectionId(nickname);
    const activityId = await this.activityId(bundleId);
    const res = await this.db.deleteFrom('collection_activities').where('collection_id', '=', collectionId).where('activity_id', '=', activityId).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notFound('COLLECTION_ENTRY_NOT_FOUND', `${bundleId} is not in the collection "${nickname}".`);
    await this.db.updateTable('collections').set({ updated_at: new Date() }).where('id', '=', collectionId).execute();
    await this.audit('collection.remove', nickname, actor, { bundle_id: bundleId });
    return this.get(nickname);
  }

  /** Pin an entry to a version, or (version null) let it follow the newest compatible one. */
  async pin(nickname: string, bundleId: string, version: string | null, actor: Actor = {}): Promise<CollectionView> {
    const collectionId = await this.collectionId(nickname);
    const activityId = await this.activityId(bundleId);
    const pinned = version ? await this.versionId(activityId, bundleId, version) : null;
    const res = await this.db
      .updateTable('collection_activities')
      .set({ pinned_version_id: pinned })
      .where('collection_id', '=', collectionId)
      .where('activity_id', '=', activityId)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw notFound('COLLECTION_ENTRY_NOT_FOUND', `${bundleId} is not in the collection "${nickname}"; add it first.`);
    await this.db.updateTable('collections').set({ updated_at: new Date() }).where('id', '=', collectionId).execute();
    await this.audit(version ? 'collection.pin' : 'collection.unpin', nickname, actor, { bundle_id: bundleId, version });
    return this.get(nickname);
  }
}
