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

/**
 * Text content for Sugar's parser: only "&" and "<" are escaped. Python 2's HTMLParser (Sugar
 * 0.100-0.114) drops every character or entity reference from text (&#39;, &quot;, &gt;, even
 * &amp;), so "'", '"' and ">" are written as themselves, which HTML allows in text.
 */
export function textEscape(s: string): string {
  return s.replace(/[&<]/g, (c) => (c === '&' ? '&amp;' : '&lt;'));
}

/** Sugar 0.100-0.114 feed the parser the body in reads of this size (libsoup's block). */
export const FEED_READ_BLOCK = 8192;

/** The padding that moves text starting at byte `at` (of `len` bytes) off a read boundary, or ''. */
function padFor(at: number, len: number): string {
  if (len <= 0 || len > FEED_READ_BLOCK) return '';
  const first = Math.floor(at / FEED_READ_BLOCK);
  const last = Math.floor((at + len - 1) / FEED_READ_BLOCK);
  if (first === last) return '';
  return ' '.repeat((first + 1) * FEED_READ_BLOCK - at);
}

/**
 * The page. Laid out so that no entry's id or version text crosses an 8 KiB boundary of the body:
 * Sugar 0.100-0.114 hand the parser each network read as it comes, and a text split between two
 * reads is read as two pieces; for the version only the last piece is kept (1.10 read as 10). Where
 * a text would straddle a boundary, spaces (ignored by the parser: they are outside any field)
 * move it to the start of the next block.
 */
export function renderMicroformat(page: { title: string; description: string; lang: string; entries: MicroformatEntry[] }): string {
  const out: string[] = [];
  let bytes = 0;
  const put = (s: string) => {
    out.push(s);
    bytes += Buffer.byteLength(s, 'utf8');
  };
  put('<!DOCTYPE html>\n');
  put(`<html lang="${htmlEscape(page.lang)}">\n`);
  put('<head>\n');
  put('<meta charset="utf-8"/>\n');
  put(`<title>${textEscape(oneLine(page.title))}</title>\n`);
  put('</head>\n');
  put('<body>\n');
  put(`<h1 id="olpc-activity-group-name">${textEscape(oneLine(page.title))}</h1>\n`);
  put(`<p id="olpc-activity-group-desc">${textEscape(oneLine(page.description))}</p>\n`);
  put('<table>\n');
  const rowStart = '<tr class="olpc-activity-info">\n<td class="olpc-activity-id">';
  const rowStartBytes = Buffer.byteLength(rowStart);
  const versionStart = '<td class="olpc-activity-version">';
  const versionStartBytes = Buffer.byteLength(versionStart);
  for (const e of page.entries) {
    const id = textEscape(e.activity.bundleId);
    const idBytes = Buffer.byteLength(id, 'utf8');
    put(padFor(bytes + rowStartBytes, idBytes));
    put(rowStart);
    put(id);
    put('</td>\n');
    put(`<td class="olpc-activity-name">${textEscape(oneLine(localizedName(e.activity, page.lang)))}</td>\n`);
    const version = textEscape(e.version.version);
    put(padFor(bytes + versionStartBytes, Buffer.byteLength(version, 'utf8')));
    put(versionStart);
    put(version);
    put('</td>\n');
    put(`<td class="olpc-activity-size">${e.version.size}</td>\n`);
    put(`<td class="olpc-activity-url"><a href="${htmlEscape(e.url)}">${textEscape(e.version.fileName)}</a></td>\n`);
    if (e.optional) put('<td class="olpc-activity-optional">1</td>\n');
    put('</tr>\n');
  }
  put('</table>\n');
  put('</body>\n');
  put('</html>\n');
  return out.join('');
}
