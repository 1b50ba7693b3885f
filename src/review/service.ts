// The review workflow (protocol doc §4): authors nominate a sandbox activity; editors work
// through the queue of nominated activities and pending versions, oldest first, and approve,
// return to the sandbox, ask for an administrator's review, or disable, always with a comment.
// A decision covers exactly the versions the editor reviewed (the review page's form and the
// editors' API name them): a version uploaded meanwhile stays pending, and naming a version that
// no longer awaits review is refused (REVIEW_STALE). Editors never decide on activities they have
// been an author of since the versions under review were uploaded (activity_author_periods).
// Every decision is recorded in the review history (shown to the authors), in the audit log,
// and mailed to every author.
import type { AppContext } from '../platform/context.js';
import type { Db } from '../platform/db/index.js';
import type { ActivityStatus, FileStatus, ReviewAction } from '../platform/db/schema.js';
import { AsloError } from '../platform/errors.js';
import { authorRole, isAdmin, requireAdmin, requireAuthor, requireEditor, type Actor, type Viewer } from '../accounts/access.js';
import type { Mailer } from '../mail/mailer.js';
import * as texts from '../mail/texts.js';
import { audit, listAudit, type AuditQuery } from '../platform/audit/index.js';
import { activityNames } from './publishing.js';
import { normalizeSugarVersion } from '../bundles/version.js';
import * as q from './queries/workflow.js';
import { diffBundleFiles, type BundleDiff } from './bundle-diff.js';

export const DECISIONS = ['approve', 'return', 'escalate', 'disable'] as const;
export type Decision = (typeof DECISIONS)[number];
export type TargetKind = 'activity' | 'file';
/** What an administrator may enable a disabled activity into. */
export const ENABLE_TARGETS = ['sandbox', 'nominated', 'public'] as const;
export type EnableTarget = (typeof ENABLE_TARGETS)[number];

const MAX_COMMENT = 10_000;

function checkComment(comment: unknown, what = 'comment'): string {
  const c = typeof comment === 'string' ? comment.trim() : '';
  if (/\u0000/.test(c)) throw new AsloError('COMMENT_INVALID', `The ${what} contains a NUL character.`, { details: { field: 'comment' } });
  if (!c) throw new AsloError('COMMENT_REQUIRED', `A ${what} is required: tell the authors what you decided and why.`, { details: { field: 'comment' } });
  if (c.length > MAX_COMMENT) throw new AsloError('COMMENT_TOO_LONG', `Keep the ${what} under ${MAX_COMMENT} characters.`, { details: { field: 'comment' } });
  return c;
}

interface DiffLine {
  key: string;
  before: string;
  after: string;
}

/** Metadata keys compared between versions on the review page. */
const DIFF_KEYS = ['name', 'summary', 'description', 'exec', 'runtime', 'license', 'tags', 'mime_types', 'max_participants', 'url', 'repository', 'icon'];

function show(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One activity of the editors' queue, as the API shows it. */
export interface QueueItem {
  bundle_id: string;
  name: string;
  status: string;
  versions: { version: string; file_id: number; status: string; uploaded_at: string }[];
}

/** What a decision did: the activity's status after it, and each version it named. */
export interface DecisionResult {
  from: string;
  to: string;
  activity: { bundle_id: string; status: string };
  versions: { version: string; status: string }[];
}

/** A file waits for an editor: a nominated activity's sandbox and pending files, another activity's pending ones. */
export function isAwaiting(activityStatus: ActivityStatus, fileStatus: FileStatus): boolean {
  return fileStatus === 'pending' || (activityStatus === 'nominated' && fileStatus === 'sandbox');
}

const MAX_VERSIONS = 200;

/** The versions a decision names: a form's repeated field or a JSON array of strings; null when none. */
function parseVersions(raw: unknown, strict = false): string[] | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const list = Array.isArray(raw) ? raw : !strict && typeof raw === 'string' ? [raw] : null;
  if (!list || list.length > MAX_VERSIONS || list.some((v) => typeof v !== 'string' || !v.trim() || v.length > 100)) {
    throw new AsloError('REVIEW_BODY_INVALID', `"versions" is a list of up to ${MAX_VERSIONS} version strings, like ["1", "2.1"].`, {
      details: { field: 'versions' },
    });
  }
  const out = [...new Set((list as string[]).map((v) => v.trim()))];
  return out.length ? out : null;
}

