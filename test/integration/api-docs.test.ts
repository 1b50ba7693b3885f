// The OpenAPI document at /api/docs comes from the routes' own schemas: every route that is not
// hidden is in it, in one of the documented groups, with a summary and its parameters; the HTML
// pages and forms of the store and the hub are hidden; every route with path parameters declares
// them, hidden or not (the route table is read as registered, so a route added tomorrow is checked).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { API_TAGS } from '../../src/platform/schemas.js';

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
}
type Doc = { tags?: { name: string; description?: string }[]; paths: Record<string, Record<string, Operation>> };
type Schema = { hide?: boolean; summary?: string; tags?: string[]; params?: { properties?: Record<string, unknown> }; querystring?: unknown; body?: unknown };

/** /api/v1/activities/:bundle_id as OpenAPI writes it: /api/v1/activities/{bundle_id}. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function pathParamNames(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)|\*/g)].map((m) => m[1] ?? '*');
}

/** The routes the app adds for itself (the docs, the operations endpoints): not the store's. */
const OWN = /^\/(api\/docs|healthz|readyz|metrics)(\/|$)/;

/** The HTML pages and forms: the store's pages under a locale, and the hub's. */
const HTML_PAGE =
  /^\/(:locale|lang|browse|search|category|tag|activity|author|collections?|feeds|sugar|account|admin|developers|editors|ratings|report|screenshots|assets|favicon\.ico|icon)(\/|$)|^\/$/;

describe('OpenAPI document (/api/docs)', () => {
  let t: TestApp;
  let doc: Doc;
  before(async () => {
    t = await createTestApp();
    const res = await t.app.inject({ url: '/api/docs/json' });
    assert.equal(res.statusCode, 200);
    doc = res.json() as Doc;
  });
  after(async () => t.cleanup());

  const routes = () => t.app.registeredRoutes.filter((r) => r.method !== 'HEAD' && !OWN.test(r.url));
  const schemaOf = (r: { schema?: unknown }) => (r.schema ?? {}) as Schema;

  it('lists every route that is not hidden, in a documented group, with a summary and its parameters', () => {
    const groups = new Set<string>(API_TAGS.map((g) => g.name));
    const shown = routes().filter((r) => !schemaOf(r).hide);
    assert.ok(shown.length >= 25, `only ${shown.length} routes documented`);
    for (const r of shown) {
      const s = schemaOf(r);
      const op = doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${r.url} is not in the OpenAPI document`);
      assert.ok(op.summary, `${r.method} ${r.url} has no summary`);
      assert.ok(op.tags?.length && op.tags.every((tag) => groups.has(tag)), `${r.method} ${r.url}: tags ${op.tags} are not documented groups`);
      for (const name of pathParamNames(r.url)) {
        assert.ok(
          op.parameters?.some((p) => p.in === 'path' && p.name === name),
          `${r.method} ${r.url} does not document its path parameter ${name}`,
        );
      }
      for (const name of Object.keys((s.querystring as { properties?: object } | undefined)?.properties ?? {})) {
        assert.ok(
          op.parameters?.some((p) => p.in === 'query' && p.name === name),
          `${r.method} ${r.url} does not document its query parameter ${name}`,
        );
      }
      if (s.body) assert.ok(op.requestBody, `${r.method} ${r.url} does not document its body`);
    }
    // Nothing else is in it: each of its operations is one of those routes.
    const expected = new Set(shown.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops))
        if (method !== 'head') assert.ok(expected.has(`${method} ${path}`), `${method} ${path} is documented but hidden or unknown`);
    }
  });

  it('declares the path parameters of every route, hidden or not', () => {
    for (const r of routes()) {
      const names = pathParamNames(r.url);
      if (names.length === 0) continue;
      const declared = Object.keys(schemaOf(r).params?.properties ?? {});
      assert.deepEqual(declared.sort(), [...names].sort(), `${r.method} ${r.url} declares ${declared.join(', ') || 'no'} path parameters`);
    }
  });

  it('hides the HTML pages and forms of the store and the hub', () => {
    const pages = routes().filter((r) => HTML_PAGE.test(r.url));
    assert.ok(pages.some((r) => r.url === '/account/login' && r.method === 'POST'));
    assert.ok(pages.some((r) => r.url === '/admin/mirrors'));
    for (const r of pages) assert.equal(schemaOf(r).hide, true, `${r.method} ${r.url} is an HTML page or form but not hidden`);
    for (const path of Object.keys(doc.paths)) assert.match(path, /^\/(api\/v1|services)\//, `${path} is documented`);
  });

  it('groups the API as documented, the updater included', () => {
    assert.deepEqual(
      doc.tags,
      API_TAGS.map((g) => ({ name: g.name, description: g.description })),
    );
    const byGroup = new Map<string, string[]>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops))
        for (const tag of op.tags ?? []) byGroup.set(tag, [...(byGroup.get(tag) ?? []), `${method.toUpperCase()} ${path}`]);
    }
    for (const g of API_TAGS) assert.ok(byGroup.get(g.name)?.length, `group ${g.name} is empty`);
    const updates = byGroup.get('updates') ?? [];
    for (const op of [
      'GET /services/update-aslo.php',
      'GET /services/update.php',
      'GET /services/micro-format.php',
      'GET /services/update-info/{versionId}',
      'GET /services/index.json',
      'GET /services/index.json.sig',
      'GET /services/index-key.pem',
    ]) {
      assert.ok(updates.includes(op), `${op} is not in the updates group`);
    }
    assert.ok(byGroup.get('catalog')?.includes('GET /api/v1/activities'));
    assert.ok(byGroup.get('review')?.includes('POST /api/v1/review/activities/{bundle_id}/decision'));
    const check = doc.paths['/services/update-aslo.php']!.get!;
    assert.deepEqual(
      check.parameters
        ?.filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort(),
      ['appVersion', 'experimental', 'id'],
    );
  });
});
