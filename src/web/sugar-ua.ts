// Sugar's browser announces itself in the User-Agent (docs: sugar-protocols §3):
//   Browse (WebKit) appends " SugarLabs/<version>" (some builds wrote "Sugar Labs/<version>");
//   old OLPC builds (Gecko-based Browse) sent "OLPC/0.<build>-...".
// OLPC builds predate the SugarLabs token and ran Sugar 0.82 or older, so they are treated as
// Sugar 0.82: the oldest release the catalog knows ranges for.
import { parseSugarVersion } from '../bundles/index.js';

export interface SugarClient {
  /** The Sugar version to choose downloads for, like "0.118". */
  version: string;
  /** How it was recognized. */
  via: 'sugarlabs' | 'olpc';
}

const SUGARLABS = /\bSugar ?Labs\/(\d+\.\d+(?:\.\d+)?)/i;
const OLPC = /\bOLPC\/0\.\d+[^\s]*-/;
export const OLPC_SUGAR_VERSION = '0.82';

export function detectSugar(userAgent: string | undefined | null): SugarClient | null {
  if (!userAgent) return null;
  const m = SUGARLABS.exec(userAgent);
  if (m && parseSugarVersion(m[1]!).valid) return { version: m[1]!, via: 'sugarlabs' };
  if (OLPC.test(userAgent)) return { version: OLPC_SUGAR_VERSION, via: 'olpc' };
  return null;
}
