// A whitelist SVG sanitizer for activity icons, so they can be served as image/svg+xml and even
// opened directly in a browser tab without running anything.
//
// Sugar icons are small hand-made or Inkscape/Illustrator SVGs. They declare entities in an
// internal DTD (`<!ENTITY stroke_color "#010101">`, Illustrator's `&ns_svg;` namespace entities)
// that browsers do not resolve reliably, so we resolve internal entities ourselves, drop the DTD,
// and re-serialize a clean document:
//  * only known SVG drawing elements are kept; `a` is unwrapped (children kept); everything else
//    (script, foreignObject, metadata, editor namespaces, animation, iframe...) is dropped with
//    its whole subtree;
//  * attributes: no event handlers (on*), no namespaced attributes except xlink:* and xml:space/
//    xml:lang, references (href, xlink:href, url(...)) only to fragments inside the document,
//    except raster `data:` images in <image>;
//  * CSS (style attributes and <style>) loses @import, non-fragment url(), expression() and
//    javascript:;
//  * entities: XML's five, numeric references, and internal entities declared in the DTD (one
//    level only: an entity value is not expanded again, which rules out "billion laughs");
//    anything else (external entities, undeclared names) is removed.
// Comments, processing instructions and the XML declaration are dropped. Output is UTF-8 text.

export interface SanitizeSvgResult {
  /** The sanitized SVG, or null when the input is not a usable SVG document. */
  svg: string | null;
  /** Short descriptions of dangerous things removed (scripts, handlers, external references). */
  removed: string[];
  /** Why the input was unusable (when svg is null). */
  error: string | null;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';

const ALLOWED_ELEMENTS = new Set([
  'svg',
  'g',
  'defs',
  'symbol',
  'use',
  'switch',
  'title',
  'desc',
  'style',
  'path',
  'rect',
  'circle',
  'ellipse',
  'line',
  'polyline',
  'polygon',
  'text',
  'tspan',
  'textPath',
  'linearGradient',
  'radialGradient',
  'stop',
  'pattern',
  'clipPath',
  'mask',
  'marker',
  'image',
  'filter',
  'feBlend',
  'feColorMatrix',
  'feComponentTransfer',
  'feComposite',
  'feConvolveMatrix',
  'feDiffuseLighting',
  'feDisplacementMap',
  'feDistantLight',
  'feDropShadow',
  'feFlood',
  'feFuncA',
  'feFuncB',
  'feFuncG',
  'feFuncR',
  'feGaussianBlur',
  'feMerge',
  'feMergeNode',
  'feMorphology',
  'feOffset',
  'fePointLight',
  'feSpecularLighting',
  'feSpotLight',
  'feTile',
  'feTurbulence',
]);
/** Elements whose tags are dropped but whose children are kept. */
const UNWRAP_ELEMENTS = new Set(['a']);
/** Dropped elements worth mentioning in `removed` (the rest is editor metadata). */
const DANGEROUS_ELEMENTS = new Set(['script', 'foreignObject', 'iframe', 'object', 'embed', 'handler', 'listener', 'set', 'animate']);

const XML_PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

type Token =
  | { t: 'text'; text: string; cdata: boolean }
  | { t: 'open'; name: string; attrs: [string, string][]; selfClose: boolean }
  | { t: 'close'; name: string }
  | { t: 'doctype'; body: string };

class SvgSyntaxError extends Error {}

const NAME_RE = /[A-Za-z_:][-A-Za-z0-9_.:]*/y;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const lt = src.indexOf('<', i);
    if (lt < 0) {
      out.push({ t: 'text', text: src.slice(i), cdata: false });
      break;
    }
    if (lt > i) out.push({ t: 'text', text: src.slice(i, lt), cdata: false });
    i = lt;
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      if (end < 0) throw new SvgSyntaxError('unterminated comment');
      i = end + 3;
    } else if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i + 9);
      if (end < 0) throw new SvgSyntaxError('unterminated CDATA section');
      out.push({ t: 'text', text: src.slice(i + 9, end), cdata: true });
      i = end + 3;
    } else if (src.startsWith('<!DOCTYPE', i)) {
      // The internal subset may contain '>' inside [...] and quoted strings.
      let j = i + 9;
      let depth = 0;
      let quote: string | null = null;
      for (; j < n; j++) {
        const c = src[j];
        if (quote) {
          if (c === quote) quote = null;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (c === '>' && depth <= 0) break;
      }
      if (j >= n) throw new SvgSyntaxError('unterminated DOCTYPE');
      out.push({ t: 'doctype', body: src.slice(i + 9, j) });
      i = j + 1;
    } else if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i + 2);
      if (end < 0) throw new SvgSyntaxError('unterminated processing instruction');
      i = end + 2;
    } else if (src.startsWith('</', i)) {
      NAME_RE.lastIndex = i + 2;
      const m = NAME_RE.exec(src);
      if (!m) throw new SvgSyntaxError('bad end tag');
      const end = src.indexOf('>', NAME_RE.lastIndex);
      if (end < 0) throw new SvgSyntaxError('unterminated end tag');
      out.push({ t: 'close', name: m[0] });
      i = end + 1;
    } else if (src.startsWith('<!', i)) {
      throw new SvgSyntaxError('unexpected markup declaration');
    } else {
      NAME_RE.lastIndex = i + 1;
      const m = NAME_RE.exec(src);
      if (!m) throw new SvgSyntaxError(`bad tag at offset ${i}`);
      let j = NAME_RE.lastIndex;
      const attrs: [string, string][] = [];
      let selfClose = false;
      for (;;) {
        while (j < n && /\s/.test(src[j])) j++;
        if (j >= n) throw new SvgSyntaxError('unterminated start tag');
        if (src[j] === '>') {
          j++;
          break;
        }
        if (src.startsWith('/>', j)) {
          selfClose = true;
          j += 2;
          break;
        }
        NAME_RE.lastIndex = j;
        const an = NAME_RE.exec(src);
        if (!an) throw new SvgSyntaxError(`bad attribute in <${m[0]}>`);
        j = NAME_RE.lastIndex;
        while (j < n && /\s/.test(src[j])) j++;
        if (src[j] !== '=') throw new SvgSyntaxError(`attribute ${an[0]} without value`);
        j++;
        while (j < n && /\s/.test(src[j])) j++;
        const q = src[j];
        if (q !== '"' && q !== "'") throw new SvgSyntaxError(`unquoted attribute ${an[0]}`);
        const end = src.indexOf(q, j + 1);
        if (end < 0) throw new SvgSyntaxError('unterminated attribute value');
        attrs.push([an[0], src.slice(j + 1, end)]);
        j = end + 1;
      }
      out.push({ t: 'open', name: m[0], attrs, selfClose });
      i = j;
    }
  }
  return out;
}

