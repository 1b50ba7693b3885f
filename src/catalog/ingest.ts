// The one ingest path used by the CLI, the web upload and the API: validate a bundle, store it
// content-addressed, and create or update its activity, version and file in one transaction.
// A failure at any step leaves no partial rows and no orphan file.
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import { inspectBundle, sugarVersionSortKey, parseSugarVersion, type BundleIssue, type BundleMetadata, type InspectResult } from '../bundles/index.js';
import type { AppContext } from '../platform/context.js';
import type { Database, FileStatus, ActivityStatus } from '../platform/db/schema.js';
import type { StagedFile } from '../platform/storage/file-store.js';
import { AsloError } from '../platform/errors.js';
import { defaultRangeFor } from './compat.js';
import { events } from '../platform/events.js';
import { slugify } from '../platform/slug.js';
import { UNDETERMINED, normalizeLocale } from './locales.js';
import { checkBundleNames, checkNewBundleId } from './bundle-ids.js';
import * as q from './queries.js';

export type IngestOutcome = 'imported' | 'unchanged' | 'rejected';

export interface IngestOptions {
  /** The file name the uploader gave (decides .xo/.xol expectations and the stored name). */
  fileName?: string;
  /** Status for a new activity and its file. Default sandbox. 'public' is for admins and imports. */
  status?: 'sandbox' | 'public';
  /** The uploading user, when there is one. Authors only may add versions of an existing activity. */
  actorUserId?: number | null;
  /** Label for the audit log when there is no user (the CLI). */
  actorLabel?: string;
  actorAddress?: string | null;
  sugarMin?: string | null;
  sugarMax?: string | null;
  releaseNotes?: string | null;
  legacy?: { activityId?: number; versionId?: number; fileId?: number };
  /**
   * The bundle was built by the store from this commit (src/build): recorded in built_sources in
   * the same transaction as the file, as the provenance the activity page shows.
   */
  builtFrom?: BuiltFrom;
  /**
   * Extra checks on the staged upload (the uploader's scan for API tokens left in the bundle),
   * run on every readable upload, accepted or not; the issues it returns are added as warnings.
   */
  inspectStaged?: (tempPath: string, bundleId: string | null) => Promise<BundleIssue[]>;
}

export interface BuiltFrom {
  repository: string;
  commit: string;
  tag: string | null;
  builder: string;
  committedAt: string | null;
}

export interface IngestResult {
  outcome: IngestOutcome;
  errors: BundleIssue[];
  warnings: BundleIssue[];
  bundleId?: string;
  version?: string;
  activityId?: number;
  versionId?: number;
  fileId?: number;
  sha256?: string;
  size?: number;
  fileStatus?: FileStatus;
  activityStatus?: ActivityStatus;
}

/** An ingest issue; `params` are the variable parts of the message, for its translations (src/bundles/i18n.ts). */
function issue(code: string, message: string, params?: BundleIssue['params']): BundleIssue {
  return params ? { code, message, file: null, line: null, params } : { code, message, file: null, line: null };
}

export class IngestService {
  constructor(private readonly ctx: AppContext) {}

  async ingestPath(path: string, opts: IngestOptions = {}): Promise<IngestResult> {
    return this.ingestStream(createReadStream(path), { ...opts, fileName: opts.fileName ?? basename(path) });
  }

