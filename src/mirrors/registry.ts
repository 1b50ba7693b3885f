// The mirror registry: validation with stable error codes, add (location and AS filled from the
// geo database when not given), edit, enable/disable, remove, and what the admin page and
// `aslo mirror show` print (health, verified files). Every change is audited and reaches the
// redirector (and the verifier) at once in this process, within seconds in the others.
import { lookup as dnsLookup } from 'node:dns/promises';
import type { AppContext } from '../platform/context.js';
import type { Continent, MirrorRow } from '../platform/db/schema.js';
import { AsloError, type ErrorCode } from '../platform/errors.js';
import type { Actor } from '../accounts/access.js';
import { audit } from '../platform/audit/index.js';
import { GeoService } from '../geo/index.js';
import { parseCidr, parseIp } from '../geo/ip.js';
import { CONTINENTS, continentOf } from '../geo/continents.js';
import { events } from '../platform/events.js';
import { MirrorChecker } from './checks.js';
import * as q from './queries.js';

export interface MirrorInput {
  name?: string;
  httpUrl?: string | null;
  httpsUrl?: string | null;
  rsyncUrl?: string | null;
  operator?: string | null;
  contact?: string | null;
  country?: string | null;
  continent?: string | null;
  asn?: number | string | null;
  prefixes?: string[];
  latitude?: number | string | null;
  longitude?: number | string | null;
  weight?: number | string;
  countryOnly?: boolean;
  continentOnly?: boolean;
  asOnly?: boolean;
  maxFileSize?: number | string | null;
  enabled?: boolean;
}

export interface MirrorStats {
  verified: number;
  pending: number;
  failed: number;
}

export type MirrorView = MirrorRow & { stats: MirrorStats };

function bad(code: ErrorCode, message: string, field: string): AsloError {
  return new AsloError(code, message, { statusCode: 400, details: { field } });
}

function url(v: string | null | undefined, scheme: 'http:' | 'https:' | 'rsync:', field: string): string | null {
  if (v === undefined || v === null || v.trim() === '') return null;
  let u: URL;
  try {
    u = new URL(v.trim());
  } catch {
    throw bad('MIRROR_URL_INVALID', `${field} "${v}" is not a URL.`, field);
  }
  if (u.protocol !== scheme) throw bad('MIRROR_URL_INVALID', `${field} must start with ${scheme}// (got "${v}").`, field);
  if (u.search || u.hash) throw bad('MIRROR_URL_INVALID', `${field} must not have a query or fragment.`, field);
  if (u.username || u.password) throw bad('MIRROR_URL_INVALID', `${field} must not hold a user name or password.`, field);
  return u.toString().replace(/\/+$/, '');
}

function num(
  v: number | string | null | undefined,
  field: string,
  code: ErrorCode,
  opts: { min?: number; max?: number; integer?: boolean } = {},
): number | null {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return null;
  const n = typeof v === 'number' ? v : Number(v.trim());
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    const range =
      opts.min !== undefined && opts.max !== undefined ? ` between ${opts.min} and ${opts.max}` : opts.min !== undefined ? ` of at least ${opts.min}` : '';
    throw bad(code, `${field} must be a${opts.integer ? ' whole' : ''} number${range} (got "${v}").`, field);
  }
  return n;
}

function text(v: string | null | undefined, max: number, field: string): string | null {
  if (v === undefined || v === null) return null;
  const t = v.trim();
  if (t.length > max) throw bad('MIRROR_FIELD_TOO_LONG', `${field} is longer than ${max} characters.`, field);
  return t || null;
}

