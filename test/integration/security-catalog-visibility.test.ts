// The catalog read API and non-public things: sandbox, nominated and disabled activities and
// non-public versions and files are shown to the activity's authors (API token with the read
// scope, or a logged-in session), editors and administrators, with their status; everyone else
// (anonymous, plain users, other activities' authors, tokens without the read scope) gets 404,
// and the cached public answers never carry what only they may see.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload, person, type Person } from '../helpers/people.js';

type Who = 'anonymous' | 'user' | 'otherAuthor' | 'author' | 'coauthor' | 'authorSession' | 'authorPublishOnly' | 'editor' | 'admin';
const EVERYONE: Who[] = ['anonymous', 'user', 'otherAuthor', 'author', 'coauthor', 'authorSession', 'authorPublishOnly', 'editor', 'admin'];
const PRIVILEGED: Who[] = ['author', 'coauthor', 'authorSession', 'editor', 'admin'];

describe('catalog API visibility of non-public activities and files', () => {
  let t: TestApp;
  let dir: string;
  let author: Person;
  let coauthor: Person;
  let publishOnly: Person;
  let people: Record<'user' | 'otherAuthor' | 'editor' | 'admin', Person>;
  let n = 0;
  const ids: Record<string, { id: number; bid: string; fileIds: number[] }> = {};

  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    author = await person(t.app, { prefix: 'author' });
    coauthor = await person(t.app, { prefix: 'coauthor', scopes: ['read'] });
    publishOnly = author;
    people = {
      user: await person(t.app, { prefix: 'user', scopes: ['read'] }),
      otherAuthor: await person(t.app, { prefix: 'other' }),
      editor: await person(t.app, { role: 'editor' }),
      admin: await person(t.app, { role: 'admin' }),
    };
    const upload = async (p: Person, bid: string, version: string) => {
      const data = await readFile(
        await buildActivity(dir, { bundleId: bid, name: `Vis ${bid.split('.').pop()}`, version, summary: `v${version}`, payload: String(++n) }),
      );
      const res = await apiUpload(t.app, p.token, data, `${bid}-${version}.xo`);
      assert.ok(res.statusCode < 300, res.body);
      return (res.json() as { file_id: number }).file_id;
    };
    await upload(people.otherAuthor, 'org.test.vis.Other', '1');
    for (const state of ['sandbox', 'nominated', 'disabled', 'public'] as const) {
      const bid = `org.test.vis.${state[0]!.toUpperCase()}${state.slice(1)}`;
      const f1 = await upload(author, bid, '1');
      const a = await t.app.publishing.activityByBundleId(bid);
      await t.app.publishing.addAuthor(author.actor, a.id, coauthor.email, 'developer');
      const fileIds = [f1];
      if (state !== 'sandbox') await t.app.review.nominate(author.actor, a.id, 'please');
      if (state === 'disabled') await t.app.review.decide(people.admin.actor, 'activity', a.id, 'disable', 'matrix');
      if (state === 'public') {
        await t.app.review.decide(people.editor.actor, 'activity', a.id, 'approve', 'ok', ['1']);
        fileIds.push(await upload(author, bid, '2')); // pending: a new version of a public activity
      }
      ids[state] = { id: a.id, bid, fileIds };
    }
    // A token of the author with the publish scope only: reads as anyone would.
    const { token } = await t.app.accounts.createApiToken(author.actor, { name: 'publish only', scopes: ['publish'], expiresInDays: 5 });
    publishOnly = { ...author, token };
  });
  after(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  function get(who: Who, url: string) {
    if (who === 'anonymous') return t.app.inject({ url });
    if (who === 'authorSession') return author.browser.get(url);
    const p = who === 'author' ? author : who === 'coauthor' ? coauthor : who === 'authorPublishOnly' ? publishOnly : people[who];
    return t.app.inject({ url, headers: { authorization: `Bearer ${p.token}` } });
  }

  async function whoSees(url: string, check?: (body: Record<string, unknown>) => void): Promise<Who[]> {
    const seen: Who[] = [];
    for (const who of EVERYONE) {
      const res = await get(who, url);
      if (res.statusCode === 200) {
        seen.push(who);
        check?.(res.json());
        if (who !== 'anonymous') assert.equal(res.headers['cache-control'], 'private, no-store', `${who} ${url}`);
      } else {
        assert.equal(res.statusCode, 404, `${who} ${url}: ${res.statusCode} ${res.body}`);
        assert.match(res.json().error.code, /_NOT_FOUND$/);
      }
    }
    return seen;
  }

  for (const state of ['sandbox', 'nominated', 'disabled'] as const) {
    it(`shows a ${state} activity, its versions and files to its authors, editors and admins only`, async () => {
      const { bid, fileIds } = ids[state]!;
      assert.deepEqual(
        await whoSees(`/api/v1/activities/${bid}`, (b) => {
          assert.equal(b.status, state);
          assert.equal((b.current as { version: string }).version, '1');
          assert.equal(b.current_version, '1');
          assert.equal((b.current as { files: { status: string }[] }).files[0]!.status, 'sandbox');
        }),
        PRIVILEGED,
      );
      assert.deepEqual(
        await whoSees(`/api/v1/activities/${bid}/versions`, (b) => {
          assert.deepEqual(
            (b.versions as { version: string }[]).map((v) => v.version),
            ['1'],
          );
        }),
        PRIVILEGED,
      );
      assert.deepEqual(await whoSees(`/api/v1/activities/${bid}/versions/1`), PRIVILEGED);
      assert.deepEqual(
        await whoSees(`/api/v1/files/${fileIds[0]}`, (b) => {
          assert.equal(b.status, 'sandbox');
          assert.equal(b.activity_status, state);
        }),
        PRIVILEGED,
      );
      assert.deepEqual(await whoSees(`/api/v1/activities/${bid}/icon.svg`), PRIVILEGED);
    });
  }

  it('shows the pending version of a public activity to its authors, editors and admins only', async () => {
    const { bid, fileIds } = ids.public!;
    const seenVersions = new Map<Who, string[]>();
    for (const who of EVERYONE) {
      const res = await get(who, `/api/v1/activities/${bid}/versions`);
      assert.equal(res.statusCode, 200);
      seenVersions.set(
        who,
        (res.json().versions as { version: string; files: { status: string }[] }[]).map((v) => `${v.version}:${v.files[0]!.status}`),
      );
    }
    for (const who of EVERYONE) assert.deepEqual(seenVersions.get(who), PRIVILEGED.includes(who) ? ['2:pending', '1:public'] : ['1:public'], who);
    assert.deepEqual(await whoSees(`/api/v1/files/${fileIds[1]}`, (b) => assert.equal(b.status, 'pending')), PRIVILEGED);
    assert.deepEqual(await whoSees(`/api/v1/files/${fileIds[0]}`), EVERYONE);
    // The cached public answer is still the public one after the authors' reads.
    const anon = await t.app.inject({ url: `/api/v1/activities/${bid}` });
    assert.equal(anon.json().current.version, '1');
    assert.equal(anon.headers['cache-control'], undefined);
    const mine = await get('author', `/api/v1/activities/${bid}`);
    assert.equal(mine.json().current.version, '2');
    assert.equal(mine.json().status, 'public');
  });

  it('keeps 404 for unknown activities and files whoever asks, and refuses bad tokens', async () => {
    for (const who of ['anonymous', 'author', 'admin'] as Who[]) {
      assert.equal((await get(who, '/api/v1/activities/org.test.vis.Nothing')).statusCode, 404);
      assert.equal((await get(who, '/api/v1/files/999999')).statusCode, 404);
    }
    const bad = await t.app.inject({ url: `/api/v1/activities/${ids.sandbox!.bid}`, headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(bad.statusCode, 401);
  });

  it('stops showing an activity to someone who is no longer its author', async () => {
    const { id, bid } = ids.nominated!;
    assert.equal((await get('coauthor', `/api/v1/activities/${bid}`)).statusCode, 200);
    await t.app.publishing.removeAuthor(author.actor, id, coauthor.id);
    assert.equal((await get('coauthor', `/api/v1/activities/${bid}`)).statusCode, 404);
  });
});