  async ingestStream(source: Readable, opts: IngestOptions = {}): Promise<IngestResult> {
    const limits = this.ctx.config.bundles;
    let staged: StagedFile;
    try {
      staged = await this.ctx.files.stage(source, { maxBytes: limits.maxUploadBytes });
    } catch (err) {
      if (err instanceof AsloError) return { outcome: 'rejected', errors: [issue(err.code, err.message)], warnings: [] };
      throw err;
    }
    let committedNewFile = false;
    let raceKey: { bundleId: string; versionNormalized: string } | null = null;
    try {
      const inspected = await inspectBundle(staged.tempPath, {
        fileName: opts.fileName,
        limits: {
          maxEntries: limits.maxEntries,
          maxUncompressedBytes: limits.maxUncompressedBytes,
          maxCompressionRatio: limits.maxCompressionRatio,
          maxEntryBytes: limits.maxEntryBytes,
        },
      });
      const extra = opts.inspectStaged ? await opts.inspectStaged(staged.tempPath, inspected.metadata?.bundle_id ?? null) : [];
      const warnings = [...inspected.warnings, ...extra];
      if (!inspected.ok || !inspected.metadata) {
        return { outcome: 'rejected', errors: inspected.errors, warnings, sha256: staged.sha256, size: staged.size };
      }
      const meta = inspected.metadata;
      raceKey = { bundleId: meta.bundle_id, versionNormalized: meta.version_normalized };
      const base = { bundleId: meta.bundle_id, version: meta.version, sha256: staged.sha256, size: staged.size, warnings };

      const existing = await q.fileBySha256(this.ctx.db, staged.sha256);
      if (existing) {
        // "This exact file is here already" tells about the version it belongs to: only its
        // authors (and editors, admins) may hear that about a version that is not public.
        // Anyone else gets the answer a different file of the same id would get.
        if (
          opts.actorUserId &&
          !(existing.status === 'public' && existing.activityStatus === 'public') &&
          !(await mayKnowVersion(this.ctx, opts.actorUserId, existing.activityId))
        ) {
          return {
            ...base,
            outcome: 'rejected',
            errors: [
              issue(
                'INGEST_NOT_AUTHOR',
                `The bundle id ${meta.bundle_id} belongs to another activity's authors. Only they can publish versions of it; use your own bundle_id.`,
                { bundle_id: meta.bundle_id },
              ),
            ],
          };
        }
        if (opts.builtFrom) await q.upsertBuiltSource(this.ctx.db, opts.builtFrom, existing.fileId, existing.activityId);
        return {
          ...base,
          outcome: 'unchanged',
          errors: [],
          activityId: existing.activityId,
          versionId: existing.versionId,
          fileId: existing.fileId,
          fileStatus: existing.status,
          activityStatus: existing.activityStatus,
        };
      }

      const rangeError = this.checkRange(opts);
      if (rangeError) return { ...base, outcome: 'rejected', errors: [rangeError] };
      // A person's upload: names must not reorder on display (src/catalog/bundle-ids.ts).
      const nameError = opts.actorUserId ? checkBundleNames(meta) : null;
      if (nameError) return { ...base, outcome: 'rejected', errors: [nameError] };

      const storeKeyExisted = await this.ctx.files.has(staged.sha256);
      const result = await this.ctx.db.transaction().execute(async (trx) => {
        const rows = await this.writeRows(trx, inspected, meta, staged, opts);
        if ('rejected' in rows) return rows;
        // Move the bytes into place last: if this fails the transaction rolls back; if the
        // commit fails after it, the file is removed again below.
        await this.ctx.files.commit(staged);
        committedNewFile = !storeKeyExisted;
        return rows;
      });
      if ('rejected' in result) return { ...base, outcome: 'rejected', errors: [result.rejected] };
      // Committed: tell the updater's in-memory index in every process (never throws).
      await events.emit('catalog.changed', { ctx: this.ctx, activityIds: [result.activityId] });
      if (result.fileStatus === 'public') {
        // Into the repo tree (src/downloads/repo.ts). A failure to queue that fails the upload,
        // as it always has: the caller hears of it and can retry.
        const failures: unknown[] = [];
        await events.emit('file.statusChanged', { ctx: this.ctx, fileIds: [result.fileId] }, { onError: (err) => failures.push(err) });
        if (failures.length > 0) throw failures[0];
      }
      return { ...base, outcome: 'imported', errors: [], ...result };
    } catch (err) {
      if (committedNewFile) await this.removeUnlessRecorded(staged.sha256);
      if (isUniqueViolation(err) && (await this.anotherUploadWon(err, staged.sha256, raceKey))) {
        // Another upload of the same bytes or version won a race: report it like a sequential one.
        return {
          outcome: 'rejected',
          errors: [
            issue('INGEST_CONFLICT', 'Another upload of this activity version finished at the same moment. Check the catalog, then retry if it is missing.'),
          ],
          warnings: [],
        };
      }
      throw err;
    } finally {
      await this.ctx.files.discard(staged);
    }
  }

