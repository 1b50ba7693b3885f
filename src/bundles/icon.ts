// Activity icons. Sugar icons use `&stroke_color;` and `&fill_color;` entities, declared in an
// internal DTD, that Sugar replaces with the user's XO colours when it draws them. Browsers do
// not resolve DTD entities reliably, so we substitute colours ourselves and sanitize the result.
//
// Colour precedence: explicit argument, else the value the icon's own DTD declares (what its
// author saw in the editor; usually #010101 / #FFFFFF or #000000 / #FFFFFF), else the defaults
// below, which are the conventional values Sugar's own icons declare (dark stroke, white fill).

import { sanitizeSvg } from './svg.js';

export const DEFAULT_STROKE_COLOR = '#010101';
export const DEFAULT_FILL_COLOR = '#FFFFFF';

const COLOR_RE = /^(?:#[0-9a-fA-F]{3,8}|[a-zA-Z]+|rgba?\([0-9.,%\s]+\))$/;

export function isIconColor(c: string): boolean {
  return COLOR_RE.test(c.trim());
}

export interface RenderedIcon {
  svg: string | null;
  removed: string[];
  error: string | null;
}

export function renderIcon(svg: string, stroke?: string, fill?: string): RenderedIcon {
  for (const c of [stroke, fill]) {
    if (c !== undefined && !isIconColor(c)) throw new RangeError(`not a colour: ${JSON.stringify(c)}`);
  }
  return sanitizeSvg(svg, (entities) => {
    const pick = (name: string, given: string | undefined, fallback: string) => {
      const declared = entities.get(name);
      entities.set(name, given ?? (declared !== undefined && isIconColor(declared) ? declared.trim() : fallback));
    };
    pick('stroke_color', stroke, DEFAULT_STROKE_COLOR);
    pick('fill_color', fill, DEFAULT_FILL_COLOR);
  });
}

/**
 * Returns the icon with `&stroke_color;`/`&fill_color;` resolved (given colours, else the icon's
 * declared ones, else #010101/#FFFFFF), its DTD removed, and everything unsafe stripped, ready
 * to serve as image/svg+xml. Throws if the input is not a usable SVG document, or if a given
 * colour is not a CSS colour (#rgb, #rrggbb, #rrggbbaa, a name, rgb()/rgba()).
 */
export function resolveIconColors(svg: string, stroke?: string, fill?: string): string {
  const r = renderIcon(svg, stroke, fill);
  if (r.svg === null) throw new Error(`unusable SVG icon: ${r.error}`);
  return r.svg;
}
