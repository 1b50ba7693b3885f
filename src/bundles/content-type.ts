// The media type a bundle is served with: activities (.xo) and content bundles (.xol) differ.

const CONTENT_TYPES = { xo: 'application/vnd.olpc-sugar', xol: 'application/vnd.olpc-content' } as const;

export function contentTypeFor(fileName: string): string {
  return fileName.endsWith('.xol') ? CONTENT_TYPES.xol : CONTENT_TYPES.xo;
}