  /**
   * After a failed transaction whose file was already moved into place. When COMMIT itself failed
   * (the connection dropped while it ran) the transaction may have committed all the same, so the
   * file goes only when the primary says that no row holds it. If that cannot be asked, the file
   * stays: a stored file without a row is harmless (and found by \`aslo repo verify\`), a row
   * without its file is a broken download.
   */
  private async removeUnlessRecorded(sha256: string): Promise<void> {
    try {
      // In a transaction: on the primary, never a replica that may not have the row yet.
      const held = await this.ctx.db.transaction().execute((trx) => q.fileIdBySha256(trx, sha256));
      if (!held) await this.ctx.files.remove(sha256);
    } catch {
      // Outcome unknown: keep the file.
    }
  }

  /**
   * Whether a unique-key error means another upload of the same bytes or version really won:
   * the key is one two uploads race for, and the winner's row is there now. Anything else (a
   * sequence behind its table, a damaged index) is a database error, reported as what it is.
   */
  private async anotherUploadWon(err: unknown, sha256: string, key: { bundleId: string; versionNormalized: string } | null): Promise<boolean> {
    const constraint = (err as { constraint?: string }).constraint;
    if (!constraint || !RACE_CONSTRAINTS.has(constraint) || !key) return false;
    const db = this.ctx.db;
    if (constraint === 'files_sha256_key') {
      return Boolean(await q.fileIdBySha256(db, sha256));
    }
    const activity = await q.activityIdByBundleId(db, key.bundleId);
    if (!activity) return false;
    if (constraint === 'activities_bundle_id_key') return true;
    return Boolean(await q.versionIdByNormalized(db, activity.id, key.versionNormalized));
  }

  private checkRange(opts: IngestOptions): BundleIssue | null {
    for (const [key, v] of [
      ['sugarMin', opts.sugarMin],
      ['sugarMax', opts.sugarMax],
    ] as const) {
      if (v && !parseSugarVersion(v).valid) return issue('INGEST_BAD_SUGAR_RANGE', `${key} "${v}" is not a Sugar version (like 0.112).`, { key, value: v });
    }
    if (opts.sugarMin && opts.sugarMax && sugarVersionSortKey(opts.sugarMin) > sugarVersionSortKey(opts.sugarMax)) {
      return issue('INGEST_BAD_SUGAR_RANGE', `The Sugar range ${opts.sugarMin}-${opts.sugarMax} is empty: the minimum is above the maximum.`, {
        variant: 'empty',
        min: opts.sugarMin,
        max: opts.sugarMax,
      });
    }
    return null;
  }

