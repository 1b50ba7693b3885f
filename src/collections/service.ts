// Collections: curated lists of activities (a deployment's set, a school's set), each entry
// following the newest compatible public version or pinned to one version. The microformat feed
// (/services/micro-format.php?collection_nickname=...) serves them to Sugar. Every change is
// written to the audit log.
import { parseSugarVersion } from '../bundles/index.js';
import type { AppContext } from '../platform/context.js';
import { AsloError, notFound } from '../platform/errors.js';
import * as q from './queries.js';

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
      throw new AsloError(
        'COLLECTION_BAD_NICKNAME',
        `"${nickname}" is not a valid collection nickname: use 1-64 letters, digits, "-" or "_", starting with a letter or digit.`,
      );
    }
  }

  private async audit(action: string, nickname: string, actor: Actor, details: Record<string, unknown>): Promise<void> {
    await q.insertCollectionAudit(this.db, { action, nickname, actorUserId: actor.userId ?? null, actorLabel: actor.label ?? null, details });
  }

  private async collectionId(nickname: string): Promise<number> {
    const id = await q.collectionIdByNickname(this.db, nickname);
    if (id === undefined) throw notFound('COLLECTION_NOT_FOUND', `No collection has the nickname "${nickname}". List them with "aslo collection list".`);
    return id;
  }

  async create(nickname: string, input: CollectionInput & { name: string }, actor: Actor = {}): Promise<CollectionView> {
    this.checkNickname(nickname);
    if (!input.name?.trim()) throw new AsloError('COLLECTION_NAME_REQUIRED', 'A collection needs a name (--name).');
    const exists = await q.collectionIdByNickname(this.db, nickname);
    if (exists !== undefined) throw new AsloError('COLLECTION_EXISTS', `A collection with the nickname "${nickname}" already exists.`, { statusCode: 409 });
    const now = new Date();
    await q.insertCollection(this.db, {
      nickname,
      name: input.name.trim(),
      description: input.description ?? null,
      names: input.names ?? {},
      ownerId: actor.userId ?? null,
      listed: input.listed ?? true,
      at: now,
    });
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
      const row = await q.collectionNames(this.db, id);
      const merged = { ...(row.names ?? {}), ...input.names };
      for (const [k, v] of Object.entries(merged)) if (!v) delete merged[k];
      set.names = JSON.stringify(merged);
    }
    await q.updateCollection(this.db, id, set);
    await this.audit('collection.update', nickname, actor, { fields: Object.keys(set).filter((k) => k !== 'updated_at') });
    return this.get(nickname);
  }

  async remove(nickname: string, actor: Actor = {}): Promise<void> {
    const id = await this.collectionId(nickname);
    await q.deleteCollection(this.db, id);
    await this.audit('collection.delete', nickname, actor, {});
  }

  async list(): Promise<{ nickname: string; name: string; listed: boolean; entries: number }[]> {
    const rows = await q.listCollections(this.db);
    return rows.map((r) => ({ nickname: r.nickname, name: r.name, listed: r.listed, entries: Number(r.entries) }));
  }

  async get(nickname: string): Promise<CollectionView> {
    const c = await q.collectionByNickname(this.db, nickname);
    if (!c) throw notFound('COLLECTION_NOT_FOUND', `No collection has the nickname "${nickname}". List them with "aslo collection list".`);
    const entries = await q.collectionEntries(this.db, c.id);
    return {
      nickname: c.nickname,
      name: c.name,
      description: c.description,
      names: (c.names ?? {}) as Record<string, string>,
      listed: c.listed,
      created_at: c.created_at.toISOString(),
      updated_at: c.updated_at.toISOString(),
      entries: entries.map((e) => ({
        bundle_id: e.bundle_id,
        activity_status: e.status,
        pinned_version: e.pinned ?? null,
        optional: e.optional,
        position: e.position,
      })),
    };
  }

  /** Entries as the feeds need them: activity ids, pinned version ids, flags, in order. */
  async feedEntries(nickname: string): Promise<{
    collection: { name: string; description: string | null; names: Record<string, string> };
    entries: { activityId: number; pinnedVersionId: number | null; optional: boolean }[];
  } | null> {
    const c = await q.feedCollection(this.db, nickname);
    if (!c) return null;
    const entries = await q.feedCollectionEntries(this.db, c.id);
    return {
      collection: { name: c.name, description: c.description, names: (c.names ?? {}) as Record<string, string> },
      entries: entries.map((e) => ({
        activityId: Number(e.activity_id),
        pinnedVersionId: e.pinned_version_id === null ? null : Number(e.pinned_version_id),
        optional: e.optional,
      })),
    };
  }

  private async activityId(bundleId: string): Promise<number> {
    const id = await q.activityIdByBundleId(this.db, bundleId);
    if (id === undefined) throw notFound('ACTIVITY_NOT_FOUND', `No activity has the bundle id "${bundleId}".`);
    return id;
  }

  private async versionId(activityId: number, bundleId: string, version: string): Promise<number> {
    const norm = normalizedOf(version);
    const id = await q.versionIdOf(this.db, activityId, version, norm);
    if (id === undefined) throw notFound('VERSION_NOT_FOUND', `${bundleId} has no version ${version}.`);
    return id;
  }

  /** Add an activity (or change its entry when already there). */
  async add(
    nickname: string,
    bundleId: string,
    opts: { pin?: string | null; optional?: boolean; position?: number } = {},
    actor: Actor = {},
  ): Promise<CollectionView> {
    const collectionId = await this.collectionId(nickname);
    const activityId = await this.activityId(bundleId);
    const pinned = opts.pin ? await this.versionId(activityId, bundleId, opts.pin) : null;
    const position = opts.position ?? (await q.nextEntryPosition(this.db, collectionId));
    await this.db.transaction().execute(async (trx) => {
      const existing = await q.findEntry(trx, collectionId, activityId);
      if (existing) {
        await q.updateEntry(trx, collectionId, activityId, {
          ...(opts.pin !== undefined ? { pinned_version_id: pinned } : {}),
          ...(opts.optional !== undefined ? { optional: opts.optional } : {}),
          ...(opts.position !== undefined ? { position: opts.position } : {}),
        });
      } else {
        await q.insertEntry(trx, { collectionId, activityId, pinnedVersionId: pinned, optional: opts.optional ?? false, position });
      }
      await q.touchCollection(trx, collectionId);
    });
    await this.audit('collection.add', nickname, actor, { bundle_id: bundleId, pin: opts.pin ?? null, optional: opts.optional ?? null });
    return this.get(nickname);
  }

  async drop(nickname: string, bundleId: string, actor: Actor = {}): Promise<CollectionView> {
    const collectionId = await this.collectionId(nickname);
    const activityId = await this.activityId(bundleId);
    if (!(await q.deleteEntry(this.db, collectionId, activityId)))
      throw notFound('COLLECTION_ENTRY_NOT_FOUND', `${bundleId} is not in the collection "${nickname}".`);
    await q.touchCollection(this.db, collectionId);
    await this.audit('collection.remove', nickname, actor, { bundle_id: bundleId });
    return this.get(nickname);
  }

  /** Pin an entry to a version, or (version null) let it follow the newest compatible one. */
  async pin(nickname: string, bundleId: string, version: string | null, actor: Actor = {}): Promise<CollectionView> {
    const collectionId = await this.collectionId(nickname);
    const activityId = await this.activityId(bundleId);
    const pinned = version ? await this.versionId(activityId, bundleId, version) : null;
    if (!(await q.setEntryPin(this.db, collectionId, activityId, pinned)))
      throw notFound('COLLECTION_ENTRY_NOT_FOUND', `${bundleId} is not in the collection "${nickname}"; add it first.`);
    await q.touchCollection(this.db, collectionId);
    await this.audit(version ? 'collection.pin' : 'collection.unpin', nickname, actor, { bundle_id: bundleId, version });
    return this.get(nickname);
  }
}
