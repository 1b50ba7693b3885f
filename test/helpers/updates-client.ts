// Reads updater answers the way the real clients do, with a strict XML parser.
//  * readRdfLikeSugar: Sugar's jarabe/model/update/aslo.py: ElementTree, "no RDF:Description
//    anywhere" means no update; otherwise the FIRST em:version, em:updateLink, em:updateSize in
//    document order, text verbatim, size * 1024.
//  * readMicroformatLikeSugar: jarabe's _UpdateHTMLParser, re-implemented over a tag tokenizer with
//    the same nesting counters (a void element without "/>" would break it, as it breaks Sugar).
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseSugarVersion } from '../../src/bundles/index.js';

export const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
export const EM = 'http://www.mozilla.org/2004/em-rdf#';

interface Node {
  name: string; // {uri}local
  attrs: Record<string, string>;
  text: string; // ElementTree .text: the text before the first child
  children: Node[];
}

type Ordered = Record<string, unknown>[];

function toTree(items: Ordered, ns: Record<string, string>): Node[] {
  const out: Node[] = [];
  for (const item of items) {
    const tag = Object.keys(item).find((k) => k !== ':@');
    if (!tag || tag === '#text' || tag.startsWith('?')) continue;
    const attrs = (item[':@'] ?? {}) as Record<string, string>;
    const scope = { ...ns };
    for (const [k, v] of Object.entries(attrs)) {
      if (k === '@_xmlns') scope[''] = v;
      else if (k.startsWith('@_xmlns:')) scope[k.slice('@_xmlns:'.length)] = v;
    }
    const [prefix, local] = tag.includes(':') ? tag.split(':', 2) : ['', tag];
    const uri = scope[prefix!];
    assert.ok(uri !== undefined || prefix === '', `unbound prefix ${prefix}`);
    const kids = item[tag] as Ordered;
    let text = '';
    for (const k of kids) {
      if ('#text' in k) text += String(k['#text']);
      else break;
    }
    const plainAttrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) plainAttrs[k.replace(/^@_/, '')] = String(v);
    out.push({ name: uri ? `{${uri}}${local}` : local!, attrs: plainAttrs, text, children: toTree(kids, scope) });
  }
  return out;
}

function findFirst(nodes: Node[], name: string): Node | null {
  for (const n of nodes) {
    if (n.name === name) return n;
    const inner = findFirst(n.children, name);
    if (inner) return inner;
  }
  return null;
}

export interface SugarRdfReading {
  update: boolean;
  version?: string;
  link?: string;
  /** Bytes, as the client computes them (KiB * 1024). */
  size?: number;
  sizeKiB?: number;
  hash?: string | null;
  minVersion?: string;
  maxVersion?: string;
  appId?: string;
  infoUrl?: string | null;
  root: string;
}

export function parseStrictXml(xml: string): Node[] {
  const valid = XMLValidator.validate(xml);
  assert.equal(valid, true, `not well-formed XML: ${JSON.stringify(valid)}\n${xml}`);
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    trimValues: false,
    parseTagValue: false,
    parseAttributeValue: false,
    processEntities: true,
  });
  return toTree(parser.parse(xml) as Ordered, {});
}