  private async writeRows(
    trx: Transaction<Database>,
    inspected: InspectResult,
    meta: BundleMetadata,
    staged: StagedFile,
    opts: IngestOptions,
  ): Promise<{ rejected: BundleIssue } | { activityId: number; versionId: number; fileId: number; fileStatus: FileStatus; activityStatus: ActivityStatus }> {
    const now = new Date();
    let activity = await q.activityForIngest(trx, meta.bundle_id);
    const isNew = !activity;
    if (activity) {
      if (activity.kind !== inspected.kind) {
        return {
          rejected: issue('INGEST_KIND_MISMATCH', `${meta.bundle_id} is an existing ${activity.kind} bundle; this upload is a ${inspected.kind} bundle.`, {
            variant: activity.kind,
            bundle_id: meta.bundle_id,
          }),
        };
      }
      if (opts.actorUserId) {
        const author = await q.authorRole(trx, activity.id, opts.actorUserId);
        if (!author) {
          return {
            rejected: issue(
              'INGEST_NOT_AUTHOR',
              `The bundle id ${meta.bundle_id} belongs to another activity's authors. Only they can publish versions of it; use your own bundle_id.`,
              { bundle_id: meta.bundle_id },
            ),
          };
        }
        if (activity.status === 'disabled') {
          return {
            rejected: issue(
              'INGEST_ACTIVITY_DISABLED',
              `${meta.bundle_id} was disabled by the editors, so it takes no new versions. Its review history tells why; reply to the editors before uploading again.`,
              { bundle_id: meta.bundle_id },
            ),
          };
        }
      }
      const clash = await q.versionByNormalized(trx, activity.id, meta.version_normalized);
      if (clash) {
        return {
          rejected: issue(
            'INGEST_VERSION_EXISTS',
            `${meta.bundle_id} already has version ${clash.version}, and this different file has the same version number (${meta.version}). Raise activity_version in activity/activity.info and build the bundle again.`,
            { bundle_id: meta.bundle_id, existing: clash.version, version: meta.version },
          ),
        };
      }
    } else {
      // A new id from a person: no look-alike of another author's id, no unsafe characters.
      // (The operator's `aslo import` brings ids that laptops already have: taken as they are.)
      if (opts.actorUserId) {
        const idError = await checkNewBundleId(trx, meta.bundle_id, opts.actorUserId);
        if (idError) return { rejected: idError };
      }
      const status: ActivityStatus = opts.status === 'public' ? 'public' : 'sandbox';
      activity = await q.insertActivity(trx, {
        bundle_id: meta.bundle_id,
        kind: inspected.kind,
        status,
        status_changed_at: now,
        homepage_url: safeUrl(meta.url),
        repository_url: safeUrl(meta.repository),
        legacy_id: opts.legacy?.activityId ?? null,
        created_at: now,
        updated_at: now,
        download_count: 0,
      });
      if (opts.actorUserId) {
        await q.insertOwner(trx, activity.id, opts.actorUserId, now);
      }
    }

    const fileStatus: FileStatus = opts.status === 'public' ? 'public' : activity.status === 'public' ? (activity.trusted ? 'public' : 'pending') : 'sandbox';

    const derived = defaultRangeFor(meta.runtime);
    const explicit = Boolean(opts.sugarMin || opts.sugarMax);
    const sugarMin = explicit ? (opts.sugarMin ?? null) : derived.min;
    const sugarMax = explicit ? (opts.sugarMax ?? null) : derived.max;

    const version = await q.insertVersion(trx, {
      activity_id: activity.id,
      version: meta.version,
      version_normalized: meta.version_normalized,
      sort_key: meta.version_sort_key,
      release_notes: opts.releaseNotes ?? null,
      sugar_min: sugarMin,
      sugar_max: sugarMax,
      sugar_min_key: sugarMin ? sugarVersionSortKey(sugarMin) : null,
      sugar_max_key: sugarMax ? sugarVersionSortKey(sugarMax) : null,
      sugar_range_origin: explicit ? 'uploader' : 'runtime',
      runtime: meta.runtime,
      exec: meta.exec,
      licenses: meta.license,
      metadata: JSON.stringify(stripHeavy(meta)),
      icon_svg: meta.icon_svg,
      uploaded_by: opts.actorUserId ?? null,
      legacy_id: opts.legacy?.versionId ?? null,
      created_at: now,
    });

    const ext = inspected.kind === 'content' ? 'xol' : 'xo';
    const file = await q.insertFile(trx, {
      version_id: version.id,
      sha256: staged.sha256,
      sha1: staged.sha1,
      md5: staged.md5,
      size: staged.size,
      storage_key: staged.sha256,
      file_name: downloadName(meta, ext),
      status: fileStatus,
      status_changed_at: now,
      piece_length: staged.pieceLength,
      piece_hashes: staged.pieceHashes,
      validation: JSON.stringify({ warnings: inspected.warnings }),
      legacy_id: opts.legacy?.fileId ?? null,
      created_at: now,
    });

    if (opts.builtFrom) await q.upsertBuiltSource(trx, opts.builtFrom, file.id, activity.id);

    // The newest version's bundle texts, tags and icon describe the activity.
    const newest = await q.newestVersionId(trx, activity.id);
    if (newest.id === version.id) await this.refreshActivityFromBundle(trx, activity.id, meta);

    await q.updateActivity(trx, activity.id, {
      updated_at: now,
      ...(fileStatus === 'public' ? { last_published_at: now } : {}),
    });

    await q.insertAuditRow(trx, {
      at: now,
      actor_user_id: opts.actorUserId ?? null,
      actor_label: opts.actorLabel ?? null,
      actor_address: opts.actorAddress ?? null,
      action: isNew ? 'activity.create' : 'version.add',
      target_type: 'activity',
      target_id: meta.bundle_id,
      reason: null,
      details: JSON.stringify({ version: meta.version, sha256: staged.sha256, size: staged.size, fileStatus }),
    });

    return { activityId: activity.id, versionId: version.id, fileId: file.id, fileStatus, activityStatus: activity.status };
  }

