// Listing editing in the developer hub: localized name/summary/description overrides
// (descriptions sanitized to p/ul/ol/li), tags, categories, homepage and support links, the
// Sugar range and release notes of each version, and screenshots (content sniffed, dimensions
// checked, resized). Authors only (administrators too); every change is audited.
import { Readable } from 'node:stream';
import type { Metadata } from 'sharp';
import type { AppContext } from '../platform/context.js';
import type { Db } from '../platform/db/index.js';
import { AsloError } from '../platform/errors.js';
import { parseSugarVersion, sanitizeDescription, sugarVersionSortKey } from '../bundles/index.js';
import { normalizeLocale, UNDETERMINED } from '../catalog/locales.js';
import { slugify } from '../platform/slug.js';
import { canSeeHidden, requireAuthor, type Viewer } from '../accounts/access.js';
import { audit } from '../platform/audit/index.js';
import { events } from '../platform/events.js';
import { hasBidiOverride } from '../platform/text.js';
import * as q from './queries/listing.js';

export const SCREENSHOT_MAX_BYTES = 10 * 1024 * 1024;
export const SCREENSHOT_MIN = { width: 200, height: 150 };
export const SCREENSHOT_MAX_INPUT = { width: 8000, height: 8000 };
export const SCREENSHOT_BOX = { width: 1280, height: 960 };
export const MAX_SCREENSHOTS = 10;
const FORMATS: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

export interface ListingInput {
  locale?: string;
  name?: string;
  summary?: string;
  description?: string;
  homepage_url?: string;
  support_url?: string;
  tags?: string;
  categories?: string[];
}

function text(v: unknown, field: string, max: number): string | null {
  const s = typeof v === 'string' ? v.trim() : '';
  if (s.length > max) throw new AsloError('LISTING_FIELD_TOO_LONG', `${field} may have at most ${max} characters.`, { details: { field } });
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s))
    throw new AsloError('LISTING_FIELD_INVALID', `${field} contains control characters.`, { details: { field } });
  return s || null;
}

function link(v: unknown, field: string): string | null {
  const s = typeof v === 'string' ? v.trim() : '';
  if (!s) return null;
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.toString();
  } catch {
    /* below */
  }
  throw new AsloError('LISTING_LINK_INVALID', `${field} must be an http:// or https:// address.`, { details: { field } });
}

export class ListingService {
  constructor(private readonly ctx: AppContext) {}

  private get db(): Db {
    return this.ctx.db;
  }

  async update(viewer: Viewer, activityId: number, input: ListingInput): Promise<void> {
    const actor = await requireAuthor(this.db, viewer, activityId, { orAdmin: true });
    const localeRaw = (input.locale ?? '').trim();
    const locale = localeRaw === '' || localeRaw === UNDETERMINED ? UNDETERMINED : normalizeLocale(localeRaw);
    if (!locale) throw new AsloError('LISTING_LOCALE_INVALID', `"${localeRaw}" is not a locale (like en, es, pt-BR).`, { details: { field: 'locale' } });
    const name = text(input.name, 'name', 100);
    if (name && hasBidiOverride(name))
      throw new AsloError(
        'NAME_BIDI_OVERRIDE',
        'The name contains bidirectional embedding, override or isolate characters (U+202A to U+202E, U+2066 to U+2069), which make it display as something else. Remove them.',
        { details: { field: 'name' } },
      );
    const summary = text(input.summary, 'summary', 300);
    const descriptionRaw = text(input.description, 'description', 20_000);
    const description = descriptionRaw
      ? sanitizeDescription(
          /<[a-z]/i.test(descriptionRaw)
            ? descriptionRaw
            : descriptionRaw
                .split(/\n\s*\n/)
                .map((p) => `<p>${p.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)}</p>`)
                .join(''),
        ) || null
      : null;
    const homepage = link(input.homepage_url, 'homepage_url');
    const support = link(input.support_url, 'support_url');
    const tags = [
      ...new Map(
        (input.tags ?? '')
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
          .map((t) => [slugify(t), t.slice(0, 60)] as const),
      ).entries(),
    ].filter(([slug]) => slug);
    if (tags.length > 20) throw new AsloError('LISTING_TOO_MANY_TAGS', 'At most 20 tags.', { details: { field: 'tags' } });
    const wanted = [...new Set(input.categories ?? [])];
    const cats = wanted.length ? await q.categoriesBySlug(this.db, wanted) : [];
    if (cats.length !== wanted.length)
      throw new AsloError('LISTING_CATEGORY_UNKNOWN', `Unknown category: ${wanted.filter((w) => !cats.some((c) => c.slug === w)).join(', ')}.`, {
        details: { field: 'categories' },
      });
    const a = await q.bundleIdOf(this.db, activityId);
    await this.db.transaction().execute(async (trx) => {
      const now = new Date();
      await q.replaceListing(trx, activityId, { locale, name, summary, description, homepage, support, tags, categoryIds: cats.map((c) => c.id) }, now);
      await audit(trx, {
        actor,
        action: 'listing.update',
        targetType: 'activity',
        targetId: a.bundle_id,
        details: { locale, name, summary, homepage, support, tags: tags.map(([s]) => s), categories: wanted },
      });
    });
    // Names and summaries appear in the updater's feeds and index: tell every process.
    await events.emit('catalog.changed', { ctx: this.ctx, activityIds: [activityId] });
  }

