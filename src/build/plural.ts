// Evaluates a gettext Plural-Forms expression (`plural=...`) for one n, as Python's gettext
// (c2py) does. Python's gettext() looks up `(msgid, plural(1))` when a plain msgid is missing,
// so the linfo builder needs plural(1). Returns null for an expression Python would refuse.

type Tok = { t: 'num'; v: number } | { t: 'n' } | { t: 'op'; v: string };

function lex(src: string): Tok[] | null {
  const out: Tok[] = [];
  const re = /\s*(?:(\d+)|(n)|(&&|\|\||==|!=|<=|>=|[-+*/%<>!?:()]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) return null;
    if (m[1] !== undefined) out.push({ t: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ t: 'n' });
    else out.push({ t: 'op', v: m[3] });
    i = re.lastIndex;
  }
  return out;
}

export function evaluatePlural(expression: string, n: number): number | null {
  const toks = lex(expression);
  if (!toks || toks.length === 0) return null;
  let p = 0;
  const peek = (v: string) => toks[p] && toks[p].t === 'op' && (toks[p] as { v: string }).v === v;
  const BIN: string[][] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['+', '-'], ['*', '/', '%']];
  const num = (b: boolean | number) => (typeof b === 'boolean' ? (b ? 1 : 0) : b);
  const ternary = (): number => {
    const c = binary(0);
    if (peek('?')) {
      p++;
      const a = ternary();
      if (!peek(':')) throw new Error('expected :');
      p++;
      const b = ternary();
      return c !== 0 ? a : b;
    }
    return c;
  };
  const binary = (level: number): number => {
    if (level === BIN.length) return unary();
    let left = binary(level + 1);
    for (;;) {
      const tok = toks[p];
      if (!tok || tok.t !== 'op' || !BIN[level].includes(tok.v)) return left;
      p++;
      const right = binary(level + 1);
      switch (tok.v) {
        case '||':
          left = num(left !== 0 || right !== 0);
          break;
        case '&&':
          left = num(left !== 0 && right !== 0);
          break;
        case '==':
          left = num(left === right);
          break;
        case '!=':
          left = num(left !== right);
          break;
        case '<':
          left = num(left < right);
          break;
        case '<=':
          left = num(left <= right);
          break;
        case '>':
          left = num(left > right);
          break;
        case '>=':
          left = num(left >= right);
          break;
        case '+':
          left = left + right;
          break;
        case '-':
          left = left - right;
          break;
        case '*':
          left = left * right;
          break;
        case '/':
          if (right === 0) throw new Error('division by zero');
          left = Math.floor(left / right);
          break;
        case '%':
          if (right === 0) throw new Error('division by zero');
          left = left - right * Math.floor(left / right);
          break;
      }
    }
  };
  const unary = (): number => {
    if (peek('!')) {
      p++;
      return num(unary() === 0);
    }
    const tok = toks[p++];
    if (!tok) throw new Error('unexpected end');
    if (tok.t === 'num') return tok.v;
    if (tok.t === 'n') return n;
    if (tok.v === '(') {
      const v = ternary();
      if (!peek(')')) throw new Error('expected )');
      p++;
      return v;
    }
    throw new Error('unexpected token');
  };
  try {
    const v = ternary();
    return p === toks.length ? v : null;
  } catch {
    return null;
  }
}

/** The `plural=` expression of a header's Plural-Forms line, as Python's gettext finds it. */
export function pluralExpression(headerText: string): string | null {
  for (const raw of headerText.split('\n')) {
    const item = raw.trim();
    const colon = item.indexOf(':');
    if (colon < 0) continue;
    if (item.slice(0, colon).trim().toLowerCase() !== 'plural-forms') continue;
    const parts = item
      .slice(colon + 1)
      .trim()
      .split(';');
    if (parts.length < 2 || !parts[1].includes('plural=')) return null;
    return parts[1].split('plural=')[1];
  }
  return null;
}