function normalizedOrNull(v: string): string | null {
  try {
    return normalizeSugarVersion(v);
  } catch {
    return null;
  }
}

async function setFiles(trx: Db, files: { id: number }[], values: { status?: FileStatus; status_changed_at?: Date; admin_review?: boolean }): Promise<void> {
  if (files.length === 0) return;
  await q.setFilesReview(
    trx,
    files.map((f) => f.id),
    values,
  );
}

export class ReviewService {
  constructor(
    private readonly ctx: AppContext,
    private readonly mailer: Mailer,
    private readonly onStatusChange: (activityIds: number[]) => Promise<void> = async () => {},
  ) {}

  private get db(): Db {
    return this.ctx.db;
  }

  // --- authors --------------------------------------------------------------------------------

  async nominate(viewer: Viewer, activityId: number, messageRaw: unknown): Promise<void> {
    const actor = await requireAuthor(this.db, viewer, activityId);
    const message = checkComment(messageRaw, 'nomination message');
    await this.db.transaction().execute(async (trx) => {
      const a = await q.lockExistingActivity(trx, activityId);
      if (a.status !== 'sandbox') {
        throw new AsloError(
          'NOMINATE_BAD_STATUS',
          a.status === 'nominated'
            ? 'This activity is nominated already; the editors will review it.'
            : `Only a sandbox activity can be nominated; this one is ${a.status}.`,
          { statusCode: 409 },
        );
      }
      const files = await q.sandboxFiles(trx, activityId);
      if (files.length === 0)
        throw new AsloError('NOMINATE_NO_FILE', 'Upload a version first: there is nothing for the editors to review.', { statusCode: 409 });
      const now = new Date();
      await q.setActivityNominated(trx, activityId, message, now);
      await q.insertReviewHistory(trx, {
        activityId,
        fileId: null,
        version: null,
        actorUserId: actor.userId,
        action: 'nominate',
        comment: message,
        fromStatus: 'sandbox',
        toStatus: 'nominated',
        at: now,
      });
      await audit(trx, {
        actor,
        action: 'activity.nominate',
        targetType: 'activity',
        targetId: a.bundle_id,
        reason: message,
        details: { from: 'sandbox', to: 'nominated' },
      });
    });
  }

  async history(viewer: Viewer, activityId: number) {
    const actor = requireEditorOrAuthorSync(viewer);
    if (!isAdmin(actor) && actor.role !== 'editor') await requireAuthor(this.db, actor, activityId);
    return q.reviewHistory(this.db, activityId);
  }

  // --- editors --------------------------------------------------------------------------------

  async queue(viewer: Viewer) {
    const actor = requireEditor(viewer);
    const nominated = await q.nominatedForEditor(this.db, actor.userId);
    const pending = await q.pendingForEditor(this.db, actor.userId);
    const now = Date.now();
    const mark = <T extends { own: unknown; was_author: unknown; admin_review: boolean; since: Date }>({ was_author, ...r }: T) => {
      const own = Boolean(r.own) || Boolean(was_author);
      return {
        ...r,
        own,
        waiting_seconds: Math.max(0, Math.floor((now - r.since.getTime()) / 1000)),
        can_decide: !own && (!r.admin_review || isAdmin(actor)),
      };
    };
    return {
      // `undecided`: versions awaiting review that no decision named yet (new since the last one).
      nominated: nominated.map((r) => ({
        ...mark(r),
        awaiting: Number(r.awaiting),
        undecided: Number(r.undecided),
        last_decision_at: r.last_decision_at === null ? null : new Date(r.last_decision_at),
      })),
      // `new`: no editor has named this version in a decision yet (for example one uploaded while
      // the editors reviewed the versions before it).
      pending: pending.map(({ decided, ...r }) => ({ ...mark(r), new: !decided })),
    };
  }

