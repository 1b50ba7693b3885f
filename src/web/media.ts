// Activity icons in Sugar colours. (Screenshots are served by the hub: /screenshots/<id>.)
import { etagOf } from './http.js';
import { viewerOf } from './context.js';
import { xoColorsFor } from './components.js';
import { textParams, type TypedApp } from '../platform/schemas.js';

/** Put an XO colour pair on an icon whose colours were resolved to Sugar's defaults. */
export function colorIcon(svg: string, stroke: string, fill: string): string {
  return svg.replace(/#010101|#000000|#FFFFFF|#FFF\b/gi, (c) => (/^#0/.test(c) ? stroke : fill));
}

export async function mediaRoutes(app: TypedApp): Promise<void> {
  // /icon/<bundle_id>/<version>.svg: the version in the path only makes the URL change with it.
  app.get('/icon/:bundle/:file', { schema: { hide: true, params: textParams('bundle', 'file') } }, async (req, reply) => {
    const { bundle } = req.params;
    let svg = await app.services.catalog.iconSvg(bundle).catch(() => null);
    // The icon of an activity that is not public: for those who may preview it (its authors and
    // the editors), never stored by a shared cache.
    const hidden = svg === null;
    if (hidden) {
      const viewer = await viewerOf(req);
      svg = viewer ? await app.services.catalog.iconSvg(bundle, viewer).catch(() => null) : null;
    }
    if (!svg) return reply.callNotFound();
    const [stroke, fill] = xoColorsFor(bundle);
    const body = colorIcon(svg, stroke, fill);
    const etag = etagOf(body);
    void reply
      .type('image/svg+xml; charset=utf-8')
      .header('cache-control', hidden ? 'private, no-store' : 'public, max-age=604800')
      .header('etag', etag)
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .header('x-content-type-options', 'nosniff');
    if (req.headers['if-none-match'] === etag) return reply.status(304).send();
    return body;
  });
}