/** Validate the given fields (only those present) into column values. */
export function validateMirror(input: MirrorInput, partial: boolean): Partial<MirrorRow> {
  const out: Partial<MirrorRow> = {};
  if (input.name !== undefined || !partial) {
    const name = (input.name ?? '').trim().toLowerCase();
    if (!/^[a-z0-9][a-z0-9.-]{0,62}$/.test(name))
      throw bad('MIRROR_NAME_INVALID', 'A mirror name is 1-63 lowercase letters, digits, dots or hyphens (like "mirror.example.org").', 'name');
    out.name = name;
  }
  if (input.httpUrl !== undefined) out.http_url = url(input.httpUrl, 'http:', 'HTTP URL');
  if (input.httpsUrl !== undefined) out.https_url = url(input.httpsUrl, 'https:', 'HTTPS URL');
  if (input.rsyncUrl !== undefined) out.rsync_url = url(input.rsyncUrl, 'rsync:', 'rsync URL');
  if (input.operator !== undefined) out.operator = text(input.operator, 200, 'operator');
  if (input.contact !== undefined) out.contact = text(input.contact, 200, 'contact');
  if (input.country !== undefined) {
    const c = input.country?.trim().toUpperCase() || null;
    if (c !== null && (!/^[A-Z]{2}$/.test(c) || !continentOf(c)))
      throw bad('MIRROR_COUNTRY_INVALID', `Country "${input.country}" is not an ISO 3166-1 two-letter code (like DE, PE, US).`, 'country');
    out.country = c;
  }
  if (input.continent !== undefined) {
    const c = input.continent?.trim().toUpperCase() || null;
    if (c !== null && !CONTINENTS.includes(c))
      throw bad('MIRROR_CONTINENT_INVALID', `Continent "${input.continent}" must be one of ${CONTINENTS.join(', ')}.`, 'continent');
    out.continent = c as Continent | null;
  }
  if (input.asn !== undefined) {
    const raw = typeof input.asn === 'string' ? input.asn.trim().replace(/^AS/i, '') : input.asn;
    out.asn = num(raw, 'AS number', 'MIRROR_ASN_INVALID', { min: 1, max: 4294967295, integer: true });
  }
  if (input.prefixes !== undefined) {
    const list: string[] = [];
    for (const p of input.prefixes.flatMap((x) => x.split(/[\s,]+/)).filter(Boolean)) {
      const c = parseCidr(p);
      if (!c) throw bad('MIRROR_PREFIX_INVALID', `"${p}" is not a network prefix (like 192.0.2.0/24 or 2001:db8::/32).`, 'prefixes');
      list.push(c.text);
    }
    out.prefixes = [...new Set(list)];
  }
  if (input.latitude !== undefined) out.latitude = num(input.latitude, 'latitude', 'MIRROR_COORDINATES_INVALID', { min: -90, max: 90 });
  if (input.longitude !== undefined) out.longitude = num(input.longitude, 'longitude', 'MIRROR_COORDINATES_INVALID', { min: -180, max: 180 });
  if (input.weight !== undefined) out.weight = num(input.weight, 'weight', 'MIRROR_WEIGHT_INVALID', { min: 0, max: 1_000_000, integer: true }) ?? 100;
  if (input.countryOnly !== undefined) out.country_only = input.countryOnly;
  if (input.continentOnly !== undefined) out.continent_only = input.continentOnly;
  if (input.asOnly !== undefined) out.as_only = input.asOnly;
  if (input.maxFileSize !== undefined)
    out.max_file_size = num(input.maxFileSize, 'largest file size', 'MIRROR_SIZE_INVALID', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });
  if (input.enabled !== undefined) out.enabled = input.enabled;
  return out;
}

function checkWhole(m: Partial<MirrorRow>): void {
  if (!m.http_url && !m.https_url) throw bad('MIRROR_NO_URL', 'A mirror needs an HTTP or an HTTPS base URL (or both).', 'httpUrl');
  if ((m.latitude === null) !== (m.longitude === null)) throw bad('MIRROR_COORDINATES_INVALID', 'Give both latitude and longitude, or neither.', 'latitude');
  if (m.country_only && !m.country) throw bad('MIRROR_RESTRICTION_INVALID', 'A mirror restricted to its country needs a country.', 'country');
  if (m.continent_only && !m.continent) throw bad('MIRROR_RESTRICTION_INVALID', 'A mirror restricted to its continent needs a continent.', 'continent');
  if (m.as_only && !m.asn) throw bad('MIRROR_RESTRICTION_INVALID', 'A mirror restricted to its AS needs an AS number.', 'asn');
}

export interface ChangeActor {
  actor: Actor | null;
  label?: string;
}

export class MirrorRegistry {
  private readonly checker: MirrorChecker;

  constructor(
    private readonly ctx: AppContext,
    private readonly geo: GeoService = GeoService.forConfig(ctx.config),
  ) {
    this.checker = new MirrorChecker(ctx);
  }

  async list(): Promise<MirrorView[]> {
    const rows = await q.allMirrors(this.ctx.db);
    const stats = await q.mirrorFileCounts(this.ctx.db);
    return rows.map((r) => {
      const s: MirrorStats = { verified: 0, pending: 0, failed: 0 };
      for (const x of stats) if (Number(x.mirror_id) === Number(r.id)) s[x.state] = Number(x.n);
      return { ...r, id: Number(r.id), stats: s };
    });
  }

  async get(nameOrId: string | number): Promise<MirrorView> {
    const all = await this.list();
    // A number is an id (the admin page); text is a name, or an id when no mirror has that name (the CLI).
    const key = String(nameOrId).trim().toLowerCase();
    const m = typeof nameOrId === 'number' ? all.find((x) => x.id === nameOrId) : (all.find((x) => x.name === key) ?? all.find((x) => String(x.id) === key));
    if (!m) throw new AsloError('MIRROR_NOT_FOUND', `No mirror is named "${nameOrId}". List them with: aslo mirror list`, { statusCode: 404 });
    return m;
  }

  /** Files a mirror does not hold (yet), with the reason, for `show` and the admin page. */
  async problems(mirrorId: number, limit = 20) {
    return q.unverifiedFiles(this.ctx.db, mirrorId, limit);
  }

  /** Where a host is, from the geo database (IP literal, or the first address it resolves to). */
  async locate(
    host: string,
  ): Promise<{ country: string | null; continent: string | null; asn: number | null; latitude: number | null; longitude: number | null } | null> {
    let ip = parseIp(host);
    if (!ip) {
      try {
        ip = parseIp((await dnsLookup(host)).address);
      } catch {
        return null;
      }
    }
    if (!ip) return null;
    const db = await this.geo.load();
    return db ? db.lookup(ip) : null;
  }

