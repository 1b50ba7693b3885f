// Where each file of an activity came from, for the activity page: "Built from <repository> at
// <tag> (<commit>)" with a link to that exact source for bundles the store built from git
// (built_sources, docs/building.md), "Uploaded by the developer" for the others. The sources
// themselves are read by CatalogService.fileSources.
import { html, type SafeHtml } from './html.js';
import type { Translator } from './i18n.js';
import type { FileSource } from '../catalog/service.js';

/**
 * A browsable link to the repository at that commit: the forge's own page for GitHub, GitLab,
 * Gitea/Forgejo/Codeberg and Bitbucket; the repository URL for other web hosts; none for local
 * paths and git:// URLs.
 */
export function sourceLink(repository: string, commit: string): string | null {
  let u: URL;
  try {
    u = new URL(repository);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  u.username = '';
  u.password = '';
  const base = u
    .toString()
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  const host = u.hostname.toLowerCase();
  const sha = encodeURIComponent(commit);
  if (host === 'github.com' || host.endsWith('.github.com')) return `${base}/tree/${sha}`;
  if (host.includes('gitlab')) return `${base}/-/tree/${sha}`;
  if (host === 'bitbucket.org') return `${base}/src/${sha}`;
  if (host === 'codeberg.org' || host.includes('gitea') || host.includes('forgejo')) return `${base}/src/commit/${sha}`;
  return base;
}

/** The line under a version: how its file got into the store. */
export function provenanceLine(l: Translator, source: FileSource | undefined): SafeHtml {
  if (!source) return html`<p class="meta provenance">${l.t('Uploaded by the developer')}</p>`;
  const params = { repository: source.repository, tag: source.tag ?? '', commit: source.commit.slice(0, 12) };
  const text = source.tag ? l.t('Built from {repository} at {tag} ({commit})', params) : l.t('Built from {repository} ({commit})', params);
  const link = sourceLink(source.repository, source.commit);
  return link
    ? html`<p class="meta provenance"><a href="${link}" rel="nofollow noopener" title="${source.commit}">${text}</a></p>`
    : html`<p class="meta provenance"><span title="${source.commit}">${text}</span></p>`;
}
