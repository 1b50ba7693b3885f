// <file>.mirrorlist: an HTML page with the file's size and hashes, the mirrors this visitor would
// be sent to (in order, with the proximity bucket that decided), and for administrators every
// excluded mirror with the reason, plus a preview for another address (?fromip=).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAdmin } from '../../accounts/access.js';
import { html, page } from '../hub/layout.js';
import { sendPage } from '../hub/common.js';
import { parseIp, networkText } from '../../geo/ip.js';
import { AsloError } from '../../platform/errors.js';
import type { IndexedFile } from '../../downloads/file-index.js';
import type { MirrorlistPage } from '../../downloads/routes.js';

const BUCKET_TEXT: Record<string, string> = {
  prefix: 'same network',
  as: 'same network operator (AS)',
  country: 'same country',
  continent: 'same continent',
  anywhere: 'elsewhere',
};

export const mirrorlistPage: MirrorlistPage = async (
  app: FastifyInstance,
  req: FastifyRequest & { query: { fromip?: unknown } },
  reply: FastifyReply,
  file: IndexedFile,
): Promise<FastifyReply> => {
  const svc = app.downloads;
  const viewer = await req.viewer().catch(() => null);
  const admin = isAdmin(viewer);
  const fromip = req.query.fromip;
  let ip = svc.clientOf(req.raw);
  if (typeof fromip === 'string' && fromip) {
    if (!admin) throw new AsloError('FORBIDDEN_NOT_ADMIN', 'Only administrators may preview the mirror list for another address.', { statusCode: 403 });
    ip = parseIp(fromip);
    if (!ip) throw new AsloError('BAD_ADDRESS', `"${fromip}" is not an IPv4 or IPv6 address.`, { statusCode: 400 });
  }
  const d = svc.decide(file, ip, svc.schemeOf(req.raw), { explain: true });
  const c = d.client;
  const url = svc.fileUrlOf(file);
  const body = html`
<p><a href="${url}">${file.fileName}</a>, ${file.size.toLocaleString('en')} bytes, published ${file.publishedAt.toISOString()}.</p>
<table>
<tr><th scope="row">SHA-256</th><td><code>${file.sha256}</code> (<a href="${url}.sha256">${file.fileName}.sha256</a>)</td></tr>
${file.sha1 ? html`<tr><th scope="row">SHA-1</th><td><code>${file.sha1}</code> (<a href="${url}.sha1">.sha1</a>)</td></tr>` : ''}
${file.md5 ? html`<tr><th scope="row">MD5</th><td><code>${file.md5}</code> (<a href="${url}.md5">.md5</a>)</td></tr>` : ''}
<tr><th scope="row">Metalink</th><td><a href="${url}.meta4">${file.fileName}.meta4</a> (${Math.floor(file.pieceHashes.length / 32)} pieces of ${file.pieceLength} bytes)</td></tr>
</table>
<h2>Where this download comes from</h2>
<p>${c.ip ? html`Your network ${networkText(c.ip)}` : 'Your address'}${c.country ? html`, country ${c.country}` : ''}${c.continent ? html`, continent ${c.continent}` : ''}${c.asn ? html`, AS${c.asn}` : ''}.
${d.kind === 'redirect' ? html`You are sent to <strong>${d.ranked[0]!.mirror.name}</strong>.` : html`This store sends the file itself (${d.reason}).`}</p>
${
  d.ranked.length
    ? html`<ol>${d.ranked.map((r) => html`<li><a href="${r.url}">${r.mirror.name}</a> (${r.mirror.country ?? '?'}, ${BUCKET_TEXT[r.bucket] ?? r.bucket})</li>`)}</ol>`
    : html`<p>No mirror holds this file for you yet.</p>`
}
${
  admin
    ? html`<h2>Excluded mirrors</h2>
${d.excluded.length ? html`<ul>${d.excluded.map((e) => html`<li>${e.mirror.name}: ${e.reason}</li>`)}</ul>` : html`<p>None.</p>`}
<form method="get" action=""><label>Preview for the address <input name="fromip" value="${typeof fromip === 'string' ? fromip : ''}"></label> <button type="submit">Show</button></form>`
    : ''
}`;
  return sendPage(reply, page({ title: `Mirrors of ${file.fileName}`, viewer }, body));
};