  /**
   * The editors' queue as the API shows it: every activity with something awaiting review (a
   * nominated activity's sandbox and pending versions, another activity's pending versions),
   * the one waiting longest first.
   */
  async reviewQueue(viewer: Viewer): Promise<{ items: QueueItem[] }> {
    requireEditor(viewer);
    const rows = await q.awaitingFiles(this.db);
    const nominated = await q.nominatedActivities(this.db);
    const byActivity = new Map<number, { bundle_id: string; status: string; since: number; versions: QueueItem['versions'] }>();
    const entry = (r: { activity_id: number; bundle_id: string; activity_status: string; activity_since: Date }) => {
      let e = byActivity.get(r.activity_id);
      if (!e) {
        e = {
          bundle_id: r.bundle_id,
          status: r.activity_status,
          since: r.activity_status === 'nominated' ? r.activity_since.getTime() : Infinity,
          versions: [],
        };
        byActivity.set(r.activity_id, e);
      }
      return e;
    };
    for (const a of nominated) entry(a);
    for (const r of rows) {
      const e = entry(r);
      if (r.activity_status !== 'nominated') e.since = Math.min(e.since, r.status_changed_at.getTime());
      e.versions.push({ version: r.version, file_id: r.file_id, status: r.status, uploaded_at: r.created_at.toISOString() });
    }
    const names = await activityNames(this.db, [...byActivity.keys()]);
    const items = [...byActivity.entries()]
      .sort(([ia, a], [ib, b]) => a.since - b.since || ia - ib)
      .map(([id, e]) => ({ bundle_id: e.bundle_id, name: names.get(id) ?? e.bundle_id, status: e.status, versions: e.versions }));
    return { items };
  }

  /** Everything the review page shows: metadata, files, warnings, and what changed since the previous version. */
  async reviewPage(viewer: Viewer, kind: TargetKind, id: number) {
    requireEditor(viewer);
    let activityId: number;
    let fileId: number | null = null;
    if (kind === 'file') {
      const f = await q.fileActivity(this.db, id);
      if (!f) throw new AsloError('FILE_NOT_FOUND', `No file #${id}.`, { statusCode: 404 });
      activityId = f.activity_id;
      fileId = f.id;
    } else {
      activityId = id;
    }
    const a = await q.activityRow(this.db, activityId);
    if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', `No activity #${activityId}.`, { statusCode: 404 });
    const versions = await q.versionsForReview(this.db, activityId);
    if (versions.length === 0) throw new AsloError('NOTHING_TO_REVIEW', 'This activity has no version.', { statusCode: 404 });
    // The versions under review, which the decision form carries (and covers, exactly): a
    // nominated activity's sandbox and pending versions, or the one pending version asked for.
    const underReview = versions.filter((v) =>
      fileId !== null ? v.file_id === fileId && v.file_status === 'pending' : a.status === 'nominated' && isAwaiting(a.status, v.file_status),
    );
    // The version shown in detail: the file asked for, or the newest one under review (or the
    // newest sandbox one, or the newest).
    const idx =
      fileId !== null
        ? versions.findIndex((v) => v.file_id === fileId)
        : underReview.length
          ? versions.indexOf(underReview[0]!)
          : Math.max(
              0,
              versions.findIndex((v) => v.file_status === 'sandbox'),
            );
    const current = versions[idx]!;
    // Compared with the last reviewed version: the newest older one that is public, else the
    // newest older one an editor decided on, else the one just before.
    const older = versions.slice(idx + 1);
    const previous = older.find((v) => v.file_status === 'public') ?? older.find((v) => v.decided) ?? older[0] ?? null;
    const meta = current.metadata as Record<string, unknown>;
    const prevMeta = (previous?.metadata ?? null) as Record<string, unknown> | null;
    const metadataDiff: DiffLine[] = [];
    if (prevMeta) {
      for (const key of DIFF_KEYS) {
        const before = show(prevMeta[key]);
        const after = show(meta[key]);
        if (before !== after) metadataDiff.push({ key, before, after });
      }
      const locB = Object.keys((prevMeta.locales ?? {}) as object)
        .sort()
        .join(', ');
      const locA = Object.keys((meta.locales ?? {}) as object)
        .sort()
        .join(', ');
      if (locB !== locA) metadataDiff.push({ key: 'locales', before: locB, after: locA });
    }
    type F = { path: string; size: number };
    const filesOf = (m: Record<string, unknown> | null): F[] => ((m?.files ?? []) as F[]).map((f) => ({ path: f.path, size: f.size }));
    const files = filesOf(meta);
    const prevFiles = new Map(filesOf(prevMeta).map((f) => [f.path, f.size]));
    const nowFiles = new Map(files.map((f) => [f.path, f.size]));
    const fileDiff = previous
      ? {
          added: files.filter((f) => !prevFiles.has(f.path)).map((f) => f.path),
          removed: [...prevFiles.keys()].filter((p) => !nowFiles.has(p)),
          changed: files
            .filter((f) => prevFiles.has(f.path) && prevFiles.get(f.path) !== f.size)
            .map((f) => ({ path: f.path, before: prevFiles.get(f.path)!, after: f.size })),
        }
      : null;
    const bundleDiff = previous ? await this.bundleDiff(previous.storage_key, current.storage_key) : null;
    const validation = (current.validation ?? {}) as {
      warnings?: { code: string; message: string; file: string | null; line: number | null; params?: Record<string, string | number> }[];
    };
    const authors = await q.authorsWithRoles(this.db, activityId);
    const history = await q.reviewPageHistory(this.db, activityId);
    return {
      kind,
      activity: a,
      version: current,
      previous: previous ? { version: previous.version, file_status: previous.file_status } : null,
      /** What the decision covers (oldest first): the form carries exactly these versions. */
      underReview: underReview
        .slice()
        .reverse()
        .map((v) => ({ version: v.version, file_id: v.file_id, status: v.file_status, file_name: v.file_name, uploaded_at: v.uploaded_at, new: !v.decided })),
      metadata: meta,
      files,
      warnings: validation.warnings ?? [],
      metadataDiff,
      fileDiff,
      bundleDiff,
      authors,
      history,
      admin_review: kind === 'file' ? current.admin_review : a.admin_review,
    };
  }

