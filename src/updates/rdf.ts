// The Mozilla update RDF that every Sugar since 0.86 reads (docs: ../shared sugar-protocols §2).
// The client parses it with ElementTree and reads the FIRST em:version, em:updateLink and
// em:updateSize in document order, using their text verbatim; "no update" is a root without any
// RDF:Description. So: no whitespace inside text elements, sizes in KiB rounded up, everything
// escaped.
import { createHash } from 'node:crypto';

export const SUGAR_APP_GUID = '{3ca105e0-2280-4897-99a0-c277d1b733d2}';
export const RDF_NS = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
export const EM_NS = 'http://www.mozilla.org/2004/em-rdf#';

const HEAD = `<?xml version="1.0" encoding="UTF-8"?>\n<RDF:RDF xmlns:RDF="${RDF_NS}" xmlns:em="${EM_NS}">`;
const TAIL = '</RDF:RDF>\n';

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

/** Characters XML 1.0 cannot carry at all (a bundle id could hold them in theory). */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function xmlSafe(s: string): boolean {
  return !XML_FORBIDDEN.test(s);
}

/** The size the client expects: KiB, rounded up (it multiplies by 1024). */
export function sizeInKiB(bytes: number): number {
  return Math.ceil(Math.max(0, bytes) / 1024);
}

export interface RdfUpdate {
  bundleId: string;
  version: string;
  sugarMin: string;
  sugarMax: string;
  updateLink: string;
  sizeBytes: number;
  sha256: string;
  updateInfoUrl: string | null;
}

export interface RdfBody {
  body: Buffer;
  etag: string;
}

export function etagOf(body: Buffer | string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

export function buildUpdateRdf(u: RdfUpdate): string {
  const id = xmlEscape(u.bundleId);
  const version = xmlEscape(u.version);
  const resource = `urn:mozilla:extension:${id}:${version}`;
  return (
    HEAD +
    '\n' +
    `<RDF:Description about="urn:mozilla:extension:${id}">\n` +
    '  <em:updates>\n' +
    '    <RDF:Seq>\n' +
    `      <RDF:li resource="${resource}"/>\n` +
    '    </RDF:Seq>\n' +
    '  </em:updates>\n' +
    '</RDF:Description>\n' +
    `<RDF:Description about="${resource}">\n` +
    `  <em:version>${version}</em:version>\n` +
    '  <em:targetApplication>\n' +
    '    <RDF:Description>\n' +
    `      <em:id>${SUGAR_APP_GUID}</em:id>\n` +
    `      <em:minVersion>${xmlEscape(u.sugarMin)}</em:minVersion>\n` +
    `      <em:maxVersion>${xmlEscape(u.sugarMax)}</em:maxVersion>\n` +
    `      <em:updateLink>${xmlEscape(u.updateLink)}</em:updateLink>\n` +
    `      <em:updateSize>${sizeInKiB(u.sizeBytes)}</em:updateSize>\n` +
    `      <em:updateHash>sha256:${xmlEscape(u.sha256)}</em:updateHash>\n` +
    (u.updateInfoUrl ? `      <em:updateInfoURL>${xmlEscape(u.updateInfoUrl)}</em:updateInfoURL>\n` : '') +
    '    </RDF:Description>\n' +
    '  </em:targetApplication>\n' +
    '</RDF:Description>\n' +
    TAIL
  );
}

export function rdfBody(text: string): RdfBody {
  const body = Buffer.from(text, 'utf8');
  return { body, etag: etagOf(body) };
}

/** "No update": a well-formed root with no RDF:Description. */
export const EMPTY_RDF: RdfBody = rdfBody(HEAD + '\n' + TAIL);
