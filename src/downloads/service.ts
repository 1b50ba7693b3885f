// The download role: answers the repo tree (/repo/<activity id>/<name>) and the app's download
// URLs (/downloads/file/<id>/<name>) of published files from process memory, and decides per
// request whether a mirror or the origin serves the bytes:
//   - the origin serves files under downloads.originThresholdBytes, files not yet verified on
//     any suitable mirror, and everything while the database, the cache or the geo database is
//     unavailable;
//   - otherwise a 302 to the first ranked mirror (src/mirrors/select.ts) with RFC 6249 headers:
//     Link rel=duplicate alternatives (capped in bytes), Link rel=describedby to the .meta4, and
//     Repr-Digest (RFC 9530) plus the legacy Digest.
// A file that exists is never answered with a 5xx because of a mirror or a dependency: every
// failure on the way to a redirect falls back to the origin.
// The same code answers from Fastify's routes (tests, app.inject) and from the HTTP server's
// fast path before Fastify (src/downloads/fast-path.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AppContext } from '../platform/context.js';
import { contentTypeFor } from '../bundles/index.js';
import { GeoService } from '../geo/index.js';
import { clientAddress, networkHash, ProxyList, type ParsedIp } from '../geo/ip.js';
import { rankMirrors, type ClientInfo, type Ranked } from '../mirrors/select.js';
import { DownloadIndex, METALINK_TYPE, type IndexedFile } from './file-index.js';
import { DownloadCounter, isNewDownload } from './counter.js';
import { FastRedirector } from './redirect.js';
import { hashLine, metalink, splitSuffix, type Suffix } from './representations.js';
import { sendFile } from './send.js';
import { repoUrl } from './repo.js';
import { downloadableFile } from '../review/downloads.js';
import type { Viewer } from '../accounts/access.js';

export { METALINK_TYPE };

export interface DownloadTarget {
  file: IndexedFile;
  suffix: Suffix;
  /** Which URL was asked for. */
  via: 'repo' | 'file';
}

export interface Decision {
  kind: 'redirect' | 'origin';
  /** Why the origin serves (for logs, the mirror list and tests). */
  reason: string;
  ranked: Ranked[];
  client: ClientInfo;
}

export interface DownloadServiceOptions {
  /** Tells whether the shared cache (Redis) is reachable; null when none is configured. */
  cacheReady?: () => boolean;
  log?: (msg: string) => void;
}

const NO_CLIENT: ClientInfo = { ip: null, netHash: 0, country: null, continent: null, asn: null };