  /**
   * What changed between two stored bundles (files with sizes, modes and exec bits, the
   * activity.info lines), read from the files themselves; null when either is missing or unreadable.
   */
  async bundleDiff(beforeKey: string, afterKey: string): Promise<BundleDiff | null> {
    const files = this.ctx.files;
    if (!(await files.has(beforeKey)) || !(await files.has(afterKey))) return null;
    return diffBundleFiles(files.pathOf(beforeKey), files.pathOf(afterKey));
  }

  /**
   * An editor's decision from the review pages: on a nominated activity (`activity`), or on one
   * version of an activity (`file`). `versions` are those the page showed (it carries them): the
   * decision covers exactly those, and is refused (REVIEW_STALE) when one of them no longer
   * awaits review. Approving or returning an activity names its versions.
   */
  async decide(
    viewer: Viewer,
    kind: TargetKind,
    id: number,
    actionRaw: string,
    commentRaw: unknown,
    versionsRaw?: unknown,
  ): Promise<{ from: string; to: string }> {
    const actor = requireEditor(viewer);
    if (kind === 'file') {
      const f = await q.fileActivity(this.db, id);
      if (!f) throw new AsloError('FILE_NOT_FOUND', `No file #${id}.`, { statusCode: 404 });
      const r = await this.decideOn(actor, f.activity_id, { target: 'versions', action: actionRaw, comment: commentRaw, fileIds: [f.id] });
      return { from: r.from, to: r.to };
    }
    const r = await this.decideOn(actor, id, { target: 'activity', action: actionRaw, comment: commentRaw, versions: parseVersions(versionsRaw) });
    return { from: r.from, to: r.to };
  }

  /**
   * The editors' API decision (POST /api/v1/review/activities/:bundle_id/decision): on the
   * activity when it is nominated, else on the versions named (a public activity's pending
   * versions); `disable` without versions disables the activity.
   */
  async decideByBundleId(viewer: Viewer, bundleId: string, body: unknown): Promise<DecisionResult> {
    const actor = requireEditor(viewer);
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new AsloError('REVIEW_BODY_INVALID', 'Send a JSON object: {"action": "approve|return|escalate|disable", "versions": ["1"], "comment": "..."}.');
    const b = body as Record<string, unknown>;
    if (typeof b.action !== 'string')
      throw new AsloError('REVIEW_ACTION_INVALID', `The action is one of ${DECISIONS.join(', ')}.`, { details: { field: 'action' } });
    if (b.comment !== undefined && typeof b.comment !== 'string')
      throw new AsloError('REVIEW_BODY_INVALID', 'The comment is a string.', { details: { field: 'comment' } });
    const versions = parseVersions(b.versions, true);
    const a = bundleId.length <= 255 && !bundleId.includes('\u0000') ? await q.activityIdByBundleId(this.db, bundleId) : undefined;
    if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', `No activity has the bundle id "${bundleId}".`, { statusCode: 404 });
    return this.decideOn(actor, a.id, { target: 'auto', action: b.action, comment: b.comment, versions });
  }

