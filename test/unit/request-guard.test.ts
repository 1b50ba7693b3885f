// The request guard's checks (src/platform/request-guard.ts) and the error classifier
// (src/platform/errors.ts), without an app: what each input is judged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { boundIntegers, bodyProblem, MAX_ID, multipartProblem, parseId, urlProblem } from '../../src/platform/request-guard.js';
import { AsloError, classifyError, type ErrorCode } from '../../src/platform/errors.js';

describe('urlProblem', () => {
  it('passes clean URLs, valid escapes and raw UTF-8 bytes', () => {
    for (const url of [
      '/',
      '/services/update-aslo.php?id=org.laptop.Paint&appVersion=0.118',
      '/en/search?q=%C3%B1and%C3%BA',
      '/en/search?q=%F0%9F%98%80',
      '/en/search?q=100%',
      '/x?y=%2',
      '/en/activity/org.x%2Fy',
      Buffer.from('/en/search?q=ñandú').toString('latin1'),
    ]) {
      assert.equal(urlProblem(url), null, url);
    }
  });
  it('finds NUL bytes, escaped or raw', () => {
    for (const url of ['/ratings/%00', '/en/search?q=a%00b', '/x\u0000y']) assert.equal(urlProblem(url), 'nul', url);
  });
  it('finds escapes and bytes that are not UTF-8', () => {
    for (const url of [
      '/en/search?q=%ff',
      '/en/search?q=%C3%28',
      '/x/%C0%AF',
      '/x/%ED%A0%80',
      '/x?q=%E2%82',
      Buffer.from([0x2f, 0x78, 0xff]).toString('latin1'),
      '/x/\ud800',
    ]) {
      assert.equal(urlProblem(url), 'encoding', url);
    }
  });
});

describe('bodyProblem', () => {
  it('finds NUL bytes and unpaired surrogates in keys and values at any depth', () => {
    assert.equal(bodyProblem({ a: 'ok', b: ['x', { c: 'y\u0000' }] }), 'nul');
    assert.equal(bodyProblem({ ['k\u0000']: 1 }), 'nul');
    assert.equal(bodyProblem('text\u0000'), 'nul');
    assert.equal(bodyProblem({ a: [['\ud800']] }), 'encoding');
    assert.equal(bodyProblem({ a: 'ñ😀', n: 1e308, t: true, z: null }), null);
  });
  it('walks a deeply nested body without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}"\\u0000"${']'.repeat(100_000)}`);
    assert.equal(bodyProblem(deep), 'nul');
  });
});

describe('multipartProblem', () => {
  it('wants a boundary of 1 to 70 characters', () => {
    assert.equal(multipartProblem('application/json'), null);
    assert.equal(multipartProblem('multipart/form-data; boundary=----abc'), null);
    assert.equal(multipartProblem('multipart/form-data; boundary="quoted boundary"'), null);
    assert.match(multipartProblem('multipart/form-data')!, /no boundary/);
    assert.match(multipartProblem('multipart/form-data; boundary=')!, /no boundary/);
    assert.match(multipartProblem(`multipart/form-data; boundary=${'b'.repeat(5000)}`)!, /5000 characters/);
  });
});

describe('ids', () => {
  it('parseId takes digits within the range of an id only', () => {
    assert.equal(parseId('42'), 42);
    assert.equal(parseId(String(MAX_ID)), MAX_ID);
    for (const raw of ['0', '-1', '1.5', '1e3', ' 1', '99999999999999999999', '9007199254740993', '', 'abc', undefined, 7])
      assert.equal(parseId(raw), null, String(raw));
    assert.equal(parseId('2147483648', 2_147_483_647), null);
  });
  it('boundIntegers bounds every integer of a schema that has no bounds', () => {
    const schema = {
      type: 'object',
      properties: {
        id: { type: 'integer', minimum: 1 },
        page: { type: ['integer', 'null'] },
        max: { type: 'integer', maximum: 10 },
        list: { type: 'array', items: { type: 'integer' } },
        name: { type: 'string' },
      },
    };
    boundIntegers(schema);
    const p = schema.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual([p.id!.minimum, p.id!.maximum], [1, MAX_ID]);
    assert.deepEqual([p.page!.minimum, p.page!.maximum], [-MAX_ID, MAX_ID]);
    assert.equal(p.max!.maximum, 10);
    assert.equal((p.list!.items as Record<string, unknown>).maximum, MAX_ID);
    assert.equal(p.name!.maximum, undefined);
  });
});

describe('classifyError', () => {
  const multipartReq = { raw: { headers: { 'content-type': 'multipart/form-data; boundary=x' }, complete: true } };
  it('answers AsloErrors as they say and logs nothing', () => {
    assert.deepEqual(classifyError(new AsloError('X_GONE' as ErrorCode, 'gone', { statusCode: 410 })), {
      status: 410,
      code: 'X_GONE',
      message: 'gone',
      details: undefined,
      log: null,
    });
  });
  it('makes a path that does not fit its parameters a 404, other validation a 400', () => {
    assert.equal(
      classifyError(Object.assign(new Error('params/id must be <= 9007199254740991'), { validation: [{}], validationContext: 'params' })).status,
      404,
    );
    assert.equal(
      classifyError(Object.assign(new Error('querystring/page must be integer'), { validation: [{}], validationContext: 'querystring' })).code,
      'BAD_REQUEST',
    );
  });
  it('recognises a multipart form cut short, only on multipart requests', () => {
    assert.equal(classifyError(new Error('Unexpected end of multipart data'), multipartReq).code, 'MULTIPART_MALFORMED');
    assert.equal(classifyError(new Error('Unexpected end of multipart data'), { raw: { headers: {}, complete: true } }).code, 'INTERNAL');
  });
  it('logs a client that went away at info', () => {
    const a = classifyError(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), { raw: { readableAborted: true, complete: false } });
    assert.deepEqual([a.code, a.log], ['CLIENT_CLOSED', 'info']);
    // A reset of a connection we made (mail, a mirror) while the client is still there is ours.
    assert.equal(classifyError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), { raw: { complete: true } }).log, 'error');
  });
  it('maps body limits and CSRF to their codes, and anything else to a logged 500', () => {
    assert.equal(classifyError(Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).code, 'REQUEST_TOO_LARGE');
    assert.equal(classifyError(Object.assign(new Error('invalid csrf token'), { code: 'FST_CSRF_INVALID_TOKEN', statusCode: 403 })).code, 'CSRF_INVALID');
    assert.deepEqual(classifyError(new TypeError('x is undefined')), {
      status: 500,
      code: 'INTERNAL',
      message: 'Something went wrong on our side. The error was logged; please try again.',
      log: 'error',
    });
  });
});
