// Activity-group pages in the microformat Sugar's microformat updater reads (jarabe's
// _UpdateHTMLParser): an element with id olpc-activity-group-name / -desc, and per activity an
// element of class olpc-activity-info holding olpc-activity-id, olpc-activity-version,
// olpc-activity-url (an href) and optionally olpc-activity-optional. The parser tracks nesting by
// counting start and end tags, so every element inside an entry has an end tag (no <br>, no
// <img>); it reads text as it comes, so ids and versions are written without inner markup.
import { localeChain, resolveTexts, type TextRow } from '../catalog/locales.js';
import type { IxActivity, IxVersion } from './update-index.js';

export interface MicroformatEntry {
  activity: IxActivity;
  version: IxVersion;
  url: string;
  optional: boolean;
}

export function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** Keep text on one line: the client concatenates stripped data chunks. */
function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export function localizedName(a: IxActivity, lang: string | null): string {
  return resolveTexts(a.texts.map((t) => ({ ...t, description: null })) as TextRow[], localeChain(lang), a.bundleId).name;
}

export function renderMicroformat(page: { title: string; description: string; lang: string; entries: MicroformatEntry[] }): string {
  const out: string[] = [];
  out.push('<!DOCTYPE html>');
  out.push(`<html lang="${htmlEscape(page.lang)}">`);
  out.push('<head>');
  out.push('<meta charset="utf-8"/>');
  out.push(`<title>${htmlEscape(oneLine(page.title))}</title>`);
  out.push('</head>');
  out.push('<body>');
  out.push(`<h1 id="olpc-activity-group-name">${htmlEscape(oneLine(page.title))}</h1>`);
  out.push(`<p id="olpc-activity-group-desc">${htmlEscape(oneLine(page.description))}</p>`);
  out.push('<table>');
  for (const e of page.entries) {
    const name = oneLine(localizedName(e.activity, page.lang));
    out.push('<tr class="olpc-activity-info">');
    out.push(`<td class="olpc-activity-id">${htmlEscape(e.activity.bundleId)}</td>`);
    out.push(`<td class="olpc-activity-name">${htmlEscape(name)}</td>`);
    out.push(`<td class="olpc-activity-version">${htmlEscape(e.version.version)}</td>`);
    out.push(`<td class="olpc-activity-size">${e.version.size}</td>`);
    out.push(`<td class="olpc-activity-url"><a href="${htmlEscape(e.url)}">${htmlEscape(e.version.fileName)}</a></td>`);
    if (e.optional) out.push('<td class="olpc-activity-optional">1</td>');
    out.push('</tr>');
  }
  out.push('</table>');
  out.push('</body>');
  out.push('</html>');
  return out.join('\n') + '\n';
}
