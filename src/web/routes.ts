// A plain home page until the web store lands: what this store holds and where its API is.
import type { FastifyInstance } from 'fastify';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export async function homeRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { schema: { hide: true } }, async (_req, reply) => {
    const list = await app.services.catalog.listActivities({ perPage: 50, sort: 'name' });
    const items = list.items
      .map((a) => `<li>${a.icon_url ? `<img src="${escape(a.icon_url)}" alt="" width="32" height="32"> ` : ''}<a href="${escape(a.url)}">${escape(a.name)}</a> ${escape(a.current_version ?? '')}${a.summary ? ` — ${escape(a.summary)}` : ''}</li>`)
      .join('\n');
    void reply.type('text/html; charset=utf-8');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sugar activities</title></head><body><main><h1>Sugar activities</h1><p>${list.total} activities. API documentation: <a href="/api/docs">/api/docs</a>.</p><ul>${items}</ul></main></body></html>`;
  });
}
