// Atom feeds (RFC 4287) in the visitor's language: /<locale>/feeds/new.atom (newly added
// activities) and /<locale>/feeds/updated.atom (recently updated: one entry per new version).
// Each entry links to the activity page and carries the file as an enclosure.
import { esc as x } from './html.js';
import { sendBody } from './http.js';
import { localePath } from './layout.js';
import { activityPath } from './components.js';
import type { Localized, Page } from './context.js';
import { pathParams, type TypedApp } from '../platform/schemas.js';

const ENTRIES = 30;

export async function feedRoutes(app: TypedApp, opts: { localized: Localized }): Promise<void> {
  const base = app.ctx.config.server.baseUrl;
  const host = (() => {
    try {
      return new URL(base).hostname;
    } catch {
      return 'localhost';
    }
  })();

  // The whole document is cache-aside per feed and language (feed readers poll it; every
  // committed catalog write invalidates it in every process, like the pages).
  const feed = async (p: Page, kind: 'new' | 'updated') => {
    const body = await app.ctx.cache.getOrLoad('catalog', `feed:${kind}:${p.locale}`, () => render(p, kind));
    return sendBody(p.req, p.reply, body, { type: 'application/atom+xml; charset=utf-8', maxAge: 300 });
  };

  const render = async (p: Page, kind: 'new' | 'updated'): Promise<string> => {
    const { l } = p;
    const catalog = app.services.catalog;
    const list = await catalog.listActivities({ perPage: ENTRIES, sort: kind === 'new' ? 'newest' : 'updated', lang: p.locale });
    const dates = await catalog.activityDates(list.items.map((a) => a.bundle_id));
    const files = new Map<string, { url: string; size: number; type: string } | null>();
    await Promise.all(
      list.items.map(async (a) => {
        const v = (await catalog.listVersions(a.bundle_id))[0];
        const f = v?.files[0];
        files.set(a.bundle_id, f ? { url: base + `/downloads/file/${f.id}/${encodeURIComponent(f.file_name)}`, size: f.size, type: f.content_type } : null);
      }),
    );
    const self = base + localePath(p.locale, `/feeds/${kind}.atom`);
    const title = kind === 'new' ? l.t('New activities') : l.t('Recently updated activities');
    const stamp = (a: (typeof list.items)[number]) => {
      const d = dates.get(a.bundle_id);
      const when = kind === 'new' ? d?.created_at : (d?.last_published_at ?? d?.created_at);
      return (when ?? new Date(0)).toISOString();
    };
    const updated = list.items.length ? list.items.map(stamp).sort().at(-1)! : new Date(0).toISOString();
    const entries = list.items.map((a) => {
      const f = files.get(a.bundle_id);
      const href = base + activityPath(p.locale, a.bundle_id);
      const created = (dates.get(a.bundle_id)?.created_at ?? new Date(0)).toISOString();
      const id = kind === 'new' ? `tag:${host},2026:activity/${a.bundle_id}` : `tag:${host},2026:activity/${a.bundle_id}/${a.current_version ?? ''}`;
      const name = kind === 'updated' && a.current_version ? l.t('{name} {version}', { name: a.name, version: a.current_version }) : a.name;
      return `<entry>
<title>${x(name)}</title>
<id>${x(id)}</id>
<link rel="alternate" type="text/html" href="${x(href)}"/>
${f ? `<link rel="enclosure" type="${x(f.type)}" length="${f.size}" href="${x(f.url)}"/>\n` : ''}<updated>${stamp(a)}</updated>
<published>${kind === 'new' ? created : stamp(a)}</published>
${a.summary ? `<summary>${x(a.summary)}</summary>\n` : ''}${a.tags.map((t) => `<category term="${x(t)}"/>`).join('')}
</entry>`;
    });
    const body = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${x(p.locale)}">
<title>${x(title)} · ${x(l.t('Sugar Activities'))}</title>
<id>${x(self)}</id>
<link rel="self" type="application/atom+xml" href="${x(self)}"/>
<link rel="alternate" type="text/html" href="${x(base + localePath(p.locale, kind === 'new' ? '/browse?sort=newest' : '/browse?sort=updated'))}"/>
<updated>${updated}</updated>
<author><name>Sugar Labs</name></author>
<generator>aslo</generator>
${entries.join('\n')}
</feed>
`;
    return body;
  };
  app.get(
    '/:locale/feeds/new.atom',
    { schema: { hide: true, params: pathParams('/:locale/feeds/new.atom') } },
    opts.localized((p) => feed(p, 'new')),
  );
  app.get(
    '/:locale/feeds/updated.atom',
    { schema: { hide: true, params: pathParams('/:locale/feeds/updated.atom') } },
    opts.localized((p) => feed(p, 'updated')),
  );
}
