// The addresses deployments give their laptops: one microformat feed per collection and Sugar
// release. The Sugar is part of the address because the feed must only offer what that Sugar can
// run, and a laptop that sends no User-Agent would otherwise get only what runs on every Sugar
// (docs/updates.md).
import { MICROFORMAT_RELEASES } from '../bundles/sugar-releases.js';

/** The feed of a collection for one Sugar release. */
export function collectionFeedUrl(baseUrl: string, nickname: string, sugar: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/services/micro-format.php?collection_nickname=${encodeURIComponent(nickname)}&sugar=${encodeURIComponent(sugar)}`;
}

/** The lines `aslo collection create` prints: the feed for each Sugar whose microformat updater works. */
export function collectionFeedLines(baseUrl: string, nickname: string): string[] {
  return [
    `Its feed, for the Sugar release your laptops run (the microformat updater works on Sugar ${MICROFORMAT_RELEASES.slice(0, -1).join(', ')} and ${MICROFORMAT_RELEASES.at(-1)}; see docs/updates.md):`,
    ...MICROFORMAT_RELEASES.map((s) => `  Sugar ${s}: ${collectionFeedUrl(baseUrl, nickname, s)}`),
  ];
}
