// Icon colours and the SVG sanitizer: the output must be safe to serve as image/svg+xml (even
// opened directly in a tab) and still draw the icon.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';
import { resolveIconColors, sanitizeDescription, sanitizeSvg } from '../../src/bundles/index.js';

const DTD =
  '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [\n\t<!ENTITY stroke_color "#000000">\n\t<!ENTITY fill_color "#EEEEEE">\n]>';
const SUGAR_ICON = `<?xml version="1.0" ?>${DTD}<svg xmlns="http://www.w3.org/2000/svg" height="55px" viewBox="0 0 55 55" width="55px"><g display="block" id="x"><path d="M1 1L2 2" fill="&fill_color;" stroke="&stroke_color;" stroke-width="3.5" style="fill:&fill_color;"/></g></svg>`;

function wellFormed(svg: string) {
  assert.equal(XMLValidator.validate(svg), true, svg);
}

describe('resolveIconColors', () => {
  test('uses the given colours', () => {
    const out = resolveIconColors(SUGAR_ICON, '#FF8F00', '#00A0FF');
    assert.match(out, /fill="#00A0FF" stroke="#FF8F00"/);
    assert.match(out, /style="fill:#00A0FF"/);
    assert.ok(!out.includes('<!DOCTYPE') && !out.includes('&fill_color;') && !out.includes('<?xml'));
    wellFormed(out);
  });

  test('falls back to the colours the icon declares', () => {
    assert.match(resolveIconColors(SUGAR_ICON), /fill="#EEEEEE" stroke="#000000"/);
  });

  test('falls back to #010101 / #FFFFFF when nothing is declared', () => {
    const out = resolveIconColors('<svg xmlns="http://www.w3.org/2000/svg"><rect fill="&fill_color;" stroke="&stroke_color;"/></svg>');
    assert.match(out, /fill="#FFFFFF" stroke="#010101"/);
  });

  test('refuses colours that are not colours', () => {
    assert.throws(() => resolveIconColors(SUGAR_ICON, '"><script>'), RangeError);
  });

  test('throws on something that is not an SVG', () => {
    assert.throws(() => resolveIconColors('<html><body/></html>'), /not <svg>/);
    assert.throws(() => resolveIconColors('<svg><rect'), /not well-formed/);
  });

  test('Illustrator namespace entities are resolved', () => {
    const src =
      '<!DOCTYPE svg [<!ENTITY ns_svg "http://www.w3.org/2000/svg"><!ENTITY ns_xlink "http://www.w3.org/1999/xlink"><!ENTITY stroke_color "#010101">]><svg xmlns="&ns_svg;" xmlns:xlink="&ns_xlink;"><path stroke="&stroke_color;"/></svg>';
    const out = resolveIconColors(src);
    assert.equal(out, '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><path stroke="#010101"/></svg>');
  });
});

