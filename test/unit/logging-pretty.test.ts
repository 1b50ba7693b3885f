// Logs for people when stdout is a terminal: one readable line per JSON line (time, level,
// message, the fields that matter, an error's stack under it); JSON everywhere else. Requests
// are one line each, at debug level only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { prettyLine, prettyStream, RequestLog, wantsPrettyLogs } from '../../src/platform/logging/index.js';

describe('readable logs', () => {
  it('writes a JSON line as time, level, message and its own fields', () => {
    const line = prettyLine(
      JSON.stringify({
        level: 30,
        time: '2026-12-08T10:11:12.345Z',
        pid: 1,
        instance: 'dev',
        role: 'all',
        reqId: 'ab12',
        msg: 'GET /en/',
        status: 200,
        ms: 3.2,
      }),
    );
    assert.equal(line, '10:11:12 INFO  GET /en/  reqId=ab12 status=200 ms=3.2\n');
  });

  it('puts an error’s stack under its line, and passes lines that are not JSON through', () => {
    const line = prettyLine(
      JSON.stringify({ level: 50, time: '2026-12-08T10:11:12.345Z', msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at x' } }),
    );
    assert.equal(line, '10:11:12 ERROR failed\n    Error: boom\n        at x\n');
    assert.equal(prettyLine('plain text'), 'plain text');
  });

  it('is chosen for a terminal, JSON otherwise; server.logFormat json or pretty decides when set', () => {
    assert.equal(wantsPrettyLogs('auto', true), true);
    assert.equal(wantsPrettyLogs('auto', false), false);
    assert.equal(wantsPrettyLogs('json', true), false);
    assert.equal(wantsPrettyLogs('pretty', false), true);
  });

  it('formats what pino writes through prettyStream', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const log = pino({ timestamp: pino.stdTimeFunctions.isoTime, base: { pid: 1 } }, prettyStream(out, false));
    log.warn({ bundle: 'org.example.Kite' }, 'slow upload');
    await new Promise((r) => setImmediate(r));
    assert.match(text, /^\d\d:\d\d:\d\d WARN {2}slow upload {2}bundle=org\.example\.Kite\n$/);
  });

  it('logs one line per request at debug level, none at info', async () => {
    for (const level of ['debug', 'info']) {
      const lines: Record<string, unknown>[] = [];
      const stream = { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) };
      const app = Fastify({ logger: { level, stream }, logController: new RequestLog() });
      app.get('/hello', async () => ({ ok: true }));
      await app.inject({ url: '/hello?x=1' });
      await app.inject({ url: '/missing' });
      await app.close();
      const requests = lines.filter((l) => /^GET /.test(String(l.msg)));
      if (level === 'info') {
        assert.deepEqual(lines, [], 'nothing about requests at info');
        continue;
      }
      assert.deepEqual(
        requests.map((l) => [l.level, l.msg, l.status]),
        [
          [20, 'GET /hello?x=1', 200],
          [20, 'GET /missing', 404],
        ],
      );
      assert.equal(lines.filter((l) => /request completed|incoming request/.test(String(l.msg))).length, 0);
    }
  });
});