  private async decideOn(
    actor: Actor,
    activityId: number,
    input: { target: 'activity' | 'versions' | 'auto'; action: string; comment: unknown; versions?: string[] | null; fileIds?: number[] },
  ): Promise<DecisionResult> {
    if (!DECISIONS.includes(input.action as Decision))
      throw new AsloError('REVIEW_ACTION_INVALID', `The action is one of ${DECISIONS.join(', ')}.`, { details: { field: 'action' } });
    const action = input.action as Decision;
    const comment = checkComment(input.comment);
    const names = input.versions?.length ? input.versions : null;
    // Authors of the activity are refused at once (the full check, over the authorship history, follows).
    if (await authorRole(this.db, activityId, actor.userId))
      throw new AsloError('REVIEW_OWN_ACTIVITY', 'You are an author of this activity: another editor must review it.', { statusCode: 403 });
    if ((action === 'approve' || action === 'return') && !names && !input.fileIds?.length) {
      throw new AsloError(
        'REVIEW_VERSIONS_REQUIRED',
        `Name the versions you reviewed: an ${action === 'approve' ? 'approval' : 'return'} covers exactly those.`,
        { details: { field: 'versions' } },
      );
    }
    const result = await this.db.transaction().execute(async (trx) => {
      // The activity's row lock orders every decision on it (and on its versions).
      const a = await q.lockActivity(trx, activityId);
      if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', `No activity #${activityId}.`, { statusCode: 404 });
      const onActivity = input.target === 'activity' || (input.target === 'auto' && (a.status === 'nominated' || (action === 'disable' && !names)));
      const all = await q.activityFiles(trx, activityId);
      // A decision on the activity covers its versions awaiting review; one on versions, pending ones.
      const awaiting = (s: FileStatus) => (onActivity ? isAwaiting(a.status, s) : s === 'pending');
      let named: typeof all = [];
      if (input.fileIds) named = all.filter((f) => input.fileIds!.includes(f.id));
      else if (names) {
        for (const n of names) {
          const norm = normalizedOrNull(n);
          const f = all.find((x) => x.version === n) ?? all.find((x) => norm !== null && x.version_normalized === norm);
          if (!f) throw new AsloError('REVIEW_VERSION_UNKNOWN', `This activity has no version ${n}.`, { details: { field: 'versions', version: n } });
          if (!named.includes(f)) named.push(f);
        }
      }
      // What is under review: the versions named, else everything awaiting review.
      const underReview = named.length ? named : all.filter((f) => awaiting(f.status));
      // An editor never decides on an activity they have been an author of at any time since
      // the versions under review were uploaded (leaving the authors for the decision does not help).
      const since = underReview.reduce<Date | null>((m, f) => (m === null || f.created_at < m ? f.created_at : m), null);
      const author = await q.authorshipSince(trx, activityId, actor.userId, since);
      if (author || (await authorRole(trx, activityId, actor.userId))) {
        throw new AsloError(
          'REVIEW_OWN_ACTIVITY',
          author?.ended_at
            ? 'You were an author of this activity after the versions under review were uploaded: another editor must review them.'
            : 'You are an author of this activity: another editor must review it.',
          { statusCode: 403 },
        );
      }
      // The versions named must still await review: anything else means the page was stale
      // (another editor decided first, or the version changed status since).
      const stale = named.filter((f) => (action === 'disable' && !onActivity ? f.status === 'disabled' : !awaiting(f.status)));
      if (stale.length) {
        throw new AsloError(
          'REVIEW_STALE',
          `${stale.map((f) => `Version ${f.version} is ${f.status}`).join('; ')}: it no longer awaits review. Reload the review page (or the queue) and decide again.`,
          {
            statusCode: 409,
            details: { versions: stale.map((f) => ({ version: f.version, status: f.status })) },
          },
        );
      }
      const now = new Date();
      let from: string;
      let to: string;
      let waiting: string[] = [];
      if (onActivity) {
        from = a.status;
        if (action !== 'disable' && a.status !== 'nominated')
          throw new AsloError(
            'REVIEW_BAD_STATUS',
            `Only a nominated activity can be ${action === 'approve' ? 'approved' : action === 'return' ? 'returned' : 'escalated'}; this one is ${a.status}.`,
            { statusCode: 409 },
          );
        if (action === 'disable' && a.status === 'disabled')
          throw new AsloError('REVIEW_BAD_STATUS', 'This activity is disabled already.', { statusCode: 409 });
        if ((a.admin_review || named.some((f) => f.admin_review)) && !isAdmin(actor))
          throw new AsloError('REVIEW_ADMIN_ONLY', 'An editor asked an administrator to decide on this one.', { statusCode: 403 });
        if (action === 'escalate' && a.admin_review)
          throw new AsloError('REVIEW_BAD_STATUS', 'An administrator review is asked for already.', { statusCode: 409 });
        const status: ActivityStatus = action === 'approve' ? 'public' : action === 'return' ? 'sandbox' : action === 'disable' ? 'disabled' : a.status;
        to = status;
        await q.updateActivityReview(trx, activityId, {
          status,
          admin_review: action === 'escalate',
          updated_at: now,
          ...(status !== a.status ? { status_changed_at: now } : {}),
          ...(action === 'approve' ? { last_published_at: now } : {}),
        });
        if (action === 'approve') {
          // Exactly the versions reviewed become public; any other awaiting version (one
          // uploaded while the editor looked at these) waits for review as a pending version.
          await setFiles(trx, named, { status: 'public', status_changed_at: now, admin_review: false });
          const rest = all.filter((f) => !named.includes(f) && awaiting(f.status));
          await setFiles(
            trx,
            rest.filter((f) => f.status !== 'pending'),
            { status: 'pending', status_changed_at: now },
          );
          waiting = rest.map((f) => f.version);
        } else if (action === 'return') {
          await setFiles(
            trx,
            named.filter((f) => f.status !== 'sandbox'),
            { status: 'sandbox', status_changed_at: now, admin_review: false },
          );
        }
      } else {
        if (!named.length && action === 'escalate') named = all.filter((f) => f.status === 'pending');
        if (!named.length) throw new AsloError('REVIEW_BAD_STATUS', `No version of this activity awaits review; it is ${a.status}.`, { statusCode: 409 });
        from = [...new Set(named.map((f) => f.status))].join(', ');
        if (named.some((f) => f.admin_review) && !isAdmin(actor))
          throw new AsloError('REVIEW_ADMIN_ONLY', 'An editor asked an administrator to decide on this one.', { statusCode: 403 });
        if (action === 'escalate' && named.every((f) => f.admin_review))
          throw new AsloError('REVIEW_BAD_STATUS', 'An administrator review is asked for already.', { statusCode: 409 });
        if (action === 'escalate') {
          await setFiles(trx, named, { admin_review: true });
          to = from;
        } else {
          const status: FileStatus = action === 'approve' ? 'public' : action === 'return' ? 'sandbox' : 'disabled';
          to = status;
          await setFiles(trx, named, { status, status_changed_at: now, admin_review: false });
          if (action === 'approve') await q.updateActivityReview(trx, activityId, { last_published_at: now, updated_at: now });
        }
      }
      const decided = named.map((f) => f.version);
      const label = decided.length ? decided.join(', ') : null;
      const single = !onActivity && named.length === 1 ? named[0]! : null;
      await q.insertReviewHistory(trx, {
        activityId,
        fileId: single?.id ?? null,
        version: label,
        versions: decided.length ? decided : null,
        actorUserId: actor.userId,
        action: action as ReviewAction,
        comment,
        fromStatus: from,
        toStatus: to,
        at: now,
      });
      await audit(trx, {
        actor,
        action: `review.${action}`,
        targetType: single ? 'file' : 'activity',
        targetId: single ? single.id : a.bundle_id,
        reason: comment,
        details: { activity: a.bundle_id, version: label, versions: decided, from, to, ...(waiting.length ? { still_waiting: waiting } : {}) },
      });
      const after = await q.activityStatus(trx, activityId);
      const statuses = named.length
        ? new Map(
            (
              await q.fileStatuses(
                trx,
                named.map((f) => f.id),
              )
            ).map((r) => [r.id, r.status]),
          )
        : new Map<number, FileStatus>();
      return {
        from,
        to,
        onActivity,
        waiting,
        activity: { bundle_id: a.bundle_id, status: after.status },
        versions: named.map((f) => ({ version: f.version, status: statuses.get(f.id) ?? f.status })),
      };
    });
    await this.onStatusChange([activityId]).catch(() => {});
    const decided = result.versions.map((v) => v.version);
    await this.notifyAuthors(
      activityId,
      actor,
      action,
      result.onActivity ? null : decided.join(', ') || null,
      result.from,
      result.to,
      comment,
      result.onActivity ? { versions: decided, waiting: result.waiting } : {},
    );
    return { from: result.from, to: result.to, activity: result.activity, versions: result.versions };
  }