  async add(input: MirrorInput, by: ChangeActor = { actor: null, label: 'cli' }): Promise<MirrorView> {
    const values = validateMirror(input, false);
    // Location and AS from the geo database when not given.
    const host = values.http_url ? new URL(values.http_url).hostname : values.https_url ? new URL(values.https_url).hostname : null;
    const filled: string[] = [];
    if (host && (values.country === undefined || values.continent === undefined || values.asn === undefined || values.latitude === undefined)) {
      const where = await this.locate(host.replace(/^\[|\]$/g, ''));
      if (where) {
        if (values.country === undefined && where.country) (values.country = where.country), filled.push('country');
        if (values.continent === undefined && (where.continent || values.country))
          (values.continent = (where.continent ?? continentOf(values.country ?? null)) as Continent | null), filled.push('continent');
        if (values.asn === undefined && where.asn) (values.asn = where.asn), filled.push('asn');
        if (values.latitude === undefined && values.longitude === undefined && where.latitude !== null) {
          values.latitude = where.latitude;
          values.longitude = where.longitude;
          filled.push('coordinates');
        }
      }
    }
    if (values.continent === undefined && values.country) values.continent = continentOf(values.country) as Continent | null;
    const row = { http_url: null, https_url: null, latitude: null, longitude: null, ...values };
    checkWhole(row);
    const exists = await q.mirrorNamed(this.ctx.db, row.name!);
    if (exists)
      throw new AsloError('MIRROR_EXISTS', `A mirror named "${row.name}" exists already (edit it with: aslo mirror edit ${row.name}).`, {
        statusCode: 409,
        details: { field: 'name' },
      });
    const now = new Date();
    const inserted = await this.ctx.db.transaction().execute(async (trx) => {
      const id = await q.insertMirror(trx, { ...(row as Required<Pick<MirrorRow, 'name'>>), prefixes: row.prefixes ?? [], created_at: now, updated_at: now });
      await audit(trx, {
        actor: by.actor,
        actorLabel: by.label,
        action: 'mirror.add',
        targetType: 'mirror',
        targetId: row.name!,
        details: { ...row, filled } as Record<string, unknown>,
      });
      return id;
    });
    if (row.enabled !== false) await this.checker.mirrorChanged(inserted);
    await events.emit('downloads.changed', { ctx: this.ctx, mirrors: [inserted] });
    return this.get(inserted);
  }

  async edit(nameOrId: string | number, input: MirrorInput, by: ChangeActor = { actor: null, label: 'cli' }): Promise<MirrorView> {
    const current = await this.get(nameOrId);
    const values = validateMirror(input, true);
    if (values.country && input.continent === undefined) values.continent = continentOf(values.country) as Continent | null;
    const merged = { ...current, ...values };
    checkWhole(merged);
    if (values.name && values.name !== current.name) {
      const clash = await q.mirrorNamed(this.ctx.db, values.name);
      if (clash) throw new AsloError('MIRROR_EXISTS', `A mirror named "${values.name}" exists already.`, { statusCode: 409, details: { field: 'name' } });
    }
    const urlChanged =
      (values.http_url !== undefined && values.http_url !== current.http_url) || (values.https_url !== undefined && values.https_url !== current.https_url);
    await this.ctx.db.transaction().execute(async (trx) => {
      const set: Record<string, unknown> = { ...values, updated_at: new Date() };
      // New base URLs: earlier evidence is about another place. Check everything again.
      if (urlChanged) Object.assign(set, { http_ok: null, https_ok: null, http_error: null, https_error: null });
      await q.updateMirror(trx, current.id, set);
      if (urlChanged) await q.deleteMirrorFiles(trx, current.id);
      await audit(trx, {
        actor: by.actor,
        actorLabel: by.label,
        action: 'mirror.edit',
        targetType: 'mirror',
        targetId: current.name,
        details: values as Record<string, unknown>,
      });
    });
    if (merged.enabled && (urlChanged || (values.enabled === true && !current.enabled))) await this.checker.mirrorChanged(current.id);
    await events.emit('downloads.changed', { ctx: this.ctx, mirrors: [current.id], evidence: urlChanged });
    return this.get(current.id);
  }

  async setEnabled(nameOrId: string | number, enabled: boolean, by: ChangeActor = { actor: null, label: 'cli' }): Promise<MirrorView> {
    return this.edit(nameOrId, { enabled }, by);
  }

  async remove(nameOrId: string | number, by: ChangeActor = { actor: null, label: 'cli' }): Promise<void> {
    const current = await this.get(nameOrId);
    await this.ctx.db.transaction().execute(async (trx) => {
      await q.deleteMirror(trx, current.id);
      await audit(trx, {
        actor: by.actor,
        actorLabel: by.label,
        action: 'mirror.remove',
        targetType: 'mirror',
        targetId: current.name,
        details: { http_url: current.http_url, https_url: current.https_url },
      });
    });
    await events.emit('downloads.changed', { ctx: this.ctx, mirrors: [current.id], evidence: true });
  }
}
