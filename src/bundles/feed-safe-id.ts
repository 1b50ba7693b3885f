// Characters of a bundle id that a Sugar client misreads in one of the two update feeds, so that
// an activity with such an id never matches the installed one and is offered again at every
// check (or never found at all). Existing ids stay as they are; a new bundle id containing one of
// these is refused at upload. docs/updates.md ("Bundle ids the feeds cannot carry") explains
// each one.
//
// The two feeds:
//   - the aslo backend (every Sugar from 0.86, the default from 0.100): Sugar builds
//     /services/update-aslo.php?id=<bundle_id>&appVersion=... without URL-encoding the id;
//   - the microformat backend (0.100-0.114 under Python 2, 0.122 under Python 3): the id is the
//     text of an HTML element, read with Python's HTMLParser. Python 2's parser hands character
//     and entity references (&amp; &#39; &lt;) to handlers Sugar does not define, so they vanish
//     from the text; written raw, "&" and "<" start markup.

export interface FeedMisreadCharacter {
  character: string;
  /** The feed that misreads it. */
  feed: 'aslo' | 'microformat' | 'both';
  reason: string;
}

export const FEED_MISREAD_CHARACTERS: readonly FeedMisreadCharacter[] = [
  {
    character: '&',
    feed: 'both',
    reason:
      'aslo: the unencoded id ends at "&" (the next query parameter starts there); microformat: Python 2 drops "&amp;" from text, and a raw "&" followed by a letter or "#" is read as an entity reference and dropped too',
  },
  {
    character: '#',
    feed: 'aslo',
    reason: 'the unencoded id ends at "#": the rest is the URL fragment, which the client never sends',
  },
  {
    character: '%',
    feed: 'aslo',
    reason: 'the unencoded id is decoded as a URL: "%" followed by two hex digits becomes another character',
  },
  {
    character: '<',
    feed: 'microformat',
    reason: 'Python 2 drops "&lt;" from text, and a raw "<" starts a tag',
  },
];

const SET = new Set(FEED_MISREAD_CHARACTERS.map((c) => c.character));

/** The characters of `id` that a Sugar client misreads in either feed (each once, in list order); empty when none. */
export function feedMisreadCharacters(id: string): string[] {
  const found = new Set<string>();
  for (const ch of id) if (SET.has(ch)) found.add(ch);
  return FEED_MISREAD_CHARACTERS.map((c) => c.character).filter((c) => found.has(c));
}