  /**
   * An administrator enables a disabled activity again, with a comment: it goes back to the status
   * it had when it was disabled (from the review history; the sandbox when that is unknown), or to
   * `to` when given. Its files keep their own statuses (disabling an activity never changed them).
   */
  async enable(viewer: Viewer, activityId: number, commentRaw: unknown, toRaw?: string | null): Promise<{ from: string; to: string }> {
    const actor = requireAdmin(viewer);
    const comment = checkComment(commentRaw);
    const wanted = toRaw ? String(toRaw) : null;
    if (wanted !== null && !ENABLE_TARGETS.includes(wanted as EnableTarget)) {
      throw new AsloError('REVIEW_ACTION_INVALID', `An activity is enabled into one of ${ENABLE_TARGETS.join(', ')} (or its status before it was disabled).`, {
        details: { field: 'to' },
      });
    }
    const result = await this.db.transaction().execute(async (trx) => {
      const a = await q.lockActivityStatus(trx, activityId);
      if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', `No activity #${activityId}.`, { statusCode: 404 });
      if (a.status !== 'disabled')
        throw new AsloError('REVIEW_BAD_STATUS', `Only a disabled activity can be enabled again; this one is ${a.status}.`, { statusCode: 409 });
      const before = await q.statusBeforeDisabled(trx, activityId);
      const previous = before && ENABLE_TARGETS.includes(before.from_status as EnableTarget) ? (before.from_status as EnableTarget) : 'sandbox';
      const to: ActivityStatus = (wanted as EnableTarget | null) ?? previous;
      const now = new Date();
      await q.setActivityEnabled(trx, activityId, to, now);
      await q.insertReviewHistory(trx, {
        activityId,
        fileId: null,
        version: null,
        actorUserId: actor.userId,
        action: 'enable',
        comment,
        fromStatus: 'disabled',
        toStatus: to,
        at: now,
      });
      await audit(trx, {
        actor,
        action: 'review.enable',
        targetType: 'activity',
        targetId: a.bundle_id,
        reason: comment,
        details: { activity: a.bundle_id, from: 'disabled', to, previous },
      });
      return { from: 'disabled', to };
    });
    await this.onStatusChange([activityId]).catch(() => {});
    await this.notifyAuthors(activityId, actor, 'enable', null, result.from, result.to, comment);
    return result;
  }