  async updateVersion(
    viewer: Viewer,
    activityId: number,
    versionId: number,
    input: { sugar_min?: string; sugar_max?: string; release_notes?: string },
  ): Promise<void> {
    const actor = await requireAuthor(this.db, viewer, activityId, { orAdmin: true });
    const v = await q.versionOf(this.db, activityId, versionId);
    if (!v) throw new AsloError('VERSION_NOT_FOUND', `This activity has no version #${versionId}.`, { statusCode: 404 });
    const min = (input.sugar_min ?? '').trim() || null;
    const max = (input.sugar_max ?? '').trim() || null;
    for (const [field, val] of [
      ['sugar_min', min],
      ['sugar_max', max],
    ] as const) {
      if (val && !parseSugarVersion(val).valid)
        throw new AsloError('VERSION_BAD_SUGAR_RANGE', `${field} "${val}" is not a Sugar version (like 0.112).`, { details: { field } });
    }
    if (min && max && sugarVersionSortKey(min) > sugarVersionSortKey(max))
      throw new AsloError('VERSION_BAD_SUGAR_RANGE', `The range ${min}-${max} is empty.`, { details: { field: 'sugar_max' } });
    const notes = text(input.release_notes, 'release_notes', 20_000);
    const a = await q.bundleIdOf(this.db, activityId);
    await this.db.transaction().execute(async (trx) => {
      await q.setVersionRange(trx, versionId, {
        sugarMin: min,
        sugarMax: max,
        sugarMinKey: min ? sugarVersionSortKey(min) : null,
        sugarMaxKey: max ? sugarVersionSortKey(max) : null,
        releaseNotes: notes,
      });
      await audit(trx, {
        actor,
        action: 'version.update',
        targetType: 'activity',
        targetId: a.bundle_id,
        details: { version: v.version, sugar_min: min, sugar_max: max },
      });
    });
    // A new Sugar range changes which laptops are offered this version: tell every process.
    await events.emit('catalog.changed', { ctx: this.ctx, activityIds: [activityId] });
  }