  private async refreshActivityFromBundle(trx: Transaction<Database>, activityId: number, meta: BundleMetadata): Promise<void> {
    const now = new Date();
    const rows: { locale: string; name: string | null; summary: string | null; description: string | null }[] = [
      { locale: UNDETERMINED, name: meta.name, summary: meta.summary, description: meta.description },
    ];
    for (const [raw, loc] of Object.entries(meta.locales)) {
      const locale = normalizeLocale(raw);
      if (!locale || locale === UNDETERMINED || rows.some((r) => r.locale === locale)) continue;
      if (!loc.name && !loc.summary) continue;
      rows.push({ locale, name: loc.name ?? null, summary: loc.summary ?? null, description: null });
    }
    await q.replaceBundleTexts(trx, activityId, rows, now);

    await q.updateActivity(trx, activityId, { icon_svg: meta.icon_svg });

    await q.deleteActivityTags(trx, activityId);
    const tags = [...new Map(meta.tags.map((t) => [slugify(t), t.trim()])).entries()].filter(([slug]) => slug);
    if (tags.length > 0) await q.addActivityTags(trx, activityId, tags);
  }
}

/** `<Name>-<version>.xo`, with only characters that are safe in a URL path and a file name. */
export function downloadName(meta: Pick<BundleMetadata, 'name' | 'version' | 'bundle_id'>, ext: 'xo' | 'xol'): string {
  const base = slugify(meta.name).replace(/-/g, '_') || slugify(meta.bundle_id).replace(/-/g, '_') || 'activity';
  const version = meta.version.replace(/[^0-9A-Za-z.~-]/g, '');
  return `${base}-${version}.${ext}`;
}

function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

/** The stored metadata keeps everything but the icon text (stored in its own column). */
function stripHeavy(meta: BundleMetadata): Record<string, unknown> {
  const { icon_svg: _icon, ...rest } = meta;
  return rest as unknown as Record<string, unknown>;
}

/** An author of the activity, or an editor or admin: may know its non-public versions exist. */
async function mayKnowVersion(ctx: AppContext, userId: number, activityId: number): Promise<boolean> {
  const user = await q.userRole(ctx.db, userId);
  if (user && (user.role === 'editor' || user.role === 'admin')) return true;
  const author = await q.authorRole(ctx.db, activityId, userId);
  return Boolean(author);
}

/** The unique keys two uploads of one activity version can race for, and nothing else. */
const RACE_CONSTRAINTS = new Set(['activities_bundle_id_key', 'versions_activity_id_version_normalized_key', 'files_sha256_key', 'files_repo_path_key']);

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}
