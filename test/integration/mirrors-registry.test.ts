// The mirror registry from the command line: add (location and AS from the geo database when
// not given), list, show, edit, disable/enable, remove, and clear errors with stable codes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCliEnv, runCli } from '../helpers/cli.js';

describe('aslo mirror', () => {
  let env: Record<string, string>;
  let cleanup = async () => {};
  before(async () => {
    ({ env, cleanup } = await createCliEnv('aslo-mirror-cli-', { ASLO_INSTANCE: 'mirrors', ASLO_SAMPLE_LOAD_ON_START: 'false' }));
  });
  after(() => cleanup());

  it('adds, lists, shows, edits, disables, enables and removes a mirror', async () => {
    // 8.8.8.8 is only looked up in the local geo database: no traffic leaves the machine.
    const add = await runCli(
      [
        'mirror',
        'add',
        'Mirror-One.example',
        '--http',
        'http://8.8.8.8/sugar/',
        '--rsync',
        'rsync://8.8.8.8/sugar',
        '--prefix',
        '8.8.8.0/24',
        '--prefix',
        '2001:db8::/32',
        '--weight',
        '200',
        '--operator',
        'Test Org',
        '--contact',
        'ops@example.org',
        '--json',
      ],
      env,
    );
    assert.equal(add.code, 0, add.stderr);
    const m = JSON.parse(add.stdout);
    assert.equal(m.name, 'mirror-one.example');
    assert.equal(m.http_url, 'http://8.8.8.8/sugar');
    assert.equal(m.country, 'US');
    assert.equal(m.continent, 'NA');
    assert.equal(m.asn, 15169);
    assert.equal(typeof m.latitude, 'number');
    assert.deepEqual(m.prefixes, ['8.8.8.0/24', '2001:db8::/32']);
    assert.equal(m.weight, 200);
    assert.equal(m.enabled, true);

    const given = await runCli(
      ['mirror', 'add', 'two', '--https', 'https://127.0.0.1:8443/repo', '--country', 'pe', '--asn', 'AS64500', '--country-only', '--max-size', '1000000'],
      env,
    );
    assert.equal(given.code, 0, given.stderr);
    assert.match(given.stdout, /location\s+PE \/ SA, AS64500/);

    const list = await runCli(['mirror', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /mirror-one\.example\s+US/);
    assert.match(list.stdout, /two\s+PE/);

    const edit = await runCli(['mirror', 'edit', 'two', '--weight', '5', '--no-country-only', '--continent', 'SA', '--json'], env);
    assert.equal(edit.code, 0, edit.stderr);
    const e = JSON.parse(edit.stdout);
    assert.equal(e.weight, 5);
    assert.equal(e.country_only, false);
    assert.equal(e.max_file_size, 1000000);

    assert.equal((await runCli(['mirror', 'disable', 'two'], env)).code, 0);
    const shown = await runCli(['mirror', 'show', 'two', '--json'], env);
    assert.equal(JSON.parse(shown.stdout).enabled, false);
    assert.equal((await runCli(['mirror', 'enable', 'two'], env)).code, 0);
    assert.equal((await runCli(['mirror', 'remove', 'two'], env)).code, 0);
    const after = await runCli(['mirror', 'show', 'two'], env);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /MIRROR_NOT_FOUND/);
  });

  it('refuses bad input with stable codes', async () => {
    const cases: [string[], string][] = [
      [['mirror', 'add', 'bad name', '--http', 'http://127.0.0.1/'], 'MIRROR_NAME_INVALID'],
      [['mirror', 'add', 'nourl'], 'MIRROR_NO_URL'],
      [['mirror', 'add', 'x1', '--http', 'ftp://127.0.0.1/'], 'MIRROR_URL_INVALID'],
      [['mirror', 'add', 'x2', '--http', 'http://127.0.0.1/', '--country', 'XX'], 'MIRROR_COUNTRY_INVALID'],
      [['mirror', 'add', 'x3', '--http', 'http://127.0.0.1/', '--prefix', '10.0.0.0/99'], 'MIRROR_PREFIX_INVALID'],
      [['mirror', 'add', 'x4', '--http', 'http://127.0.0.1/', '--weight', '-1'], 'MIRROR_WEIGHT_INVALID'],
      [['mirror', 'add', 'x5', '--http', 'http://127.0.0.1/', '--as-only'], 'MIRROR_RESTRICTION_INVALID'],
      [['mirror', 'add', 'mirror-one.example', '--http', 'http://127.0.0.1/'], 'MIRROR_EXISTS'],
    ];
    for (const [args, code] of cases) {
      const r = await runCli(args, env);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(code), args.join(' '));
    }
  });
});