  async addScreenshot(viewer: Viewer, activityId: number, source: Readable, caption: string | null): Promise<number> {
    const actor = await requireAuthor(this.db, viewer, activityId, { orAdmin: true });
    const count = await q.screenshotCount(this.db, activityId);
    if (Number(count.n) >= MAX_SCREENSHOTS)
      throw new AsloError('SCREENSHOT_TOO_MANY', `An activity has at most ${MAX_SCREENSHOTS} screenshots: delete one first.`, { statusCode: 409 });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of source) {
      size += (c as Buffer).length;
      if (size > SCREENSHOT_MAX_BYTES) {
        source.resume();
        throw new AsloError('SCREENSHOT_TOO_LARGE', `A screenshot file may have at most ${SCREENSHOT_MAX_BYTES / 1024 / 1024} MiB.`, { statusCode: 413 });
      }
      chunks.push(c as Buffer);
    }
    const input = Buffer.concat(chunks);
    // The declared content type is not trusted: the bytes decide.
    // sharp (native image library) loads with the first screenshot, not at every start.
    const sharp = (await import('sharp')).default;
    let meta: Metadata;
    try {
      meta = await sharp(input, { limitInputPixels: SCREENSHOT_MAX_INPUT.width * SCREENSHOT_MAX_INPUT.height }).metadata();
    } catch {
      throw new AsloError('SCREENSHOT_NOT_IMAGE', 'This file is not a PNG, JPEG or WebP image.', { statusCode: 415 });
    }
    const format = meta.format && FORMATS[meta.format] ? meta.format : null;
    if (!format)
      throw new AsloError('SCREENSHOT_NOT_IMAGE', `Screenshots are PNG, JPEG or WebP images; this one is ${meta.format ?? 'not an image'}.`, {
        statusCode: 415,
      });
    const w = meta.width ?? 0;
    const h = meta.height ?? 0;
    if (w < SCREENSHOT_MIN.width || h < SCREENSHOT_MIN.height)
      throw new AsloError('SCREENSHOT_TOO_SMALL', `A screenshot is at least ${SCREENSHOT_MIN.width}x${SCREENSHOT_MIN.height} pixels; this one is ${w}x${h}.`);
    if (w > SCREENSHOT_MAX_INPUT.width || h > SCREENSHOT_MAX_INPUT.height)
      throw new AsloError('SCREENSHOT_TOO_BIG', `A screenshot is at most ${SCREENSHOT_MAX_INPUT.width}x${SCREENSHOT_MAX_INPUT.height} pixels.`);
    // Re-encode (drops metadata such as GPS tags), fit into the display box.
    const pipeline = sharp(input).rotate().resize({ width: SCREENSHOT_BOX.width, height: SCREENSHOT_BOX.height, fit: 'inside', withoutEnlargement: true });
    const out = await (format === 'jpeg' ? pipeline.jpeg({ quality: 85 }) : format === 'webp' ? pipeline.webp({ quality: 85 }) : pipeline.png()).toBuffer({
      resolveWithObject: true,
    });
    const staged = await this.ctx.files.stage(Readable.from([out.data]));
    const a = await q.bundleIdOf(this.db, activityId);
    try {
      return await this.db.transaction().execute(async (trx) => {
        // Serialized with the clean-up of a deleted screenshot with the same bytes (releaseStored).
        await q.lockStorageKey(trx, staged.sha256);
        const id = await q.insertScreenshot(trx, {
          activityId,
          position: Number(count.n),
          storageKey: staged.sha256,
          contentType: FORMATS[format]!,
          width: out.info.width,
          height: out.info.height,
          captions: caption ? { und: caption.slice(0, 300) } : {},
        });
        await audit(trx, {
          actor,
          action: 'screenshot.add',
          targetType: 'activity',
          targetId: a.bundle_id,
          details: { screenshot: id, width: out.info.width, height: out.info.height },
        });
        await this.ctx.files.commit(staged);
        return id;
      });
    } finally {
      await this.ctx.files.discard(staged);
    }
  }

  async deleteScreenshot(viewer: Viewer, activityId: number, screenshotId: number): Promise<void> {
    const actor = await requireAuthor(this.db, viewer, activityId, { orAdmin: true });
    const a = await q.bundleIdOf(this.db, activityId);
    const key = await this.db.transaction().execute(async (trx) => {
      const storageKey = await q.deleteScreenshot(trx, activityId, screenshotId);
      if (storageKey === undefined) throw new AsloError('SCREENSHOT_NOT_FOUND', `This activity has no screenshot #${screenshotId}.`, { statusCode: 404 });
      await audit(trx, { actor, action: 'screenshot.delete', targetType: 'activity', targetId: a.bundle_id, details: { screenshot: screenshotId } });
      return storageKey;
    });
    // Only once the row is gone for good: the bytes, unless another row still uses them.
    await this.releaseStored(key);
  }

  /**
   * Remove a stored file that no screenshot and no bundle file references any more. The store is
   * content-addressed, so the same bytes may back several rows. Runs under the key's advisory lock,
   * which addScreenshot also takes before it commits its file, so a screenshot being added with
   * the same bytes at the same moment never loses them. A failure leaves an orphan, never a hole.
   */
  private async releaseStored(key: string): Promise<void> {
    try {
      await this.db.transaction().execute(async (trx) => {
        await q.lockStorageKey(trx, key);
        if (!(await q.storageKeyInUse(trx, key))) await this.ctx.files.remove(key);
      });
    } catch (err) {
      process.emitWarning(`aslo: could not remove the stored file ${key}: ${(err as Error).message}`);
    }
  }

  /** A screenshot's bytes: public when its activity is public, otherwise for authors and editors. */
  async screenshot(viewer: () => Promise<Viewer>, id: number) {
    const s = await q.screenshotWithActivity(this.db, id);
    if (!s || (s.status !== 'public' && !(await canSeeHidden(this.db, await viewer(), s.activity_id))))
      throw new AsloError('SCREENSHOT_NOT_FOUND', `No screenshot #${id}.`, { statusCode: 404 });
    return { ...s, public: s.status === 'public' };
  }
}
