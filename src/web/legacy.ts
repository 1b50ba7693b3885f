// The old site's URLs keep working (sugar-protocols §4):
//   /<locale>/sugar/addon/<id>                      -> /<locale>/activity/<bundle_id>
//   /<locale>/sugar/addons/versions/<id>            -> /<locale>/activity/<bundle_id>/versions
//   /<locale>/sugar/downloads/file/<file_id>/<name> -> /downloads/file/<id>/<name> (the download route)
//   /downloads/latest/<id>[/<name>]                 -> the newest public file (for Sugar's browser:
//                                                      the newest one that runs on its Sugar; a 404
//                                                      NO_COMPATIBLE_VERSION when none does)
// <id> is a legacy numeric id kept at import, or a bundle id; <file_id> a legacy file id, else
// the file's own id. Unknown ids get the store's 404 page.
import type { FastifyReply } from 'fastify';
import { notFound } from '../platform/errors.js';
import { localePath } from './layout.js';
import { detectSugar } from './sugar-ua.js';
import { preferredLocale, type Localized } from './context.js';
import { pathParams, textParams, type TypedApp } from '../platform/schemas.js';

function moved(reply: FastifyReply, to: string): FastifyReply {
  return reply.status(301).header('location', to).header('cache-control', 'public, max-age=86400').send();
}

export function fileUrlPath(id: number, fileName: string): string {
  return `/downloads/file/${id}/${encodeURIComponent(fileName)}`;
}

export async function legacyRoutes(app: TypedApp, opts: { localized: Localized }): Promise<void> {
  const { localized } = opts;
  const page = (path: string, handler: Parameters<Localized>[0]) => app.get(path, { schema: { hide: true, params: pathParams(path) } }, localized(handler));
  const activity = async (locale: string, id: string, l: { t(s: string, p?: Record<string, string>): string }) => {
    const a = await app.services.catalog.resolveActivity(id);
    if (!a) throw notFound('ACTIVITY_NOT_FOUND', l.t('There is no public activity "{id}" here.', { id }));
    return localePath(locale, `/activity/${encodeURIComponent(a.bundle_id)}`);
  };
  page('/:locale/sugar', async (p) => moved(p.reply, localePath(p.locale, '/')));
  page('/:locale/sugar/addon/:id', async (p, x) => moved(p.reply, await activity(p.locale, x.id!, p.l)));
  page('/:locale/sugar/addons/versions/:id', async (p, x) => moved(p.reply, (await activity(p.locale, x.id!, p.l)) + '/versions'));
  page('/:locale/sugar/downloads/file/:fileId/:name', async (p, x) => {
    const file = /^\d{1,12}$/.test(x.fileId!) ? await app.services.catalog.resolveFile(Number(x.fileId)) : null;
    if (!file) throw notFound('FILE_NOT_FOUND', p.l.t('There is no public file with the id {id}.', { id: x.fileId! }));
    return moved(p.reply, fileUrlPath(file.id, file.file_name));
  });

  const latest = async (req: import('fastify').FastifyRequest & { params: { id: string } }, reply: FastifyReply) => {
    const { id } = req.params;
    const a = await app.services.catalog.resolveActivity(id);
    if (!a) throw notFound('ACTIVITY_NOT_FOUND', `There is no public activity "${id}" here.`);
    const versions = await app.services.catalog.listVersions(a.bundle_id);
    const sugar = detectSugar(req.headers['user-agent']);
    // Sugar's browser gets the newest version that runs on its Sugar (what its updater would be
    // offered), never one that cannot start there: when there is none, it is told so.
    const pick = sugar ? versions.find((v) => app.services.catalog.compatibility(v, sugar.version).compatible) : versions[0];
    if (sugar && !pick && versions.length > 0) {
      throw notFound(
        'NO_COMPATIBLE_VERSION',
        `No version of ${a.bundle_id} runs on Sugar ${sugar.version}. Every version, with the Sugar releases it runs on: ${localePath(preferredLocale(req), `/activity/${encodeURIComponent(a.bundle_id)}/versions`)}`,
      );
    }
    const file = pick?.files[0];
    if (!file) throw notFound('FILE_NOT_FOUND', `${a.bundle_id} has no public file.`);
    return reply
      .status(302)
      .header('location', fileUrlPath(file.id, file.file_name))
      .header('cache-control', 'private, max-age=300')
      .header('vary', 'User-Agent')
      .send();
  };
  app.get('/downloads/latest/:id', { schema: { hide: true, params: textParams('id') } }, latest);
  app.get('/downloads/latest/:id/:name', { schema: { hide: true, params: textParams('id', 'name') } }, latest);
}
