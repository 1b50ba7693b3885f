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
    const attrs = ((item[':@'] ?? {}) as Record<string, string>);
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
  const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, trimValues: false, parseTagValue: false, parseAttributeValue: false, processEntities: true });
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
  for (const [what, n] of [['version', version], ['updateLink', link], ['updateSize', size]] as const) {
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
const unescape = (s: string) => s.replace(/&(#?\w+);/g, (m, e: string) => ENTITIES[e] ?? (e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : m));

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
    const classes = attrs.filter(([a]) => a === 'class').map(([, v]) => v).join(' ').split(/\s+/).filter(Boolean);
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
    const d = unescape(raw);
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
      for (const a of (m[3] ?? '').matchAll(/([a-zA-Z-:]+)(?:\s*=\s*"([^"]*)")?/g)) attrs.push([a[1]!.toLowerCase(), unescape(a[2] ?? '')]);
      start(attrs);
      if (m[4] === '/') end();
    } else if (m[5]) data(m[5]);
  }
  return { groupName: st.groupName, groupDesc: st.groupDesc, results };
}
