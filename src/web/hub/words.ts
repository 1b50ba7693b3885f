// The names the hub shows for stored values (statuses, roles, review actions, reasons, scopes),
// in the visitor's language. The values themselves (in forms, URLs and the API) stay as they
// are; an unknown value is shown as it is.
import type { Translator } from '../i18n.js';

export function statusName(l: Translator, s: string): string {
  switch (s) {
    case 'sandbox':
      return l.t('sandbox');
    case 'nominated':
      return l.t('nominated');
    case 'pending':
      return l.t('pending');
    case 'public':
      return l.t('public');
    case 'disabled':
      return l.t('disabled');
    default:
      return s;
  }
}

/** Site roles (user, editor, admin) and author roles (owner, developer). */
export function roleName(l: Translator, r: string | null): string {
  switch (r) {
    case 'user':
      return l.t('user');
    case 'editor':
      return l.t('editor');
    case 'admin':
      return l.t('administrator');
    case 'owner':
      return l.t('owner');
    case 'developer':
      return l.t('developer');
    default:
      return r ?? '';
  }
}

/** Review history entries: what was done. */
export function reviewActionName(l: Translator, a: string): string {
  switch (a) {
    case 'nominate':
      return l.t('nominated');
    case 'approve':
      return l.t('approved');
    case 'return':
      return l.t('returned to the sandbox');
    case 'escalate':
      return l.t('sent to an administrator');
    case 'disable':
      return l.t('disabled');
    case 'enable':
      return l.t('enabled again');
    default:
      return a;
  }
}

/** The editors' choices on a review page. */
export function decisionName(l: Translator, d: string): string {
  switch (d) {
    case 'approve':
      return l.t('Approve (make public)');
    case 'return':
      return l.t('Return to the sandbox');
    case 'escalate':
      return l.t('Ask for an administrator review');
    case 'disable':
      return l.t('Disable');
    default:
      return d;
  }
}

/** Why a review is flagged, or an activity reported. */
export function reasonName(l: Translator, r: string): string {
  switch (r) {
    case 'spam':
      return l.t('spam');
    case 'offensive':
      return l.t('offensive');
    case 'off-topic':
      return l.t('off-topic');
    case 'not-a-review':
      return l.t('not a review');
    case 'malware':
      return l.t('malware');
    case 'inappropriate-content':
      return l.t('inappropriate content');
    case 'copyright':
      return l.t('copyright');
    case 'broken':
      return l.t('broken');
    case 'other':
      return l.t('other');
    default:
      return r;
  }
}

/** What editors do with a flagged review. */
export function moderationName(l: Translator, m: string): string {
  switch (m) {
    case 'keep':
      return l.t('keep');
    case 'hide':
      return l.t('hide');
    case 'delete':
      return l.t('delete');
    default:
      return m;
  }
}

export function scopeName(l: Translator, s: string): string {
  switch (s) {
    case 'publish':
      return l.t('publish');
    case 'read':
      return l.t('read');
    case 'review':
      return l.t('review');
    default:
      return s;
  }
}