  private async notifyAuthors(
    activityId: number,
    actor: Actor,
    action: string,
    version: string | null,
    from: string,
    to: string,
    comment: string,
    extra: { versions?: string[]; waiting?: string[] } = {},
  ): Promise<void> {
    const a = await q.bundleIdOf(this.db, activityId);
    const name = (await q.mailActivityName(this.db, activityId)) ?? a.bundle_id;
    const authors = await q.authorAddresses(this.db, activityId);
    for (const u of authors) {
      await this.mailer.send(
        texts.reviewDecision({
          to: u.email,
          name: u.display_name,
          activityName: name,
          bundleId: a.bundle_id,
          version,
          action,
          fromStatus: from,
          toStatus: to,
          comment,
          reviewer: `${actor.displayName} (${actor.role})`,
          link: `${this.ctx.config.server.baseUrl}/developers/activities/${activityId}`,
          ...extra,
        }),
      );
    }
  }

  // ---- the audit log, for administrators (the hub's /admin/audit and /admin/audit.json) ----

  async auditLog(viewer: Viewer, q: AuditQuery) {
    requireAdmin(viewer);
    return listAudit(this.db, q);
  }
}

function requireEditorOrAuthorSync(viewer: Viewer): Actor {
  if (!viewer) throw new AsloError('AUTH_REQUIRED', 'Log in first.', { statusCode: 401 });
  return viewer;
}