/** Internal general entities declared in a DOCTYPE body: <!ENTITY name "value">. */
export function parseInternalEntities(doctypeBody: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /<!ENTITY\s+([A-Za-z_:][-A-Za-z0-9_.:]*)\s+(?:"([^"]*)"|'([^']*)')\s*>/g;
  for (const m of doctypeBody.matchAll(re)) {
    if (!out.has(m[1])) out.set(m[1], m[2] ?? m[3] ?? ''); // XML: the first declaration wins
  }
  return out;
}

function decodeCharRef(ref: string): string {
  const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
  const ok = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
  return ok ? String.fromCodePoint(cp) : '';
}

/** Resolves references; `entities` values get one level of char/predefined decoding only. */
function decodeEntities(s: string, entities: Map<string, string>, unknown: Set<string>, nested = false): string {
  return s.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z_:][-A-Za-z0-9_.:]*);/g, (_all, ref: string) => {
    if (ref[0] === '#') return decodeCharRef(ref);
    if (ref in XML_PREDEFINED) return XML_PREDEFINED[ref];
    const v = entities.get(ref);
    if (v !== undefined && !nested) return decodeEntities(v, new Map(), unknown, true);
    unknown.add(ref);
    return '';
  });
}

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, '&quot;');

/** Removes CSS constructs that can fetch or run anything. Returns [css, changed]. */
function cleanCss(css: string): [string, boolean] {
  let out = css.replace(/\/\*[\s\S]*?\*\//g, '');
  out = out.replace(/@import[^;]*;?/gi, '');
  out = out.replace(/url\(\s*(['"]?)(.*?)\1\s*\)/gi, (all, _q, target: string) => (target.trim().startsWith('#') ? all : 'none'));
  out = out.replace(/expression\s*\(|javascript:|-moz-binding|behavior\s*:/gi, '');
  // CSS escapes could spell any of the above; icons have no reason to use them.
  out = out.replace(/\\/g, '');
  return [out, out !== css.replace(/\/\*[\s\S]*?\*\//g, '')];
}

function isFragmentRef(v: string): boolean {
  return v.trim().startsWith('#');
}

const RASTER_DATA_URL = /^\s*data:image\/(?:png|jpeg|jpg|gif|webp);base64,[A-Za-z0-9+/=\s]*$/i;

/** Filters one attribute; returns the value to keep or null. */
function filterAttr(element: string, name: string, value: string, removed: Set<string>): string | null {
  const lower = name.toLowerCase();
  if (lower.startsWith('on')) {
    removed.add(`event handler ${name}`);
    return null;
  }
  if (name === 'xmlns') return value === SVG_NS ? value : null;
  if (name === 'xmlns:xlink') return value === XLINK_NS ? value : null;
  if (name.includes(':') && !name.startsWith('xlink:') && name !== 'xml:space' && name !== 'xml:lang') return null;
  if (lower === 'href' || lower === 'xlink:href') {
    if (isFragmentRef(value)) return value;
    if (element === 'image' && RASTER_DATA_URL.test(value)) return value;
    removed.add(`external reference in <${element} ${name}>`);
    return null;
  }
  if (/javascript:|vbscript:|data:text/i.test(value.replace(/\s/g, ''))) {
    removed.add(`script URL in ${name}`);
    return null;
  }
  if (lower === 'style' || /url\s*\(/i.test(value)) {
    const [css, changed] = cleanCss(value);
    if (changed) removed.add(`external reference in ${name}`);
    return css;
  }
  return value;
}

interface Frame {
  name: string;
  /** emitted: tag written; unwrapped: tag skipped, children kept; dropped: whole subtree skipped. */
  mode: 'emitted' | 'unwrapped' | 'dropped';
}

/**
 * Sanitizes an SVG. `adjustEntities` receives the internal entities the DTD declares and may
 * change or add values before they are substituted (that is how icon colours are applied).
 */
export function sanitizeSvg(src: string, adjustEntities?: (declared: Map<string, string>) => void): SanitizeSvgResult {
  let tokens: Token[];
  try {
    tokens = tokenize(src);
  } catch (e) {
    return { svg: null, removed: [], error: `not well-formed XML (${(e as Error).message})` };
  }
  const entities = new Map<string, string>();
  for (const tok of tokens) if (tok.t === 'doctype') for (const [k, v] of parseInternalEntities(tok.body)) entities.set(k, v);
  adjustEntities?.(entities);
  const needsSvgPrefix = src.includes('<svg:');

  const removed = new Set<string>();
  const unknown = new Set<string>();
  const out: string[] = [];
  const stack: Frame[] = [];
  let rootSeen = false;
  let rootClosed = false;
  const dropping = () => stack.some((f) => f.mode === 'dropped');
  const inStyle = () => stack.length > 0 && stack[stack.length - 1].name === 'style' && stack[stack.length - 1].mode === 'emitted';

  for (const tok of tokens) {
    if (rootClosed) break;
    if (tok.t === 'doctype') continue;
    if (tok.t === 'text') {
      if (!rootSeen || dropping()) continue;
      const text = tok.cdata ? tok.text : decodeEntities(tok.text, entities, unknown);
      if (inStyle()) {
        const [css, changed] = cleanCss(text);
        if (changed) removed.add('external reference in <style>');
        out.push(escapeText(css));
      } else out.push(escapeText(text));
      continue;
    }
    if (tok.t === 'open') {
      const local = tok.name.startsWith('svg:') ? tok.name.slice(4) : tok.name;
      if (!rootSeen) {
        if (local !== 'svg') return { svg: null, removed: [], error: `the root element is <${tok.name}>, not <svg>` };
        rootSeen = true;
      }
      let mode: Frame['mode'];
      if (dropping()) mode = 'dropped';
      else if (ALLOWED_ELEMENTS.has(local)) mode = 'emitted';
      else if (UNWRAP_ELEMENTS.has(local)) mode = 'unwrapped';
      else {
        mode = 'dropped';
        if (DANGEROUS_ELEMENTS.has(local) || /^(animate|set)/.test(local)) removed.add(`<${tok.name}>`);
      }
      if (mode === 'emitted') {
        const attrs: string[] = [];
        const isRoot = stack.length === 0;
        let hasXmlns = false;
        const names = new Set<string>();
        for (const [name, rawValue] of tok.attrs) {
          if (names.has(name)) continue; // a repeated attribute would make the XML invalid
          names.add(name);
          const value = decodeEntities(rawValue, entities, unknown);
          const kept = filterAttr(local, name, value, removed);
          if (kept === null) continue;
          if (name === 'xmlns') hasXmlns = true;
          if (isRoot && name === 'xmlns:xlink') continue; // always written below
          attrs.push(` ${name}="${escapeAttr(kept)}"`);
        }
        if (isRoot) {
          // Browsers only render image/svg+xml with the SVG namespace; editors' files sometimes
          // had it in an entity (&ns_svg;) or rely on the svg: prefix.
          if (!hasXmlns) attrs.unshift(` xmlns="${SVG_NS}"`);
          attrs.push(` xmlns:xlink="${XLINK_NS}"`);
          if (needsSvgPrefix) attrs.push(` xmlns:svg="${SVG_NS}"`);
        }
        out.push(`<${tok.name}${attrs.join('')}${tok.selfClose ? '/>' : '>'}`);
      }
      if (!tok.selfClose) stack.push({ name: tok.name, mode });
      else if (stack.length === 0) rootClosed = true;
      continue;
    }
    // close tag: pop to the matching open element (tolerates sloppy nesting without emitting
    // mismatched tags; an unmatched close tag is ignored)
    let k = stack.length - 1;
    while (k >= 0 && stack[k].name !== tok.name) k--;
    if (k < 0) continue;
    while (stack.length > k) {
      const f = stack.pop()!;
      if (f.mode === 'emitted') out.push(`</${f.name}>`);
    }
    if (stack.length === 0) rootClosed = true;
  }
  if (!rootSeen) return { svg: null, removed: [], error: 'no <svg> element found' };
  while (stack.length) {
    const f = stack.pop()!;
    if (f.mode === 'emitted') out.push(`</${f.name}>`);
  }
  if (unknown.size) removed.add(`undeclared entities ${[...unknown].map((u) => `&${u};`).join(' ')}`);
  return { svg: out.join(''), removed: [...removed], error: null };
}