describe('sanitizeSvg removes everything active', () => {
  // [name, input, must not appear in output, must appear in output]
  const CASES: [string, string, RegExp[], RegExp[]][] = [
    [
      'script elements',
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><script type="text/ecmascript"><![CDATA[alert(2)]]></script><rect/></svg>',
      [/script/i, /alert/],
      [/<rect\/>/],
    ],
    [
      'event handlers',
      '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect onclick="x()" OnMouseOver="y()" width="1"/></svg>',
      [/on\w+=/i],
      [/<rect width="1"\/>/],
    ],
    [
      'foreignObject with HTML',
      '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><iframe src="javascript:alert(1)"/></body></foreignObject><rect/></svg>',
      [/foreignObject|iframe|javascript/i],
      [/<rect\/>/],
    ],
    [
      'javascript: links (the <a> is unwrapped)',
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><rect/></a></svg>',
      [/javascript|<a/],
      [/<rect\/>/],
    ],
    [
      'external use/image references',
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="http://evil.example/x.svg#a"/><image href="https://evil.example/track.png"/><use href="#ok"/></svg>',
      [/evil/],
      [/<use href="#ok"\/>/],
    ],
    [
      'embedded raster images stay',
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="data:image/png;base64,iVBORw0KGgo="/><image href="data:image/svg+xml;base64,PHN2Zz4="/></svg>',
      [/svg\+xml/],
      [/data:image\/png;base64,iVBORw0KGgo=/],
    ],
    [
      'animation that could set attributes',
      '<svg xmlns="http://www.w3.org/2000/svg"><a><set attributeName="href" to="javascript:alert(1)"/><animate attributeName="href" values="javascript:alert(1)"/></a></svg>',
      [/set|animate|javascript/],
      [],
    ],
    [
      'CSS that fetches or runs',
      '<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(http://evil.example/a.css); rect { fill: url(http://evil.example/p.png); stroke: url(#grad); }</style><rect style="background:url(\'http://evil.example\');behavior:url(x.htc)"/></svg>',
      [/evil|@import|behavior/],
      [/url\(#grad\)/],
    ],
    [
      'external and recursive entities',
      '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;|&b;|&a;</text></svg>',
      [/passwd|ENTITY/, /lollol/],
      [/<text>\|\|lol<\/text>/],
    ],
    [
      'editor metadata and namespaces',
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" inkscape:version="1"><metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><cc:Work/></rdf:RDF></metadata><sodipodi:namedview/><g inkscape:label="L"><rect/></g></svg>',
      [/inkscape|sodipodi|rdf|metadata/],
      [/<g><rect\/><\/g>/],
    ],
    [
      'comments and processing instructions',
      '<?xml version="1.0"?><!-- Generator --><?xml-stylesheet href="http://evil.example/s.css"?><svg xmlns="http://www.w3.org/2000/svg"><!-- c --><rect/></svg>',
      [/evil|Generator|<!--/],
      [/<rect\/>/],
    ],
    [
      'text is escaped',
      '<svg xmlns="http://www.w3.org/2000/svg"><text>a &lt;b&gt; &amp; c &#60;script&#62;</text></svg>',
      [/<script/, /<b>/],
      [/a &lt;b&gt; &amp; c &lt;script&gt;/],
    ],
    ['attributes are escaped', '<svg xmlns="http://www.w3.org/2000/svg"><rect id="a&quot;b&lt;c"/></svg>', [/id="a"b/], [/id="a&quot;b&lt;c"/]],
    ['missing SVG namespace is added', '<svg width="10"><rect/></svg>', [], [/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="10"/]],
    ['sloppy nesting is repaired, not echoed', '<svg xmlns="http://www.w3.org/2000/svg"><g><rect></g></svg>', [], [/<g><rect><\/rect><\/g><\/svg>$/]],
  ];
  for (const [name, input, absent, present] of CASES) {
    test(name, () => {
      const r = sanitizeSvg(input);
      assert.ok(r.svg, r.error ?? '');
      for (const re of absent) assert.doesNotMatch(r.svg!, re);
      for (const re of present) assert.match(r.svg!, re);
      wellFormed(r.svg!);
    });
  }

  test('reports what it removed', () => {
    const r = sanitizeSvg('<svg xmlns="http://www.w3.org/2000/svg" onload="x()"><script/><use href="http://e/x"/></svg>');
    assert.deepEqual(r.removed.sort(), ['<script>', 'event handler onload', 'external reference in <use href>']);
  });
});

describe('sanitizeDescription', () => {
  const CASES: [string, string][] = [
    ['<p>Hello</p><ul><li>one</li></ul><ol><li>two</li></ol>', '<p>Hello</p><ul><li>one</li></ul><ol><li>two</li></ol>'],
    ['<p onclick="x()" class="c">Hi</p>', '<p>Hi</p>'],
    ['<script>alert(1)</script>text', 'text'],
    ['<a href="javascript:alert(1)">link</a> <b>bold</b> <img src=x onerror=alert(1)>', 'link bold'],
    ['5 < 6 & 7 > 3', '5 &lt; 6 &amp; 7 &gt; 3'],
    ['Plain text description', 'Plain text description'],
    ['<style>p{}</style><p>kept</p>', '<p>kept</p>'],
  ];
  for (const [input, output] of CASES) {
    test(JSON.stringify(input), () => assert.equal(sanitizeDescription(input), output));
  }
});
