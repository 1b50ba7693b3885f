// Serving one file's bytes over plain node:http: GET and HEAD, one byte range (206/416),
// ETag with If-None-Match and If-Range, Last-Modified with If-Modified-Since, the bundle's
// Content-Type, streamed from disk with backpressure (constant memory whatever the size).
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { parseRange } from '../platform/http/range.js';

export interface SendableFile {
  /** Absolute path of the bytes. */
  path: string;
  size: number;
  /** Strong validator, quoted (`"<sha256>"`). */
  etag: string;
  lastModified: Date;
  contentType: string;
  fileName: string;
  cacheControl: string;
  /** Extra headers (Digest, Link...). */
  headers?: Record<string, string>;
}

function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** HTTP dates have a one-second resolution. */
function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

/** Whether the client's cached copy is current (RFC 9110 §13.2.2 order). */
export function notModified(req: IncomingMessage, etag: string, lastModified: Date): boolean {
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string') return etagMatches(inm, etag);
  const ims = req.headers['if-modified-since'];
  if (typeof ims === 'string') {
    const t = Date.parse(ims);
    return Number.isFinite(t) && seconds(lastModified) <= Math.floor(t / 1000);
  }
  return false;
}

/** Write the answer. Resolves when the body is sent (or the client went away). */
export async function sendFile(req: IncomingMessage, res: ServerResponse, f: SendableFile): Promise<void> {
  const headers: Record<string, string | number> = {
    'content-type': f.contentType,
    'content-disposition': `attachment; filename="${f.fileName.replace(/["\\\r\n]/g, '_')}"`,
    'accept-ranges': 'bytes',
    etag: f.etag,
    'last-modified': f.lastModified.toUTCString(),
    'cache-control': f.cacheControl,
    ...f.headers,
  };
  if (notModified(req, f.etag, f.lastModified)) {
    delete headers['content-type'];
    delete headers['content-disposition'];
    res.writeHead(304, headers);
    res.end();
    return;
  }
  let range = parseRange(req.headers.range, f.size);
  // If-Range: the range applies only to the representation the client already holds.
  const ifRange = req.headers['if-range'];
  if (range && typeof ifRange === 'string') {
    const same = ifRange.startsWith('"') || ifRange.startsWith('W/') ? ifRange.trim() === f.etag : Date.parse(ifRange) >= seconds(f.lastModified) * 1000;
    if (!same) range = null;
  }
  if (range === 'invalid') {
    headers['content-range'] = `bytes */${f.size}`;
    headers['content-length'] = 0;
    delete headers['content-disposition'];
    res.writeHead(416, headers);
    res.end();
    return;
  }
  let status = 200;
  let start = 0;
  let end = f.size - 1;
  if (range) {
    status = 206;
    start = range.start;
    end = range.end;
    headers['content-range'] = `bytes ${start}-${end}/${f.size}`;
  }
  headers['content-length'] = f.size === 0 ? 0 : end - start + 1;
  if (req.method === 'HEAD' || f.size === 0) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const stream = createReadStream(f.path, { start, end, highWaterMark: 64 * 1024 });
  // Open before the status line: a file that vanished is still answered cleanly.
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  res.writeHead(status, headers);
  await pipeline(stream, res).catch(() => {
    // The client closed the connection: nothing left to do.
  });
}