export function readRdfLikeSugar(xml: string): SugarRdfReading {
  const tree = parseStrictXml(xml);
  const roots = tree;
  assert.equal(roots.length, 1, 'one root element');
  const root = roots[0]!;
  assert.equal(root.name, `{${RDF}}RDF`, 'the root is RDF:RDF');
  const desc = findFirst(root.children, `{${RDF}}Description`);
  if (!desc) return { update: false, root: root.name };
  const version = findFirst([root], `{${EM}}version`);
  const link = findFirst([root], `{${EM}}updateLink`);
  const size = findFirst([root], `{${EM}}updateSize`);
  assert.ok(version && link && size, 'em:version, em:updateLink and em:updateSize are all present');
  for (const [what, n] of [
    ['version', version],
    ['updateLink', link],
    ['updateSize', size],
  ] as const) {
    assert.equal(n.text, n.text.trim(), `em:${what} has no surrounding whitespace`);
  }
  assert.ok(parseSugarVersion(version.text).valid, `em:version "${version.text}" is a NormalizedVersion`);
  assert.match(size.text, /^\d+$/, 'em:updateSize is an integer');
  const hash = findFirst([root], `{${EM}}updateHash`);
  const info = findFirst([root], `{${EM}}updateInfoURL`);
  return {
    update: true,
    version: version.text,
    link: link.text,
    sizeKiB: Number(size.text),
    size: Number(size.text) * 1024,
    hash: hash?.text ?? null,
    minVersion: findFirst([root], `{${EM}}minVersion`)?.text,
    maxVersion: findFirst([root], `{${EM}}maxVersion`)?.text,
    appId: findFirst([root], `{${EM}}id`)?.text,
    infoUrl: info?.text ?? null,
    root: root.name,
  };
}

// ---- microformat ----

export interface MicroformatReading {
  groupName: string | null;
  groupDesc: string | null;
  results: Map<string, { version: string; url: string; optional: boolean }>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };
