// Release webhooks as each forge sends them (docs/building.md): which repository a delivery
// names, which tag it pushed, and whether its signature is the activity's hook secret. GitHub
// signs with `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>`, Gitea/Forgejo with
// `X-Gitea-Signature` / `X-Forgejo-Signature: <hex HMAC>`, GitLab sends `X-Gitlab-Token: <secret>`.
// GitHub and Gitea/Forgejo may also post the JSON as a form (`payload=<url-encoded JSON>`, content
// type application/x-www-form-urlencoded): the signature is then over the form's bytes.
// Pure functions: no database, no HTTP framework.
import { createHmac, timingSafeEqual } from 'node:crypto';

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
  return path
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .toLowerCase();
}

/** The repository URLs a forge's payload names. */
export function payloadRepositories(forge: Forge, body: Record<string, any>): string[] {
  const r = forge === 'gitlab' ? { ...(body.repository ?? {}), ...(body.project ?? {}) } : (body.repository ?? {});
  return ['clone_url', 'html_url', 'git_http_url', 'web_url', 'homepage', 'url', 'http_url']
    .map((k) => r[k])
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
}

/** The tag a delivery pushed, or null when it is not a tag push (then nothing is built). */
export function pushedTag(forge: Forge, event: string, body: Record<string, any>): string | null {
  const ref = typeof body.ref === 'string' ? body.ref : '';
  if (forge === 'gitlab')
    return body.object_kind === 'tag_push' && ref.startsWith('refs/tags/') && !/^0+$/.test(String(body.after ?? '')) ? ref.slice(10) : null;
  if (event === 'create' && body.ref_type === 'tag') return ref.replace(/^refs\/tags\//, '') || null;
  if (event === 'push' && ref.startsWith('refs/tags/') && body.deleted !== true) return ref.slice(10);
  return null;
}

/**
 * The JSON payload of a form-encoded delivery (`payload=<url-encoded JSON>`), or null when the
 * form has no `payload` field or it is not a JSON object.
 */
export function formPayload(raw: Buffer): Record<string, unknown> | null {
  const payload = new URLSearchParams(raw.toString('utf8')).get('payload');
  if (payload === null) return null;
  try {
    const v: unknown = JSON.parse(payload);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
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
  const given = forge === 'github' ? h('x-hub-signature-256') : (h('x-gitea-signature') ?? h('x-forgejo-signature') ?? h('x-hub-signature-256'));
  if (typeof given !== 'string') return false;
  const hex = given.replace(/^sha256=/, '');
  if (forge === 'github' && !given.startsWith('sha256=')) return false;
  return /^[0-9a-f]{64}$/i.test(hex) && timingSafeEqual(Buffer.from(hex.toLowerCase(), 'hex'), Buffer.from(hmac, 'hex'));
}

export function eventOf(forge: Forge, headers: Record<string, string | string[] | undefined>): string {
  const v =
    forge === 'github'
      ? headers['x-github-event']
      : forge === 'gitlab'
        ? headers['x-gitlab-event']
        : (headers['x-gitea-event'] ?? headers['x-forgejo-event'] ?? headers['x-github-event']);
  return String(Array.isArray(v) ? v[0] : (v ?? ''));
}

export function deliveryOf(forge: Forge, headers: Record<string, string | string[] | undefined>): string | null {
  const v =
    forge === 'github'
      ? headers['x-github-delivery']
      : forge === 'gitlab'
        ? headers['x-gitlab-event-uuid']
        : (headers['x-gitea-delivery'] ?? headers['x-forgejo-delivery']);
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.length > 0 && s.length <= 200 ? s : null;
}
