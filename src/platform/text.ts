// Checks on text that people show to others (names of activities and of users).

/** Embeddings, overrides and isolates: they reorder what follows them on display. */
const BIDI_OVERRIDES = /[\u202A-\u202E\u2066-\u2069]/u;

/** Whether a name has bidi embeddings, overrides or isolates (they reorder it on display). */
export function hasBidiOverride(name: string): boolean {
  return BIDI_OVERRIDES.test(name);
}