const unescapeEntities = (s: string) =>
  s.replace(/&(#?\w+);/g, (m, e: string) => ENTITIES[e] ?? (e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : m));

/** jarabe's _UpdateHTMLParser, step for step (start/end/data events from a simple tokenizer). */
export function readMicroformatLikeSugar(html: string, baseHref: string): MicroformatReading {
  const st = {
    groupName: null as string | null,
    groupDesc: null as string | null,
    inGroupName: 0,
    inGroupDesc: 0,
    inActivity: 0,
    inId: 0,
    inUrl: 0,
    inVersion: 0,
    inOptional: 0,
    lastId: null as string | null,
    lastVersion: null as string | null,
    lastUrl: null as string | null,
    lastOptional: false,
  };
  const results = new Map<string, { version: string; url: string; optional: boolean }>();
  const clear = () => {
    st.inId = st.inUrl = st.inVersion = st.inOptional = 0;
    st.lastId = st.lastVersion = st.lastUrl = null;
    st.lastOptional = false;
  };
  const start = (attrs: [string, string][]) => {
    const classes = attrs
      .filter(([a]) => a === 'class')
      .map(([, v]) => v)
      .join(' ')
      .split(/\s+/)
      .filter(Boolean);
    const has = (k: string, v: string) => attrs.some(([a, b]) => a === k && b === v);
    if (st.inGroupName === 0) {
      if (has('id', 'olpc-activity-group-name')) st.inGroupName = 1;
    } else st.inGroupName++;
    if (st.inGroupDesc === 0) {
      if (has('id', 'olpc-activity-group-desc')) st.inGroupDesc = 1;
    } else st.inGroupDesc++;
    if (st.inActivity === 0) {
      if (classes.includes('olpc-activity-info')) {
        st.inActivity = 1;
        clear();
      }
      return;
    }
    st.inActivity++;
    if (st.inId === 0) {
      if (classes.includes('olpc-activity-id')) st.inId = 1;
    } else st.inId++;
    if (st.inVersion === 0) {
      if (classes.includes('olpc-activity-version')) st.inVersion = 1;
    } else st.inVersion++;
    if (st.inUrl === 0) {
      if (classes.includes('olpc-activity-url')) st.inUrl = 1;
    } else st.inUrl++;
    if (st.inOptional === 0) {
      if (classes.includes('olpc-activity-optional')) st.inOptional = 1;
    } else st.inOptional++;
    if (st.inUrl > 0) {
      const href = attrs.find(([a]) => a === 'href');
      if (href) st.lastUrl = new URL(href[1], baseHref).toString();
    }
  };
  const data = (raw: string) => {
    const d = unescapeEntities(raw);
    if (st.inGroupName) st.groupName = d.trim();
    if (st.inGroupDesc) st.groupDesc = d.trim();
    if (st.inId > 0) st.lastId = (st.lastId ?? '') + d.trim();
    if (st.inVersion > 0 && parseSugarVersion(d.trim()).valid) st.lastVersion = d.trim();
    if (st.inOptional > 0) st.lastOptional = d.trim() === '1';
  };
  const end = () => {
    if (st.inGroupName > 0) st.inGroupName--;
    if (st.inGroupDesc > 0) st.inGroupDesc--;
    if (st.inId > 0) st.inId--;
    if (st.inVersion > 0) st.inVersion--;
    if (st.inOptional > 0) st.inOptional--;
    if (st.inUrl > 0) st.inUrl--;
    if (st.inActivity > 0) {
      st.inActivity--;
      if (st.inActivity === 0 && st.lastId && st.lastVersion !== null && st.lastUrl !== null) {
        results.set(st.lastId, { version: st.lastVersion, url: st.lastUrl, optional: st.lastOptional });
      }
    }
  };
  const re = /<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<\/([a-zA-Z0-9]+)\s*>|<([a-zA-Z0-9]+)((?:\s+[a-zA-Z-:]+(?:\s*=\s*"[^"]*")?)*)\s*(\/?)>|([^<]+)/g;
  for (const m of html.matchAll(re)) {
    if (m[1]) end();
    else if (m[2]) {
      const attrs: [string, string][] = [];
      for (const a of (m[3] ?? '').matchAll(/([a-zA-Z-:]+)(?:\s*=\s*"([^"]*)")?/g)) attrs.push([a[1]!.toLowerCase(), unescapeEntities(a[2] ?? '')]);
      start(attrs);
      if (m[4] === '/') end();
    } else if (m[5]) data(m[5]);
  }
  return { groupName: st.groupName, groupDesc: st.groupDesc, results };
}

// ---- microformat, read as the real clients read it: in network chunks ----

/**
 * Sugar's _UpdateHTMLParser fed the body in `chunkSize` pieces (Sugar 0.100-0.114 get 8 KiB network
 * reads and feed each to the parser as it arrives), with the tokenizer of the client's Python:
 *  - 'py2' (Sugar 0.100-0.114): Python 2.7's HTMLParser.goahead. Text is handed over up to each
 *    "&" or "<" and at the end of every chunk; character and entity references (&amp; &#39; &lt;)
 *    go to handle_charref/handle_entityref, which Sugar does not define: they vanish. Attribute
 *    values are unescaped.
 *  - 'py3' (Sugar 0.122): html.parser with convert_charrefs=True: references in text are converted,
 *    and text at the end of a chunk is handed over at once unless an "&" near its end may still
 *    be incomplete.
 * Bytes are fed as Python 2 does (a byte string); ids are decoded as UTF-8 at the end.
 */
export function readMicroformatInChunks(body: Buffer, baseHref: string, mode: 'py2' | 'py3', chunkSize = 8192): MicroformatReading {
  const sink = new UpdateParserState(baseHref);
  let raw = '';
  const ENTITYREF = /&([a-zA-Z][-.a-zA-Z0-9]*)[^a-zA-Z0-9]/y;
  const CHARREF = /&#(?:[0-9]+|[xX][0-9a-fA-F]+)[^0-9a-fA-F]/y;
  const INCOMPLETE = /&[a-zA-Z#]/y;
  const decodeText = (s: string) => (mode === 'py3' ? unescapeEntities(s) : s);
  // Index just past the '>' that closes the tag starting at i (quotes respected), or -1.
  const tagEnd = (i: number): number => {
    let q: string | null = null;
    for (let k = i + 1; k < raw.length; k++) {
      const c = raw[k]!;
      if (q) {
        if (c === q) q = null;
      } else if (c === '"' || c === "'") q = c;
      else if (c === '>') return k + 1;
    }
    return -1;
  };
  const startTag = (text: string) => {
    const m = /^<([a-zA-Z][-.a-zA-Z0-9:_]*)([\s\S]*?)(\/?)>$/.exec(text)!;
    const attrs: [string, string][] = [];
    for (const a of m[2]!.matchAll(/([a-zA-Z_:][-.:a-zA-Z0-9_]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
      attrs.push([a[1]!.toLowerCase(), unescapeEntities(a[2] ?? a[3] ?? a[4] ?? '')]);
    }
    sink.start(attrs);
    if (m[3] === '/') sink.end();
  };
  const goahead = (end: boolean) => {
    let i = 0;
    const n = raw.length;
    while (i < n) {
      let j: number;
      if (mode === 'py3') {
        j = raw.indexOf('<', i);
        if (j < 0) {
          const amp = raw.lastIndexOf('&', n - 1);
          if (!end && amp >= Math.max(i, n - 34) && !/[\s;]/.test(raw.slice(amp))) break;
          j = n;
        }
      } else {
        const m = /[&<]/g;
        m.lastIndex = i;
        const found = m.exec(raw);
        j = found ? found.index : n;
      }
      if (i < j) sink.data(decodeText(raw.slice(i, j)));
      i = j;
      if (i === n) break;
      if (raw.startsWith('<', i)) {
        let k: number;
        if (/^<[a-zA-Z]/.test(raw.slice(i, i + 2))) {
          k = tagEnd(i);
          if (k >= 0) startTag(raw.slice(i, k));
        } else if (raw.startsWith('</', i)) {
          k = raw.indexOf('>', i);
          if (k >= 0) {
            k += 1;
            sink.end();
          }
        } else if (raw.startsWith('<!--', i)) {
          k = raw.indexOf('-->', i + 4);
          if (k >= 0) k += 3;
        } else if (raw.startsWith('<!', i) || raw.startsWith('<?', i)) {
          k = raw.indexOf('>', i);
          if (k >= 0) k += 1;
        } else if (i + 1 < n) {
          sink.data('<');
          k = i + 1;
        } else break;
        if (k < 0) break;
        i = k;
      } else if (mode === 'py2' && raw.startsWith('&#', i)) {
        CHARREF.lastIndex = i;
        const m = CHARREF.exec(raw);
        if (m) {
          // handle_charref: not defined by Sugar's parser, the character is lost.
          let k = i + m[0].length;
          if (raw[k - 1] !== ';') k -= 1;
          i = k;
          continue;
        }
        if (raw.slice(i).includes(';')) {
          sink.data(raw.slice(i, i + 2));
          i += 2;
        }
        break;
      } else if (mode === 'py2' && raw.startsWith('&', i)) {
        ENTITYREF.lastIndex = i;
        const m = ENTITYREF.exec(raw);
        if (m) {
          // handle_entityref: not defined by Sugar's parser, the text is lost.
          let k = i + m[0].length;
          if (raw[k - 1] !== ';') k -= 1;
          i = k;
          continue;
        }
        INCOMPLETE.lastIndex = i;
        if (INCOMPLETE.exec(raw)) break;
        if (i + 1 < n) {
          sink.data('&');
          i += 1;
        } else break;
      } else {
        // py3 with convert_charrefs: an '&' is text.
        sink.data(raw.slice(i, i + 1));
        i += 1;
      }
    }
    if (end && i < n) {
      sink.data(decodeText(raw.slice(i)));
      i = n;
    }
    raw = raw.slice(i);
  };
  for (let at = 0; at < body.length; at += chunkSize) {
    raw += body.subarray(at, at + chunkSize).toString('latin1');
    goahead(false);
  }
  goahead(true);
  const fromBytes = (s: string) => Buffer.from(s, 'latin1').toString('utf8');
  const results = new Map<string, { version: string; url: string; optional: boolean }>();
  for (const [id, r] of sink.results) results.set(fromBytes(id), r);
  return {
    groupName: sink.groupName === null ? null : fromBytes(sink.groupName),
    groupDesc: sink.groupDesc === null ? null : fromBytes(sink.groupDesc),
    results,
  };
}

/** The nesting counters of jarabe's _UpdateHTMLParser (start/data/end events). */
class UpdateParserState {
  groupName: string | null = null;
  groupDesc: string | null = null;
  private inGroupName = 0;
  private inGroupDesc = 0;
  private inActivity = 0;
  private inId = 0;
  private inUrl = 0;
  private inVersion = 0;
  private inOptional = 0;
  private lastId: string | null = null;
  private lastVersion: string | null = null;
  private lastUrl: string | null = null;
  private lastOptional = false;
  readonly results = new Map<string, { version: string; url: string; optional: boolean }>();
  constructor(private readonly baseHref: string) {}

  private clear(): void {
    this.inId = this.inUrl = this.inVersion = this.inOptional = 0;
    this.lastId = this.lastVersion = this.lastUrl = null;
    this.lastOptional = false;
  }

  start(attrs: [string, string][]): void {
    const classes = attrs
      .filter(([a]) => a === 'class')
      .map(([, v]) => v)
      .join(' ')
      .split(/\s+/)
      .filter(Boolean);
    const has = (k: string, v: string) => attrs.some(([a, b]) => a === k && b === v);
    if (this.inGroupName === 0) {
      if (has('id', 'olpc-activity-group-name')) this.inGroupName = 1;
    } else this.inGroupName++;
    if (this.inGroupDesc === 0) {
      if (has('id', 'olpc-activity-group-desc')) this.inGroupDesc = 1;
    } else this.inGroupDesc++;
    if (this.inActivity === 0) {
      if (classes.includes('olpc-activity-info')) {
        this.inActivity = 1;
        this.clear();
      }
      return;
    }
    this.inActivity++;
    if (this.inId === 0) {
      if (classes.includes('olpc-activity-id')) this.inId = 1;
    } else this.inId++;
    if (this.inVersion === 0) {
      if (classes.includes('olpc-activity-version')) this.inVersion = 1;
    } else this.inVersion++;
    if (this.inUrl === 0) {
      if (classes.includes('olpc-activity-url')) this.inUrl = 1;
    } else this.inUrl++;
    if (this.inOptional === 0) {
      if (classes.includes('olpc-activity-optional')) this.inOptional = 1;
    } else this.inOptional++;
    if (this.inUrl > 0) {
      const href = attrs.find(([a]) => a === 'href');
      if (href) this.lastUrl = new URL(href[1], this.baseHref).toString();
    }
  }

  data(raw: string): void {
    // str.strip() of a byte string: ASCII whitespace around each piece is dropped, pieces of the
    // id are joined, and the version is whatever the LAST piece that parses as a version says.
    const d = raw.replace(/^[ \t\n\r\x0b\x0c]+|[ \t\n\r\x0b\x0c]+$/g, '');
    if (this.inGroupName) this.groupName = d;
    if (this.inGroupDesc) this.groupDesc = d;
    if (this.inId > 0) this.lastId = (this.lastId ?? '') + d;
    if (this.inVersion > 0 && parseSugarVersion(d).valid) this.lastVersion = d;
    if (this.inOptional > 0) this.lastOptional = d === '1';
  }

  end(): void {
    if (this.inGroupName > 0) this.inGroupName--;
    if (this.inGroupDesc > 0) this.inGroupDesc--;
    if (this.inId > 0) this.inId--;
    if (this.inVersion > 0) this.inVersion--;
    if (this.inOptional > 0) this.inOptional--;
    if (this.inUrl > 0) this.inUrl--;
    if (this.inActivity > 0) {
      this.inActivity--;
      if (this.inActivity === 0 && this.lastId && this.lastVersion !== null && this.lastUrl !== null) {
        this.results.set(this.lastId, { version: this.lastVersion, url: this.lastUrl, optional: this.lastOptional });
      }
    }
  }
}
