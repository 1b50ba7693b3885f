// UTS #39 pieces behind the bundle id checks: confusable skeletons (Unicode's confusables.txt),
// single-script resolution per id part, unsafe characters, names with bidi overrides.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bundleIdKey, checkBundleNames, checkNewBundleIdText, isMixedScript, skeleton } from '../../src/catalog/bundle-ids.js';

describe('bundle id checks', () => {
  it('maps confusables to the same skeleton, as UTS #39 does', () => {
    assert.equal(skeleton('раураl'), skeleton('paypal')); // Cyrillic р а у
    assert.equal(skeleton('rn'), skeleton('m'));
    assert.equal(skeleton('ℌello'), skeleton('Hello'));
    assert.notEqual(skeleton('paint'), skeleton('print'));
  });
  it('folds case around the skeleton, so 0 and O and o clash', () => {
    assert.equal(bundleIdKey('org.example.F00'), bundleIdKey('org.example.foo'));
    assert.equal(bundleIdKey('ORG.Example.Paint'), bundleIdKey('org.example.paint'));
    assert.equal(bundleIdKey('org.examp1e.Paint'), bundleIdKey('org.example.Paint'));
    assert.notEqual(bundleIdKey('org.example.Paint'), bundleIdKey('org.example.Paint2'));
  });
  it('resolves scripts per character set, Common and Inherited fitting any', () => {
    assert.equal(isMixedScript('Paint'), false);
    assert.equal(isMixedScript('Раint'), true);
    assert.equal(isMixedScript('Калькулятор2'), false);
    assert.equal(isMixedScript('漢字かなカナ'), false, 'Japanese');
    assert.equal(isMixedScript('漢字한글'), false, 'Korean');
    assert.equal(isMixedScript('αβγabc'), true);
    assert.equal(isMixedScript('my_activity-1'), false);
  });
  it('names the reason of a refused id', () => {
    assert.equal(checkNewBundleIdText('org.sugarlabs.Paint'), null);
    assert.equal(checkNewBundleIdText('org.example.\u2066x\u2069')?.params?.variant, 'bidi');
    assert.equal(checkNewBundleIdText('org.example.a\u2060b')?.params?.variant, 'invisible');
    assert.equal(checkNewBundleIdText('org.example.a\uFE0Fb')?.params?.variant, 'invisible');
    assert.equal(checkNewBundleIdText('org.example.a<b')?.params?.variant, 'feed');
    assert.equal(checkNewBundleIdText('org.exаmple.Paint')?.code, 'BUNDLE_ID_MIXED_SCRIPT');
    // ' " > are written as themselves in the feed, so Sugar reads them right: not refused.
    assert.equal(checkNewBundleIdText(`org.example.Tom's`), null);
    assert.equal(checkNewBundleIdText('org.example.a#b')?.params?.variant, 'feed');
    assert.equal(checkNewBundleIdText('org.example.a%41')?.params?.variant, 'feed');
  });
  it('refuses names with bidi embeddings, overrides or isolates, not right-to-left names', () => {
    assert.equal(checkBundleNames({ name: 'Paint', locales: { ar: { name: 'رسم' } } } as never), null);
    assert.equal(checkBundleNames({ name: 'Pa\u202Eint', locales: {} } as never)?.code, 'NAME_BIDI_OVERRIDE');
    assert.equal(checkBundleNames({ name: 'Paint', locales: { he: { name: '\u2067x' } } } as never)?.params?.where, 'locale/he');
  });
});