export class DownloadService {
  readonly index: DownloadIndex;
  readonly geo: GeoService;
  readonly counter: DownloadCounter;
  readonly proxies: ProxyList;
  readonly redirector: FastRedirector;
  private readonly cacheReady: (() => boolean) | null;
  private readonly log: (msg: string) => void;
  /** Redirects per mirror since the last hand-over to the metrics (a number per request, not a prom-client call). */
  private readonly redirectCounts = new Map<number, number>();
  private metricsTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: AppContext,
    opts: DownloadServiceOptions = {},
  ) {
    this.log = opts.log ?? (() => {});
    this.index = new DownloadIndex(ctx, this.log);
    this.geo = GeoService.forConfig(ctx.config);
    this.counter = new DownloadCounter(ctx.db, ctx.config.downloads.countFlushSeconds, this.log);
    this.proxies = new ProxyList(ctx.config.server.trustedProxies);
    this.cacheReady = opts.cacheReady ?? null;
    this.redirector = new FastRedirector({
      config: ctx.config,
      index: this.index,
      geo: this.geo,
      proxies: this.proxies,
      counter: this.counter,
      cacheReady: this.cacheReady,
      onRedirect: (mirrorId) => this.countRedirect(mirrorId),
    });
  }

  private countRedirect(mirrorId: number): void {
    this.redirectCounts.set(mirrorId, (this.redirectCounts.get(mirrorId) ?? 0) + 1);
  }

  /** aslo_download_redirects_total{mirror=<host>}: handed over once a second. */
  private flushRedirectMetrics(): void {
    const metrics = this.ctx.metrics;
    if (!metrics || this.redirectCounts.size === 0) return;
    for (const [mirrorId, n] of this.redirectCounts) {
      const m = this.index.mirrors.get(mirrorId);
      let host = `mirror-${mirrorId}`;
      try {
        host = new URL((m?.httpUrl ?? m?.httpsUrl)!).host;
      } catch {
        // a removed mirror: its id
      }
      metrics.redirects.inc({ mirror: host }, n);
    }
    this.redirectCounts.clear();
  }

  async start(): Promise<void> {
    void this.geo.load().then((g) => {
      if (!g) this.log(`geo database unavailable, the origin serves every download: ${this.geo.error?.message}`);
    });
    await this.index.start();
    this.counter.start();
    this.metricsTimer = setInterval(() => this.flushRedirectMetrics(), 1000);
    this.metricsTimer.unref();
  }

  async close(): Promise<void> {
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.flushRedirectMetrics();
    this.index.close();
    await this.counter.close();
  }

  // --- URLs ------------------------------------------------------------------------------------

  fileUrlOf(f: IndexedFile): string {
    return repoUrl(this.ctx.config, f.repoPath);
  }

  /** The published file a path names, when there is one in the index. */
  match(path: string): DownloadTarget | null {
    if (path.startsWith('/repo/')) {
      const rest = path.slice(6);
      const slash = rest.indexOf('/');
      if (slash <= 0) return null;
      let name: string;
      try {
        name = decodeURIComponent(rest.slice(slash + 1));
      } catch {
        return null;
      }
      const { name: base, suffix } = splitSuffix(name);
      const file = this.index.byPath.get(`${rest.slice(0, slash)}/${base}`);
      return file ? { file, suffix, via: 'repo' } : null;
    }
    if (path.startsWith('/downloads/file/')) {
      const rest = path.slice(16);
      const slash = rest.indexOf('/');
      if (slash <= 0) return null;
      const id = Number(rest.slice(0, slash));
      if (!Number.isSafeInteger(id) || id <= 0) return null;
      const file = this.index.byId.get(id);
      if (!file) return null;
      let name: string;
      try {
        name = decodeURIComponent(rest.slice(slash + 1));
      } catch {
        return null;
      }
      return { file, suffix: splitSuffix(name).suffix, via: 'file' };
    }
    return null;
  }

  // --- the decision ----------------------------------------------------------------------------

  clientInfo(ip: ParsedIp | null): ClientInfo {
    if (!ip) return NO_CLIENT;
    const g = this.geo.lookup(ip);
    return { ip, netHash: networkHash(ip), country: g?.country ?? null, continent: g?.continent ?? null, asn: g?.asn ?? null };
  }

  clientOf(req: IncomingMessage): ParsedIp | null {
    return clientAddress(req.socket?.remoteAddress, req.headers, this.proxies);
  }

  schemeOf(req: IncomingMessage): 'http' | 'https' {
    if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted) return 'https';
    const proto = req.headers['x-forwarded-proto'];
    if (typeof proto === 'string' && this.proxies.trusts(clientAddress(req.socket?.remoteAddress, {}, this.proxies))) {
      return proto.split(',')[0]!.trim().toLowerCase() === 'https' ? 'https' : 'http';
    }
    return 'http';
  }

  /** Mirror or origin for this client and file, with the ranked mirrors. */
  decide(
    file: IndexedFile,
    ip: ParsedIp | null,
    scheme: 'http' | 'https',
    opts: { explain?: boolean; limit?: number } = {},
  ): Decision & { excluded: { mirror: { id: number; name: string }; reason: string }[] } {
    const none = { ranked: [] as Ranked[], excluded: [] as { mirror: { id: number; name: string }; reason: string }[] };
    if (!this.index.healthy) return { kind: 'origin', reason: 'database unavailable', client: NO_CLIENT, ...none };
    if (this.cacheReady && !this.cacheReady()) return { kind: 'origin', reason: 'cache unavailable', client: NO_CLIENT, ...none };
    if (!this.geo.ready) return { kind: 'origin', reason: 'geo database unavailable', client: NO_CLIENT, ...none };
    const client = this.clientInfo(ip);
    const verified = this.index.verifiedMirrors(file.id);
    const { ranked, excluded } = rankMirrors(this.index.mirrors.values(), file, client, scheme, verified, { explain: opts.explain, limit: opts.limit });
    if (file.size < this.ctx.config.downloads.originThresholdBytes) {
      return { kind: 'origin', reason: `smaller than ${this.ctx.config.downloads.originThresholdBytes} bytes`, client, ranked, excluded };
    }
    if (ranked.length === 0)
      return { kind: 'origin', reason: verified?.size ? 'no suitable mirror up' : 'not verified on any mirror yet', client, ranked, excluded };
    return { kind: 'redirect', reason: `${ranked[0]!.bucket}`, client, ranked, excluded };
  }

  // --- answering -------------------------------------------------------------------------------

  /** Answer a request for a published file (any representation but the HTML mirror list). */
  async respond(req: IncomingMessage, res: ServerResponse, target: DownloadTarget, triedFast = false): Promise<void> {
    const { file, suffix } = target;
    if (suffix === '.sha256' || suffix === '.sha1' || suffix === '.md5') {
      const line = hashLine(suffix, file);
      if (!line) return this.sendError(res, 404, 'HASH_UNKNOWN', `No ${suffix.slice(1)} hash is known for this file.`);
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'public, max-age=86400',
        'content-length': Buffer.byteLength(line),
        etag: `"${suffix.slice(1)}-${file.sha256}"`,
      });
      res.end(req.method === 'HEAD' ? undefined : line);
      return;
    }
    const accept = req.headers.accept;
    if (suffix === '.meta4' || (suffix === '' && typeof accept === 'string' && accept.includes(METALINK_TYPE))) {
      return this.sendMetalink(req, res, file, suffix === '');
    }
    // The fast redirect (src/downloads/redirect.ts); anything it leaves goes the general way.
    try {
      if (!triedFast && this.redirector.redirect(req, res, file)) return;
    } catch (err) {
      if (res.headersSent) throw err;
      this.log(`fast redirect failed, deciding the general way: ${(err as Error).message}`);
    }
    let decision: Decision;
    try {
      decision = this.decide(file, this.clientOf(req), this.schemeOf(req), { limit: 1 + this.ctx.config.downloads.linkAlternatives });
    } catch (err) {
      this.log(`redirect decision failed, serving from the origin: ${(err as Error).message}`);
      decision = { kind: 'origin', reason: 'error', ranked: [], client: NO_CLIENT };
    }
    const counted = isNewDownload(req.method, req.headers.range);
    if (decision.kind === 'redirect') {
      const first = decision.ranked[0]!;
      res.writeHead(302, this.redirectHeaders(file, first.url, decision.ranked));
      res.end();
      if (counted) this.counter.count(file.id, first.mirror.id);
      this.countRedirect(first.mirror.id);
      return;
    }
    if (counted) this.counter.count(file.id, 0);
    await this.sendOrigin(req, res, file);
  }

  redirectHeaders(file: IndexedFile, location: string, ranked: Ranked[]): Record<string, string | string[]> {
    const links: string[] = [];
    let budget = this.ctx.config.downloads.linkHeaderMaxBytes;
    for (let i = 0; i < ranked.length && i <= this.ctx.config.downloads.linkAlternatives; i++) {
      const r = ranked[i]!;
      const geo = r.mirror.country ? `; geo=${r.mirror.country.toLowerCase()}` : '';
      const v = `<${r.url}>; rel=duplicate; pri=${i + 1}${geo}`;
      if (v.length + 2 > budget) break;
      budget -= v.length + 2;
      links.push(v);
    }
    links.push(file.describedBy);
    return {
      location,
      'content-length': '0',
      'cache-control': 'private, max-age=0',
      link: links,
      'repr-digest': file.reprDigest,
      digest: file.legacyDigest,
    };
  }

  /** Send the bytes from the content store (the repo tree as a second source). */
  async sendOrigin(req: IncomingMessage, res: ServerResponse, file: IndexedFile): Promise<void> {
    const base = {
      size: file.size,
      etag: file.etag,
      lastModified: file.createdAt,
      contentType: contentTypeFor(file.fileName),
      fileName: file.fileName,
      cacheControl: 'public, max-age=86400, immutable',
      headers: {
        'repr-digest': file.reprDigest,
        digest: file.legacyDigest,
        link: `<${this.fileUrlOf(file)}.meta4>; rel=describedby; type="${METALINK_TYPE}"`,
      },
    };
    for (const path of [this.ctx.files.pathOf(file.storageKey), join(this.ctx.config.storage.repoDir, file.repoPath)]) {
      try {
        await sendFile(req, res, { ...base, path });
        return;
      } catch {
        // try the next copy
      }
    }
    this.sendError(res, 503, 'FILE_BYTES_UNAVAILABLE', 'The bytes of this file cannot be read right now. Try again later.');
  }

  metalinkFor(file: IndexedFile, ranked: Ranked[]): string {
    const urls = ranked.map((r, i) => ({ url: r.url, location: r.mirror.country, priority: i + 1 }));
    urls.push({ url: this.fileUrlOf(file), location: null, priority: ranked.length + 1 });
    return metalink(file, urls, {
      origin: `${this.fileUrlOf(file)}.meta4`,
      publisher: { name: 'Sugar Labs', url: this.ctx.config.server.baseUrl },
      generator: 'aslo',
    });
  }

  private async sendMetalink(req: IncomingMessage, res: ServerResponse, file: IndexedFile, negotiated: boolean): Promise<void> {
    let ranked: Ranked[] = [];
    try {
      const d = this.decide(file, this.clientOf(req), this.schemeOf(req), { limit: 10 });
      ranked = d.ranked;
    } catch {
      ranked = [];
    }
    const body = this.metalinkFor(file, ranked);
    const headers: Record<string, string | number> = {
      'content-type': METALINK_TYPE,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'private, max-age=0',
      'content-disposition': `inline; filename="${file.fileName.replace(/["\\\r\n]/g, '_')}.meta4"`,
    };
    if (negotiated) headers.vary = 'Accept';
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  sendError(res: ServerResponse, status: number, code: string, message: string): void {
    const body = JSON.stringify({ error: { code, message } });
    if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /**
   * The fast path: answer GET/HEAD of a published file (except its HTML mirror list) before
   * Fastify. Returns false when the request is not one of those (Fastify answers it).
   */
  tryHandle(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '/';
    // The common case first: the exact URL of a published file, redirected to a mirror.
    const known = this.index.byUrl.get(url);
    if (known !== undefined) {
      try {
        if (this.redirector.redirect(req, res, known)) return true;
      } catch (err) {
        if (res.headersSent) {
          res.destroy();
          return true;
        }
        this.log(`fast redirect failed, deciding the general way: ${(err as Error).message}`);
      }
    }
    if (!url.startsWith('/repo/') && !url.startsWith('/downloads/file/')) return false;
    const q = url.indexOf('?');
    // Query strings (?confirm=, ?fromip=) belong to Fastify's routes.
    if (q !== -1) return false;
    const target = this.match(url);
    if (!target || target.suffix === '.mirrorlist') return false;
    this.respond(req, res, target, known !== undefined && target.file === known).catch((err) => {
      this.log(`download failed: ${(err as Error).message}`);
      if (!res.headersSent) this.sendError(res, 503, 'DOWNLOAD_FAILED', 'The download could not be answered. Try again.');
      else res.destroy();
    });
    return true;
  }

  // ---- files that are not published: their access rules (src/review/downloads.ts), from the origin ----

  /** A file that is not in the repo tree, if this viewer may download it (asked only when needed). */
  unpublishedFile(id: number, viewer: () => Promise<Viewer>, confirmed: boolean) {
    return downloadableFile(this.ctx.db, id, viewer, confirmed);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    downloads: DownloadService;
  }
}
