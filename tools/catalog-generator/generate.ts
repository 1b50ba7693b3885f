// `aslo dev generate`: a synthetic but realistic catalog for benchmarks and for trying the store
// with a catalog of real size. Everything is derived from a seed, so the same seed (and the same
// counts) gives the same catalog: the same bundle ids, texts, versions, dates and, since the
// bundles are built deterministically, the same file bytes and sha256.
//
// What it makes, per activity: a reverse-DNS bundle id under `org.example.generated.s<seed>.`
// (recognizable, never a real activity), a name and summary with translations into many
// locales, tags, a licence, an owner, and M versions with realistic version strings (mostly plain
// integers, some dotted like 1.2.3, a few with a -suffix), runtimes mixed like the real catalog
// (Python 2, Python 3, activities ported from 2 to 3, web, other) with the Sugar ranges the
// runtime table gives, and one public file per version: a small, real, valid .xo bundle written
// to the content-addressed file store (so downloads work), unless `files: false`.
//
// It does not use the per-bundle ingest path (one transaction per bundle, validation, fsync):
// rows are written with multi-row inserts, a batch of activities per transaction, which is what
// makes 10,000 x 10 take minutes. The bundles are consistent with the rows by construction; the
// integration test checks that the bundle library reads them back to the same metadata.
import { events } from '../../src/platform/events.js';
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { sql, type Insertable, type Transaction } from 'kysely';
import yazl from 'yazl';
import { isGtk2Suffix, parseSugarVersion, resolveIconColors, sugarVersionSortKey, type BundleIssue, type Runtime } from '../../src/bundles/index.js';
import type { AppContext } from '../../src/platform/context.js';
import type { Database } from '../../src/platform/db/schema.js';
import { AsloError } from '../../src/platform/errors.js';
import { HashingStream, PIECE_LENGTH } from '../../src/platform/storage/file-store.js';
import { defaultRangeFor } from '../../src/catalog/compat.js';
import { downloadName } from '../../src/catalog/ingest.js';
import { slugify } from '../../src/platform/slug.js';
import { UNDETERMINED, normalizeLocale } from '../../src/catalog/locales.js';

export const GENERATED_PREFIX = 'org.example.generated.';
export const DEFAULT_SEED = 1;
export const DEFAULT_LOCALES = 20;
/** Activities written per transaction. */
export const DEFAULT_BATCH = 500;

export interface GenerateOptions {
  activities: number;
  versions: number;
  seed?: number;
  /** Most translations an activity gets (each gets between about half of this and all of it; some few). */
  locales?: number;
  /** Write a real .xo per version into the file store (default true). Without, rows only: downloads 404. */
  files?: boolean;
  /** Delete an earlier catalog generated with the same seed first (else that is an error). */
  replace?: boolean;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface GenerateResult {
  activities: number;
  versions: number;
  files: number;
}

/** The bundle id prefix of everything one seed generates. */
export function generatedPrefix(seed: number): string {
  return `${GENERATED_PREFIX}s${seed}.`;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: one small PRNG per activity (and per user), seeded from the catalog
// seed and the index, so an activity does not depend on the batch size or on the others.

function hash32(s: string): number {
  let h = 1779033703 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return (h ^= h >>> 16) >>> 0;
}

export class Rng {
  private a: number;
  constructor(seed: number | string) {
    this.a = typeof seed === 'number' ? seed >>> 0 : hash32(seed);
  }
  /** [0, 1) (mulberry32). */
  next(): number {
    let t = (this.a = (this.a + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let x = this.next() * total;
    for (const [item, w] of items) {
      x -= w;
      if (x < 0) return item;
    }
    return items[items.length - 1]![0];
  }
  /** k distinct items, more frequent ones more likely (weighted sampling without replacement). */
  sample<T>(items: readonly (readonly [T, number])[], k: number): T[] {
    return items
      .map(([item, w]) => ({ item, key: Math.pow(this.next(), 1 / w) }))
      .sort((x, y) => y.key - x.key)
      .slice(0, k)
      .map((x) => x.item);
  }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary. Names are "<Subject> <Kind>", translated word by word for the languages below and
// transliterated into the locale's script (or accented, for Latin scripts) for the others: the
// texts are synthetic, but their lengths, scripts and byte sizes look like real translations.

type Dict = { en: string; es: string; fr: string; pt: string; de: string };
type DictLang = Exclude<keyof Dict, 'en'>;

const SUBJECTS: Dict[] = [
  { en: 'Star', es: 'Estrellas', fr: 'Étoiles', pt: 'Estrelas', de: 'Sterne' },
  { en: 'Word', es: 'Palabras', fr: 'Mots', pt: 'Palavras', de: 'Wörter' },
  { en: 'Number', es: 'Números', fr: 'Nombres', pt: 'Números', de: 'Zahlen' },
  { en: 'Color', es: 'Colores', fr: 'Couleurs', pt: 'Cores', de: 'Farben' },
  { en: 'Turtle', es: 'Tortugas', fr: 'Tortues', pt: 'Tartarugas', de: 'Schildkröten' },
  { en: 'Music', es: 'Música', fr: 'Musique', pt: 'Música', de: 'Musik' },
  { en: 'Map', es: 'Mapas', fr: 'Cartes', pt: 'Mapas', de: 'Karten' },
  { en: 'Clock', es: 'Relojes', fr: 'Horloges', pt: 'Relógios', de: 'Uhren' },
  { en: 'Letter', es: 'Letras', fr: 'Lettres', pt: 'Letras', de: 'Buchstaben' },
  { en: 'Shape', es: 'Formas', fr: 'Formes', pt: 'Formas', de: 'Formen' },
  { en: 'Planet', es: 'Planetas', fr: 'Planètes', pt: 'Planetas', de: 'Planeten' },
  { en: 'River', es: 'Ríos', fr: 'Rivières', pt: 'Rios', de: 'Flüsse' },
  { en: 'Story', es: 'Cuentos', fr: 'Histoires', pt: 'Histórias', de: 'Geschichten' },
  { en: 'Memory', es: 'Memoria', fr: 'Mémoire', pt: 'Memória', de: 'Gedächtnis' },
  { en: 'Paint', es: 'Pintura', fr: 'Peinture', pt: 'Pintura', de: 'Malerei' },
  { en: 'Fraction', es: 'Fracciones', fr: 'Fractions', pt: 'Frações', de: 'Brüche' },
  { en: 'Robot', es: 'Robots', fr: 'Robots', pt: 'Robôs', de: 'Roboter' },
  { en: 'Garden', es: 'Jardines', fr: 'Jardins', pt: 'Jardins', de: 'Gärten' },
  { en: 'Puzzle', es: 'Acertijos', fr: 'Énigmes', pt: 'Enigmas', de: 'Rätsel' },
  { en: 'Sound', es: 'Sonidos', fr: 'Sons', pt: 'Sons', de: 'Klänge' },
  { en: 'Chess', es: 'Ajedrez', fr: 'Échecs', pt: 'Xadrez', de: 'Schach' },
  { en: 'Animal', es: 'Animales', fr: 'Animaux', pt: 'Animais', de: 'Tiere' },
  { en: 'Weather', es: 'Clima', fr: 'Météo', pt: 'Tempo', de: 'Wetter' },
  { en: 'Poem', es: 'Poemas', fr: 'Poèmes', pt: 'Poemas', de: 'Gedichte' },
  { en: 'Volcano', es: 'Volcanes', fr: 'Volcans', pt: 'Vulcões', de: 'Vulkane' },
  { en: 'Ocean', es: 'Océanos', fr: 'Océans', pt: 'Oceanos', de: 'Ozeane' },
];

const KINDS: Dict[] = [
  { en: 'Lab', es: 'Laboratorio', fr: 'Laboratoire', pt: 'Laboratório', de: 'Labor' },
  { en: 'Explorer', es: 'Explorador', fr: 'Explorateur', pt: 'Explorador', de: 'Entdecker' },
  { en: 'Builder', es: 'Constructor', fr: 'Constructeur', pt: 'Construtor', de: 'Baukasten' },
  { en: 'Quest', es: 'Aventura', fr: 'Aventure', pt: 'Aventura', de: 'Abenteuer' },
  { en: 'Book', es: 'Libro', fr: 'Livre', pt: 'Livro', de: 'Buch' },
  { en: 'Studio', es: 'Estudio', fr: 'Studio', pt: 'Estúdio', de: 'Studio' },
  { en: 'Game', es: 'Juego', fr: 'Jeu', pt: 'Jogo', de: 'Spiel' },
  { en: 'Maker', es: 'Creador', fr: 'Créateur', pt: 'Criador', de: 'Macher' },
  { en: 'Atlas', es: 'Atlas', fr: 'Atlas', pt: 'Atlas', de: 'Atlas' },
  { en: 'Workshop', es: 'Taller', fr: 'Atelier', pt: 'Oficina', de: 'Werkstatt' },
  { en: 'Counter', es: 'Contador', fr: 'Compteur', pt: 'Contador', de: 'Zähler' },
  { en: 'Race', es: 'Carrera', fr: 'Course', pt: 'Corrida', de: 'Rennen' },
  { en: 'Box', es: 'Caja', fr: 'Boîte', pt: 'Caixa', de: 'Kiste' },
  { en: 'Journey', es: 'Viaje', fr: 'Voyage', pt: 'Viagem', de: 'Reise' },
  { en: 'Match', es: 'Parejas', fr: 'Paires', pt: 'Pares', de: 'Paare' },
  { en: 'Garden', es: 'Jardín', fr: 'Jardin', pt: 'Jardim', de: 'Garten' },
];

const NAME_SUFFIXES = ['Junior', 'Plus', '2', '3', 'Deluxe', 'Kids', 'XO'];

/** Tags as the real catalog spells them, with how often they occur. */
const TOPICS: { tag: string; weight: number; en: string; es: string; fr: string; pt: string; de: string }[] = [
  {
    tag: 'Game',
    weight: 20,
    en: 'logic and strategy',
    es: 'la lógica y la estrategia',
    fr: 'la logique et la stratégie',
    pt: 'a lógica e a estratégia',
    de: 'Logik und Strategie',
  },
  {
    tag: 'Maths',
    weight: 18,
    en: 'numbers and arithmetic',
    es: 'los números y la aritmética',
    fr: 'les nombres et le calcul',
    pt: 'os números e a aritmética',
    de: 'Zahlen und Rechnen',
  },
  {
    tag: 'Science',
    weight: 12,
    en: 'the natural sciences',
    es: 'las ciencias naturales',
    fr: 'les sciences naturelles',
    pt: 'as ciências naturais',
    de: 'die Naturwissenschaften',
  },
  {
    tag: 'Language',
    weight: 12,
    en: 'reading and writing',
    es: 'la lectura y la escritura',
    fr: 'la lecture et l’écriture',
    pt: 'a leitura e a escrita',
    de: 'Lesen und Schreiben',
  },
  {
    tag: 'Art',
    weight: 8,
    en: 'drawing and painting',
    es: 'el dibujo y la pintura',
    fr: 'le dessin et la peinture',
    pt: 'o desenho e a pintura',
    de: 'Zeichnen und Malen',
  },
  {
    tag: 'Music',
    weight: 7,
    en: 'music and rhythm',
    es: 'la música y el ritmo',
    fr: 'la musique et le rythme',
    pt: 'a música e o ritmo',
    de: 'Musik und Rhythmus',
  },
  { tag: 'Programming', weight: 6, en: 'programming', es: 'la programación', fr: 'la programmation', pt: 'a programação', de: 'das Programmieren' },
  {
    tag: 'Geography',
    weight: 5,
    en: 'maps and places',
    es: 'los mapas y los lugares',
    fr: 'les cartes et les lieux',
    pt: 'os mapas e os lugares',
    de: 'Karten und Orte',
  },
  {
    tag: 'Physics',
    weight: 3,
    en: 'forces and motion',
    es: 'las fuerzas y el movimiento',
    fr: 'les forces et le mouvement',
    pt: 'as forças e o movimento',
    de: 'Kräfte und Bewegung',
  },
  {
    tag: 'Media',
    weight: 4,
    en: 'photos, sound and video',
    es: 'las fotos, el sonido y el video',
    fr: 'les photos, le son et la vidéo',
    pt: 'as fotos, o som e o vídeo',
    de: 'Fotos, Ton und Video',
  },
  {
    tag: 'Internet',
    weight: 2,
    en: 'the web and its pages',
    es: 'la web y sus páginas',
    fr: 'le web et ses pages',
    pt: 'a web e suas páginas',
    de: 'das Web und seine Seiten',
  },
  {
    tag: 'Tools',
    weight: 3,
    en: 'everyday tools',
    es: 'las herramientas cotidianas',
    fr: 'les outils du quotidien',
    pt: 'as ferramentas do dia a dia',
    de: 'Werkzeuge für jeden Tag',
  },
];

const SUMMARY_TEMPLATES: Record<keyof Dict, string[]> = {
  en: [
    'Explore {topic} at your own pace.',
    'A playful way to practise {topic}.',
    'Learn {topic} by playing, alone or with friends.',
    'Discover {topic} with pictures, sounds and challenges.',
  ],
  es: [
    'Explora {topic} a tu propio ritmo.',
    'Una forma divertida de practicar {topic}.',
    'Aprende {topic} jugando, solo o con amigos.',
    'Descubre {topic} con imágenes, sonidos y desafíos.',
  ],
  fr: [
    'Explore {topic} à ton rythme.',
    'Une façon ludique de pratiquer {topic}.',
    'Apprends {topic} en jouant, seul ou avec des amis.',
    'Découvre {topic} avec des images, des sons et des défis.',
  ],
  pt: [
    'Explore {topic} no seu ritmo.',
    'Um jeito divertido de praticar {topic}.',
    'Aprenda {topic} brincando, sozinho ou com amigos.',
    'Descubra {topic} com imagens, sons e desafios.',
  ],
  de: [
    'Entdecke {topic} in deinem Tempo.',
    'Eine spielerische Art, {topic} zu üben.',
    'Lerne {topic} spielerisch, allein oder mit Freunden.',
    'Entdecke {topic} mit Bildern, Klängen und Aufgaben.',
  ],
};

const FEATURES = [
  'Works offline',
  'Levels for beginners and experts',
  'Share your work with the Journal',
  'Play together over the mesh network',
  'Large buttons for small hands',
  'Keyboard shortcuts',
  'Translated by volunteers',
  'Save and resume at any time',
  'A teacher mode with exercises',
  'Sounds you can turn off',
  'Pictures drawn by children',
  'Keeps your score in the Journal',
];

const CHANGES = [
  'Fixed a crash when resuming from the Journal',
  'New levels',
  'Updated translations',
  'Works with the newest Sugar',
  'Faster start on older laptops',
  'Bigger icons in the toolbar',
  'Ported to Python 3',
  'Collaboration fixed',
  'Sounds can be muted',
  'New pictures',
  'Fixed the score display',
  'Better support for right-to-left languages',
];

const LICENSES: (readonly [string[], number])[] = [
  [['GPLv2+'], 30],
  [['GPLv3+'], 15],
  [['GPL-3.0-or-later'], 10],
  [['GPLv3'], 10],
  [['MIT'], 8],
  [['GPLv3+', 'MIT'], 5],
  [['GPLv2+', 'LGPLv2+'], 5],
  [['Apache-2.0'], 3],
  [['AGPL-3.0-or-later'], 2],
  [['GPL-2.0-or-later'], 7],
];

const SUFFIXES = ['-peru', '-beta', '~dfsg', '-uy', '-olpc'];

const FIRST_NAMES = [
  'Ana',
  'Walter',
  'Ibrahim',
  'Mei',
  'Priya',
  'Lucas',
  'Amara',
  'Sofía',
  'Kwame',
  'Yuki',
  'Olga',
  'Tomás',
  'Fatima',
  'Arjun',
  'Nia',
  'Pablo',
  'Leila',
  'Chen',
  'Rosa',
  'Daniel',
];
const LAST_NAMES = [
  'Silva',
  'Bender',
  'Okafor',
  'Wang',
  'Sharma',
  'Pereira',
  'Mensah',
  'García',
  'Tanaka',
  'Ivanova',
  'Rodríguez',
  'Haddad',
  'Nair',
  'Kamau',
  'López',
  'Rahimi',
  'Li',
  'Costa',
  'Müller',
  'Quispe',
];

// Locales as the real corpus ships them (gettext folder names), weighted by how often they occur.
const LOCALE_POOL: (readonly [string, number])[] = [
  ['es', 76],
  ['fr', 70],
  ['nl', 68],
  ['zh_CN', 66],
  ['pt_BR', 65],
  ['pl', 65],
  ['sv', 64],
  ['pt', 64],
  ['da', 64],
  ['ayc', 63],
  ['hy', 62],
  ['ca', 62],
  ['sq', 61],
  ['hi', 60],
  ['de', 59],
  ['el', 56],
  ['uk', 55],
  ['it', 55],
  ['zh_TW', 54],
  ['th', 53],
  ['ne', 52],
  ['gug', 49],
  ['ach', 49],
  ['ru', 48],
  ['ta', 47],
  ['hus', 47],
  ['vi', 43],
  ['fa', 42],
  ['si', 41],
  ['pap', 41],
  ['ar', 41],
  ['mi', 40],
  ['cs', 38],
  ['id', 37],
  ['he', 37],
  ['bn', 37],
  ['rw', 35],
  ['mn', 33],
  ['km', 33],
  ['ka', 33],
  ['ja', 33],
  ['ht', 33],
  ['fa_AF', 32],
  ['sl', 31],
  ['sk', 31],
  ['lt', 31],
  ['ko', 29],
  ['tr', 28],
  ['sw', 28],
  ['ms', 28],
  ['hu', 28],
  ['yo', 27],
  ['quz', 27],
  ['te', 25],
  ['ro', 25],
  ['is', 25],
  ['mr', 24],
  ['mg', 24],
  ['ur', 23],
  ['nah', 23],
  ['ml', 23],
  ['bg', 22],
  ['am', 20],
  ['af', 20],
  ['sr', 19],
  ['nb', 19],
  ['mk', 18],
  ['hr', 17],
  ['aym', 15],
  ['fil', 13],
];
export const MAX_LOCALES = LOCALE_POOL.length;

// Scripts of the non-Latin locales: letters that a-z are mapped onto, or a block of syllables /
// ideographs that whole words are mapped onto.
type Script = { letters: string[] } | { syllables: [number, number]; perWord: number };
const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i));
const CYRILLIC: Script = { letters: range(0x430, 0x44f) };
const ARABIC: Script = { letters: [...range(0x628, 0x63a), ...range(0x641, 0x64a)] };
const SCRIPTS: Record<string, Script> = {
  ru: CYRILLIC,
  uk: CYRILLIC,
  mn: CYRILLIC,
  bg: CYRILLIC,
  mk: CYRILLIC,
  sr: CYRILLIC,
  ar: ARABIC,
  fa: ARABIC,
  fa_AF: ARABIC,
  ur: ARABIC,
  he: { letters: range(0x5d0, 0x5ea) },
  el: { letters: range(0x3b1, 0x3c9) },
  hi: { letters: range(0x915, 0x939) },
  ne: { letters: range(0x915, 0x939) },
  mr: { letters: range(0x915, 0x939) },
  bn: { letters: range(0x995, 0x9a8) },
  ta: { letters: ['க', 'ங', 'ச', 'ஞ', 'ட', 'ண', 'த', 'ந', 'ப', 'ம', 'ய', 'ர', 'ல', 'வ', 'ழ', 'ள', 'ற', 'ன'] },
  te: { letters: range(0xc15, 0xc28) },
  ml: { letters: range(0xd15, 0xd28) },
  si: { letters: range(0xd9a, 0xdb1) },
  th: { letters: range(0xe01, 0xe2e) },
  km: { letters: range(0x1780, 0x17a2) },
  am: { letters: range(0x1200, 0x1248) },
  ka: { letters: range(0x10d0, 0x10f0) },
  hy: { letters: range(0x561, 0x586) },
  zh_CN: { syllables: [0x4e00, 0x9fa5], perWord: 2 },
  zh_TW: { syllables: [0x4e00, 0x9fa5], perWord: 2 },
  ja: { syllables: [0x30a2, 0x30f3], perWord: 3 },
  ko: { syllables: [0xac00, 0xd7a3], perWord: 2 },
};
const ACCENTS: Record<string, string[]> = {
  a: ['á', 'à', 'â', 'ä', 'ã', 'å', 'ą'],
  e: ['é', 'è', 'ê', 'ë', 'ę', 'ě'],
  i: ['í', 'ì', 'î', 'ï'],
  o: ['ó', 'ò', 'ô', 'ö', 'õ', 'ø'],
  u: ['ú', 'ù', 'û', 'ü', 'ů'],
  n: ['ñ', 'ń', 'ň'],
  c: ['ç', 'ć', 'č'],
  s: ['ś', 'š', 'ş'],
  z: ['ź', 'ž', 'ż'],
  y: ['ý', 'ÿ'],
};

function dictLang(raw: string): DictLang | null {
  const lang = raw.split(/[_@]/)[0]!;
  return lang === 'es' || lang === 'fr' || lang === 'pt' || lang === 'de' ? lang : null;
}

/** Turn English text into the look of another locale: its script, or accents for Latin scripts. */
function pseudoTranslate(text: string, raw: string): string {
  const variant = hash32(raw);
  const script = SCRIPTS[raw];
  if (script && 'syllables' in script) {
    const [from, to] = script.syllables;
    return text
      .replace(/[A-Za-z]+/g, (word) => {
        let h = hash32(`${raw}:${word.toLowerCase()}`);
        let out = '';
        for (let i = 0; i < script.perWord; i++) {
          out += String.fromCodePoint(from + (h % (to - from + 1)));
          h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
        }
        return out;
      })
      .replace(/ (?=\S)/g, script.perWord === 3 ? '・' : '');
  }
  if (script) {
    return text.replace(/[A-Za-z]/g, (c) => script.letters[(c.toLowerCase().charCodeAt(0) - 97 + variant) % script.letters.length]!);
  }
  return text.replace(/[A-Za-z]/g, (c) => {
    const lower = c.toLowerCase();
    const options = ACCENTS[lower];
    if (!options || (variant + lower.charCodeAt(0)) % 3 === 0) return c;
    const r = options[(variant >>> 3) % options.length]!;
    return c === lower ? r : r.toUpperCase();
  });
}

// ---------------------------------------------------------------------------------------------
// The plan: everything about one activity, computed from (seed, index) alone.

export interface PlannedVersion {
  version: string;
  versionNormalized: string;
  sortKey: string;
  runtime: Runtime;
  exec: string;
  sugarMin: string | null;
  sugarMax: string | null;
  releaseNotes: string | null;
  createdAt: Date;
}

export interface PlannedActivity {
  index: number;
  bundleId: string;
  /** Folder name without `.activity`, also the Python module and class stem. */
  folder: string;
  name: string;
  summary: string;
  description: string;
  tags: string[];
  licenses: string[];
  /** Translations by gettext folder name (pt_BR), as in the bundle's locale/ folder. */
  locales: Record<string, { name: string; summary: string }>;
  /** The icon as the bundle holds it (Sugar colour entities in a DTD). */
  icon: string;
  iconName: string;
  url: string;
  repository: string;
  /** Oldest first (the order they were released in). */
  versions: PlannedVersion[];
  createdAt: Date;
  ownerUser: number;
  developerUser: number | null;
  downloads: number;
  averageDailyUsers: number;
  rating: { count: number; average: number | null; bayesian: number | null };
  featured: boolean;
}

export interface PlanOptions {
  versions: number;
  locales: number;
  users: number;
}

const DAY = 86_400_000;
const START = Date.UTC(2008, 0, 1, 12);
const END = Date.UTC(2025, 11, 31, 12);

function planVersionStrings(rng: Rng, count: number): string[] {
  const out: string[] = [];
  const scheme = rng.weighted([
    ['int', 65],
    ['dotted2', 17],
    ['dotted3', 18],
  ] as const);
  if (scheme === 'int') {
    let n = rng.weighted([
      [1, 40],
      [rng.int(2, 9), 40],
      [rng.int(10, 60), 20],
    ] as const);
    for (let i = 0; i < count; i++) {
      out.push(String(n));
      n += rng.weighted([
        [1, 85],
        [2, 10],
        [rng.int(3, 5), 5],
      ] as const);
    }
  } else if (scheme === 'dotted2') {
    let major = rng.weighted([
      [0, 30],
      [1, 50],
      [rng.int(2, 4), 20],
    ] as const);
    let minor = rng.int(major === 0 ? 1 : 0, 9);
    for (let i = 0; i < count; i++) {
      out.push(`${major}.${minor}`);
      if (rng.chance(0.2)) {
        major++;
        minor = 0;
      } else minor++;
    }
  } else {
    let [major, minor, patch] = [
      rng.weighted([
        [0, 30],
        [1, 50],
        [rng.int(2, 4), 20],
      ] as const),
      rng.int(0, 9),
      rng.int(0, 5),
    ];
    if (major === 0 && minor === 0) minor = 1;
    for (let i = 0; i < count; i++) {
      out.push(`${major}.${minor}.${patch}`);
      const step = rng.weighted([
        ['patch', 70],
        ['minor', 25],
        ['major', 5],
      ] as const);
      if (step === 'patch') patch++;
      else if (step === 'minor') [minor, patch] = [minor + 1, 0];
      else [major, minor, patch] = [major + 1, 0, 0];
    }
  }
  // A few releases carry a suffix (Sugar ignores it when comparing).
  if (rng.chance(0.12)) {
    for (let k = rng.int(1, 2); k > 0; k--) {
      const i = rng.int(0, count - 1);
      if (!/[-~]/.test(out[i]!)) out[i] += rng.pick(SUFFIXES);
    }
  }
  return out;
}

function planIcon(rng: Rng): string {
  const shapes: string[] = [];
  const f = (x: number) => x.toFixed(1);
  for (let k = rng.int(1, 3); k > 0; k--) {
    const kind = rng.int(0, 3);
    const fill = rng.chance(0.5) ? '&fill_color;' : 'none';
    if (kind === 0)
      shapes.push(
        `<circle cx="${f(rng.int(15, 40))}" cy="${f(rng.int(15, 40))}" r="${f(rng.int(6, 18))}" fill="${fill}" stroke="&stroke_color;" stroke-width="3"/>`,
      );
    else if (kind === 1)
      shapes.push(
        `<rect x="${f(rng.int(5, 20))}" y="${f(rng.int(5, 20))}" width="${f(rng.int(15, 30))}" height="${f(rng.int(15, 30))}" rx="${f(rng.int(0, 6))}" fill="${fill}" stroke="&stroke_color;" stroke-width="3"/>`,
      );
    else if (kind === 2) {
      const pts = Array.from({ length: rng.int(3, 6) }, () => `${rng.int(4, 51)},${rng.int(4, 51)}`).join(' ');
      shapes.push(`<polygon points="${pts}" fill="${fill}" stroke="&stroke_color;" stroke-width="3" stroke-linejoin="round"/>`);
    } else {
      shapes.push(
        `<path d="M${rng.int(5, 20)} ${rng.int(30, 50)} Q${rng.int(20, 35)} ${rng.int(5, 25)} ${rng.int(35, 50)} ${rng.int(30, 50)}" fill="none" stroke="&stroke_color;" stroke-width="3" stroke-linecap="round"/>`,
      );
    }
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
  <!ENTITY stroke_color "#010101">
  <!ENTITY fill_color "#FFFFFF">
]>
<svg xmlns="http://www.w3.org/2000/svg" width="55" height="55" viewBox="0 0 55 55">
${shapes.join('\n')}
</svg>
`;
}

function translateName(subject: Dict, kind: Dict, suffix: string | null, lang: DictLang): string {
  let base: string;
  if (lang === 'de') base = `${kind[lang]} der ${subject[lang]}`;
  else if (lang === 'fr') base = `${kind[lang]} des ${subject[lang].toLowerCase()}`;
  else base = `${kind[lang]} de ${subject[lang].toLowerCase()}`;
  return suffix ? `${base} ${suffix}` : base;
}

export function planUser(seed: number, k: number): { email: string; displayName: string; createdAt: Date } {
  const rng = new Rng(`${seed}:user:${k}`);
  return {
    email: `generated+s${seed}-${k}@example.org`,
    displayName: `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`,
    createdAt: new Date(START + rng.int(0, 15 * 365) * DAY),
  };
}

export function userCountFor(activities: number): number {
  return Math.max(1, Math.ceil(activities / 3));
}

export function planActivity(seed: number, index: number, opts: PlanOptions): PlannedActivity {
  const rng = new Rng(`${seed}:activity:${index}`);
  const subject = rng.pick(SUBJECTS);
  let kind = rng.pick(KINDS);
  while (kind.en === subject.en) kind = rng.pick(KINDS);
  const suffix = rng.chance(0.12) ? rng.pick(NAME_SUFFIXES) : null;
  const name = `${subject.en} ${kind.en}${suffix ? ` ${suffix}` : ''}`;
  const folder = `${subject.en}${kind.en}${suffix ?? ''}${index}`.replace(/[^A-Za-z0-9]/g, '');
  const bundleId = `${generatedPrefix(seed)}${folder}`;

  const topics = rng.sample(
    TOPICS.map((t) => [t, t.weight] as const),
    rng.weighted([
      [1, 45],
      [2, 40],
      [3, 15],
    ] as const),
  );
  const tags = topics.map((t) => t.tag);
  const template = rng.int(0, SUMMARY_TEMPLATES.en.length - 1);
  const summaryIn = (lang: keyof Dict) => SUMMARY_TEMPLATES[lang][template]!.replace('{topic}', topics[0]![lang]);
  const summary = summaryIn('en');
  const features = rng.sample(
    FEATURES.map((x) => [x, 1] as const),
    rng.int(2, 4),
  );
  const description = `<p>${name}: ${summary.charAt(0).toLowerCase()}${summary.slice(1)}</p><ul>${features.map((x) => `<li>${x}</li>`).join('')}</ul>`;
  const licenses = rng.weighted(LICENSES);

  const wanted = Math.min(opts.locales, MAX_LOCALES);
  const n = wanted === 0 ? 0 : rng.chance(0.15) ? rng.int(0, Math.min(3, wanted)) : rng.int(Math.ceil(wanted / 2), wanted);
  const locales: PlannedActivity['locales'] = {};
  for (const raw of rng.sample(LOCALE_POOL, n).sort()) {
    const lang = dictLang(raw);
    locales[raw] = lang
      ? { name: translateName(subject, kind, suffix, lang), summary: summaryIn(lang) }
      : { name: pseudoTranslate(name, raw), summary: pseudoTranslate(summary, raw) };
  }

  // Runtimes like the real catalog: Python 3, Python 2 activities ported to 3 at some release,
  // Python 2 only (never ported), web activities, and a few launching something else.
  const runtimePlan = rng.weighted([
    ['python3', 30],
    ['ported', 20],
    ['python2', 18],
    ['web', 20],
    ['other', 12],
  ] as const);
  const portedAt = opts.versions > 1 ? rng.int(1, opts.versions - 1) : 0;
  const module = folder.replace(/\d+$/, '').toLowerCase();
  const execFor = (runtime: Runtime): string => {
    switch (runtime) {
      case 'python2':
        return `sugar-activity ${module}.${folder}Activity`;
      case 'python3':
        return `sugar-activity3 ${module}.${folder}Activity`;
      case 'web':
        return 'sugar-activity-web';
      default:
        return `./${module}.sh`;
    }
  };

  const strings = planVersionStrings(rng, opts.versions);
  // Releases 10 to 400 days apart, squeezed when they would run past END, so that activities
  // were last updated at all times (many long ago, as in the real catalog).
  const first = START + rng.int(0, Math.floor((END - START) / DAY) - 30) * DAY;
  const gaps = strings.map((_, i) => (i === 0 ? 0 : rng.int(10, 400) * DAY));
  const span = gaps.reduce((x, y) => x + y, 0);
  const squeeze = span > END - first ? (END - first) / span : 1;
  let t = first;
  const createdAt = new Date(first);
  const versions: PlannedVersion[] = strings.map((version, i) => {
    const runtime: Runtime = runtimePlan === 'ported' ? (i < portedAt ? 'python2' : 'python3') : runtimePlan;
    const range = defaultRangeFor(runtime);
    const parsed = parseSugarVersion(version);
    t += Math.floor((gaps[i]! * squeeze) / 1000) * 1000;
    const notes = rng.chance(0.8) ? `${rng.pick(CHANGES)}.` : null;
    return {
      version,
      versionNormalized: parsed.parts.join('.'),
      sortKey: sugarVersionSortKey(version),
      runtime,
      exec: execFor(runtime),
      sugarMin: range.min,
      sugarMax: range.max,
      releaseNotes: runtimePlan === 'ported' && i === portedAt ? 'Ported to Python 3.' : notes,
      // A minute per release keeps them in order even when squeezed together.
      createdAt: new Date(t + i * 60_000),
    };
  });

  const downloads = Math.floor(Math.exp(rng.next() * 4 + rng.next() * 4 + rng.next() * 3));
  const ratingCount = rng.chance(0.4) ? 0 : Math.floor(Math.exp(rng.next() * 5));
  const average = ratingCount ? Math.round((2 + rng.next() * 3) * 1000) / 1000 : null;
  const bayesian = average !== null ? Math.round(((10 * 3.5 + average * ratingCount) / (10 + ratingCount)) * 1000) / 1000 : null;
  const ownerUser = rng.int(0, opts.users - 1);
  const developer = opts.users > 1 && rng.chance(0.2) ? rng.int(0, opts.users - 1) : null;

  return {
    index,
    bundleId,
    folder,
    name,
    summary,
    description,
    tags,
    licenses,
    locales,
    icon: planIcon(rng),
    iconName: `activity-${module}`,
    url: `https://example.org/generated/${folder}`,
    repository: `https://git.example.org/generated/${folder}.git`,
    versions,
    createdAt,
    ownerUser,
    developerUser: developer === ownerUser ? null : developer,
    downloads,
    averageDailyUsers: Math.floor(downloads / rng.int(20, 200)),
    rating: { count: ratingCount, average, bayesian },
    featured: rng.chance(0.01),
  };
}

// ---------------------------------------------------------------------------------------------
// Bundles: one small, real .xo per version, with the same metadata as its rows.

function activityInfo(a: PlannedActivity, v: PlannedVersion): string {
  return [
    '[Activity]',
    `name = ${a.name}`,
    `bundle_id = ${a.bundleId}`,
    `exec = ${v.exec}`,
    `icon = ${a.iconName}`,
    `activity_version = ${v.version}`,
    `license = ${a.licenses.join(';')}`,
    `summary = ${a.summary}`,
    `tags = ${a.tags.join(';')}`,
    `url = ${a.url}`,
    `repository = ${a.repository}`,
    'description:',
    `    ${a.description}`,
    '',
  ].join('\n');
}

/**
 * The warnings the bundle library gives this version (the same checks and words as its info
 * reader; the integration test compares them with what inspectBundle says).
 */
function versionWarnings(a: PlannedActivity, v: PlannedVersion): BundleIssue[] {
  const file = `${a.folder}.activity/activity/activity.info`;
  const line =
    activityInfo(a, v)
      .split('\n')
      .findIndex((l) => l.startsWith('activity_version ')) + 1;
  const parsed = parseSugarVersion(v.version);
  const out: BundleIssue[] = [];
  const key = 'activity_version';
  if (!parsed.portable) {
    out.push({
      code: 'VERSION_NOT_PORTABLE',
      message: `${key} ${JSON.stringify(v.version)} is not a plain integer; Sugar older than 0.92 cannot read such versions`,
      file,
      line,
      params: { key, value: v.version },
    });
  }
  if (!isGtk2Suffix(parsed.suffix)) {
    out.push({
      code: 'VERSION_SUFFIX_GTK2',
      message: `${key} ${JSON.stringify(v.version)} has the suffix ${JSON.stringify(parsed.suffix)}; the old GTK2 toolkit only accepts "-" followed by letters`,
      file,
      line,
      params: { key, value: v.version, suffix: parsed.suffix ?? '' },
    });
  }
  return out;
}

/**
 * A Date whose local-time fields are the given UTC instant's fields. Zip entries store DOS local
 * times, and yazl reads them with local getters: this keeps the bytes (and the sha256) of a
 * generated bundle the same whatever the machine's time zone.
 */
function zipTime(d: Date): Date {
  return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const COMPRESS_FROM = 1024;

/** The NEWS file of a version: its release notes and the earlier ones, newest first. */
export function newsText(a: PlannedActivity, versionIndex: number): string {
  return a.versions
    .slice(0, versionIndex + 1)
    .reverse()
    .map((x) => `${x.version}\n\n* ${x.releaseNotes ?? 'Release.'}\n`)
    .join('\n');
}

/** The .xo of one version (deterministic bytes). */
export async function buildGeneratedBundle(a: PlannedActivity, versionIndex: number): Promise<Buffer> {
  const v = a.versions[versionIndex]!;
  const zip = new yazl.ZipFile();
  const root = `${a.folder}.activity`;
  const opts = { mtime: zipTime(v.createdAt), forceDosTimestamp: true, mode: 0o100644 };
  // Files under 1 KiB are stored rather than deflated: deflating a 200-byte linfo saves next to
  // nothing, and zlib's per-call setup would make it the slowest step of generating a catalog.
  const add = (path: string, text: string) => {
    const buf = Buffer.from(text, 'utf8');
    zip.addBuffer(buf, `${root}/${path}`, { ...opts, compress: buf.length >= COMPRESS_FROM });
  };
  add('activity/activity.info', activityInfo(a, v));
  add(`activity/${a.iconName}.svg`, a.icon);
  for (const [raw, t] of Object.entries(a.locales)) add(`locale/${raw}/activity.linfo`, `[Activity]\nname = ${t.name}\nsummary = ${t.summary}\n`);
  const module = a.iconName.slice('activity-'.length);
  if (v.runtime === 'web') {
    add(
      'index.html',
      `<!doctype html>\n<html><head><meta charset="utf-8"><title>${a.name}</title><script src="js/activity.js"></script></head>\n<body><h1>${a.name}</h1><p>${a.summary}</p></body></html>\n`,
    );
    add('js/activity.js', `// ${a.name} ${v.version}\ndefine(["sugar-web/activity/activity"], function (activity) {\n  activity.setup();\n});\n`);
  } else if (v.runtime === 'other') {
    add(`${module}.sh`, `#!/bin/sh\n# ${a.name} ${v.version}\nexec python3 -m ${module} "$@"\n`);
  } else {
    const toolkit = v.runtime === 'python3' ? 'sugar3' : 'sugar';
    add(
      `${module}.py`,
      `from ${toolkit}.activity import activity\n\n\nclass ${a.folder}Activity(activity.Activity):\n    """${a.name}: ${a.summary}"""\n\n    def __init__(self, handle):\n        activity.Activity.__init__(self, handle)\n`,
    );
    add('setup.py', `#!/usr/bin/env python${v.runtime === 'python3' ? '3' : ''}\nfrom ${toolkit}.activity import bundlebuilder\nbundlebuilder.start()\n`);
  }
  add('NEWS', newsText(a, versionIndex));
  zip.end();
  return collect(zip.outputStream);
}

export interface BundleFileFacts {
  path: string;
  size: number;
  compressed_size: number;
}

interface FileFacts {
  sha256: string;
  sha1: string;
  md5: string;
  size: number;
  pieceHashes: Buffer;
  /** The bundle's files, as the bundle library lists them (empty without real files). */
  entries: BundleFileFacts[];
}

async function hashBuffer(buf: Buffer): Promise<Omit<FileFacts, 'entries'>> {
  const h = new HashingStream();
  h.resume();
  await new Promise<void>((resolve, reject) => {
    h.once('error', reject);
    h.end(buf, () => resolve());
  });
  const d = h.digests();
  return { sha256: d.sha256, sha1: d.sha1, md5: d.md5, size: d.size, pieceHashes: d.pieceHashes };
}

/** Stand-in facts for `files: false`: stable per version, never a real file. */
function fakeFacts(a: PlannedActivity, v: PlannedVersion): FileFacts {
  const id = `generated-without-file:${a.bundleId}:${v.version}`;
  const size = 4_000 + (hash32(id) % 60_000);
  const pieces = Math.ceil(size / PIECE_LENGTH);
  return {
    sha256: createHash('sha256').update(id).digest('hex'),
    sha1: createHash('sha1').update(id).digest('hex'),
    md5: createHash('md5').update(id).digest('hex'),
    size,
    pieceHashes: Buffer.concat(Array.from({ length: pieces }, (_, i) => createHash('sha256').update(`${id}:${i}`).digest())),
    entries: [],
  };
}

/**
 * Writes bytes to the content-addressed store: temporary name, then rename. No fsync per file
 * (the catalog is synthetic and can be generated again; fsyncing 100,000 small files would
 * dominate the run). Synchronous calls: for files this small they cost less than a trip through
 * libuv's thread pool, and the database work overlaps them anyway.
 */
class StoreWriter {
  private readonly dirs = new Set<string>();
  private readonly tmp: string;
  constructor(private readonly ctx: AppContext) {
    this.tmp = join(ctx.files.root, 'tmp');
    mkdirSync(this.tmp, { recursive: true });
  }
  put(sha256: string, bytes: Buffer): void {
    const dest = this.ctx.files.pathOf(sha256);
    const dir = dirname(dest);
    if (!this.dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.dirs.add(dir);
    }
    // No existence check: when the file is already there (same seed again), renaming the same
    // bytes over it is harmless, and checking first costs more than it saves.
    const temp = join(this.tmp, `generate-${process.pid}-${sha256}.part`);
    writeFileSync(temp, bytes);
    try {
      renameSync(temp, dest);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rows.

/** Multi-row inserts, split so no statement passes PostgreSQL's 65,535 bind parameters. */
async function insertChunked<T extends keyof Database & string>(trx: Transaction<Database>, table: T, rows: Insertable<Database[T]>[]): Promise<void> {
  if (rows.length === 0) return;
  const perRow = Object.keys(rows[0] as object).length;
  const size = Math.max(1, Math.floor(20_000 / perRow));
  for (let i = 0; i < rows.length; i += size) {
    // The table is one of ours and the rows match its type; Kysely's generic insert needs the cast.
    await trx
      .insertInto(table)
      .values(rows.slice(i, i + size) as never)
      .execute();
  }
}

interface PreparedActivity {
  plan: PlannedActivity;
  facts: FileFacts[];
}

function metadataOf(a: PlannedActivity, v: PlannedVersion, files: BundleFileFacts[], news: string): Record<string, unknown> {
  return {
    bundle_id: a.bundleId,
    name: a.name,
    version: v.version,
    version_normalized: v.versionNormalized,
    version_sort_key: v.sortKey,
    exec: v.exec,
    runtime: v.runtime,
    icon: a.iconName,
    license: a.licenses,
    summary: a.summary,
    description: a.description,
    tags: a.tags,
    locales: a.locales,
    mime_types: [],
    max_participants: null,
    url: a.url,
    repository: a.repository,
    root: `${a.folder}.activity`,
    files,
    news,
  };
}

/** The files of a zip, from its central directory: what the bundle library lists for it. */
export function zipEntries(zip: Buffer, root: string): BundleFileFacts[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const out: BundleFileFacts[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory entry');
    const compressed = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLength);
    if (!name.endsWith('/')) out.push({ path: name.startsWith(`${root}/`) ? name.slice(root.length + 1) : name, size, compressed_size: compressed });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}

async function writeBatch(
  trx: Transaction<Database>,
  batch: PreparedActivity[],
  userIds: number[],
  tagIds: Map<string, number>,
  webIcons: Map<string, string>,
): Promise<void> {
  const created = await trx
    .insertInto('activities')
    .values(
      batch.map(({ plan: a }) => {
        const newest = a.versions[a.versions.length - 1]!.createdAt;
        return {
          bundle_id: a.bundleId,
          kind: 'activity' as const,
          status: 'public' as const,
          status_changed_at: newest,
          homepage_url: a.url,
          repository_url: a.repository,
          icon_svg: webIcons.get(a.bundleId) ?? null,
          download_count: a.downloads,
          average_daily_users: a.averageDailyUsers,
          rating_count: a.rating.count,
          rating_average: a.rating.average,
          rating_bayesian: a.rating.bayesian,
          featured: a.featured,
          created_at: a.createdAt,
          updated_at: newest,
          last_published_at: newest,
        };
      }),
    )
    .returning(['id', 'bundle_id'])
    .execute();
  const idOf = new Map(created.map((r) => [r.bundle_id, r.id]));
  const id = (a: PlannedActivity) => idOf.get(a.bundleId)!;

  await insertChunked(
    trx,
    'activity_authors',
    batch.flatMap(({ plan: a }) => [
      { activity_id: id(a), user_id: userIds[a.ownerUser]!, role: 'owner' as const, position: 0, created_at: a.createdAt },
      ...(a.developerUser !== null
        ? [{ activity_id: id(a), user_id: userIds[a.developerUser]!, role: 'developer' as const, position: 1, created_at: a.createdAt }]
        : []),
    ]),
  );

  await insertChunked(
    trx,
    'activity_texts',
    batch.flatMap(({ plan: a }) => {
      const at = a.versions[a.versions.length - 1]!.createdAt;
      const rows: Insertable<Database['activity_texts']>[] = [
        { activity_id: id(a), locale: UNDETERMINED, origin: 'bundle', name: a.name, summary: a.summary, description: a.description, updated_at: at },
      ];
      for (const [raw, t] of Object.entries(a.locales)) {
        const locale = normalizeLocale(raw);
        if (!locale || rows.some((r) => r.locale === locale)) continue;
        rows.push({ activity_id: id(a), locale, origin: 'bundle', name: t.name, summary: t.summary, description: null, updated_at: at });
      }
      return rows;
    }),
  );

  await insertChunked(
    trx,
    'activity_tags',
    batch.flatMap(({ plan: a }) => a.tags.map((t) => ({ activity_id: id(a), tag_id: tagIds.get(slugify(t))! }))),
  );

  const versionRows = batch.flatMap(({ plan: a, facts }) =>
    a.versions.map((v, i) => ({
      activity_id: id(a),
      version: v.version,
      version_normalized: v.versionNormalized,
      sort_key: v.sortKey,
      release_notes: v.releaseNotes,
      sugar_min: v.sugarMin,
      sugar_max: v.sugarMax,
      sugar_min_key: v.sugarMin ? sugarVersionSortKey(v.sugarMin) : null,
      sugar_max_key: v.sugarMax ? sugarVersionSortKey(v.sugarMax) : null,
      sugar_range_origin: 'runtime' as const,
      runtime: v.runtime,
      exec: v.exec,
      licenses: a.licenses,
      metadata: JSON.stringify(metadataOf(a, v, facts[i]!.entries, newsText(a, i))),
      icon_svg: webIcons.get(a.bundleId) ?? null,
      uploaded_by: userIds[a.ownerUser]!,
      created_at: v.createdAt,
    })),
  );
  const versionIds = new Map<string, number>();
  const perStatement = Math.floor(20_000 / Object.keys(versionRows[0]!).length);
  for (let i = 0; i < versionRows.length; i += perStatement) {
    const rows = await trx
      .insertInto('versions')
      .values(versionRows.slice(i, i + perStatement))
      .returning(['id', 'activity_id', 'version_normalized'])
      .execute();
    for (const r of rows) versionIds.set(`${r.activity_id}:${r.version_normalized}`, r.id);
  }

  await insertChunked(
    trx,
    'files',
    batch.flatMap(({ plan: a, facts }) =>
      a.versions.map((v, i) => {
        const f = facts[i]!;
        return {
          version_id: versionIds.get(`${id(a)}:${v.versionNormalized}`)!,
          sha256: f.sha256,
          sha1: f.sha1,
          md5: f.md5,
          size: f.size,
          storage_key: f.sha256,
          file_name: downloadName({ name: a.name, version: v.version, bundle_id: a.bundleId }, 'xo'),
          status: 'public' as const,
          status_changed_at: v.createdAt,
          piece_length: PIECE_LENGTH,
          piece_hashes: f.pieceHashes,
          validation: JSON.stringify({ warnings: versionWarnings(a, v), generated: true }),
          created_at: v.createdAt,
        };
      }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------

function assertCount(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new AsloError('GENERATE_BAD_OPTION', `${name} must be a whole number from ${min} to ${max}, got ${v}.`);
  }
}

/** Remove what an earlier run with this seed generated (rows cascade; stored files stay). */
export async function removeGenerated(ctx: AppContext, seed: number): Promise<number> {
  const prefix = generatedPrefix(seed);
  const like = `${prefix.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
  const removed = await ctx.db.transaction().execute(async (trx) => {
    const res = await trx.deleteFrom('activities').where('bundle_id', 'like', like).executeTakeFirst();
    await trx.deleteFrom('users').where('email', 'like', `generated+s${seed}-%@example.org`).execute();
    return Number(res.numDeletedRows);
  });
  return removed;
}

export async function generateCatalog(ctx: AppContext, opts: GenerateOptions): Promise<GenerateResult> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const locales = opts.locales ?? Math.min(DEFAULT_LOCALES, MAX_LOCALES);
  const withFiles = opts.files ?? true;
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  assertCount('activities', opts.activities, 1, 10_000_000);
  assertCount('versions', opts.versions, 1, 1000);
  assertCount('seed', seed, 0, 2 ** 31 - 1);
  assertCount('locales', locales, 0, MAX_LOCALES);
  assertCount('batch size', batchSize, 1, 100_000);

  const prefix = generatedPrefix(seed);
  if (opts.replace) {
    await removeGenerated(ctx, seed);
  } else {
    const like = `${prefix.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    const existing = await ctx.db.selectFrom('activities').select('bundle_id').where('bundle_id', 'like', like).limit(1).executeTakeFirst();
    if (existing) {
      throw new AsloError(
        'GENERATE_EXISTS',
        `This catalog already holds activities generated with seed ${seed} (${existing.bundle_id}). Use another --seed, or --replace to delete them and generate again.`,
      );
    }
  }

  const total = opts.activities;
  const planOpts: PlanOptions = { versions: opts.versions, locales, users: userCountFor(total) };

  // Users (authors) and tags first: every batch refers to them.
  const userIds: number[] = [];
  for (let k = 0; k < planOpts.users; k += 2000) {
    const rows = Array.from({ length: Math.min(2000, planOpts.users - k) }, (_, j) => {
      const u = planUser(seed, k + j);
      return {
        email: u.email,
        display_name: u.displayName,
        role: 'user' as const,
        email_verified_at: u.createdAt,
        created_at: u.createdAt,
        updated_at: u.createdAt,
      };
    });
    const ids = await ctx.db.insertInto('users').values(rows).returning('id').execute();
    userIds.push(...ids.map((r) => r.id));
  }
  const tagRows = TOPICS.map((t) => ({ slug: slugify(t.tag), name: t.tag }));
  await ctx.db
    .insertInto('tags')
    .values(tagRows)
    .onConflict((oc) => oc.column('slug').doNothing())
    .execute();
  const tagIds = new Map(
    (
      await ctx.db
        .selectFrom('tags')
        .select(['id', 'slug'])
        .where(
          'slug',
          'in',
          tagRows.map((t) => t.slug),
        )
        .execute()
    ).map((t) => [t.slug, t.id]),
  );

  const writer = new StoreWriter(ctx);
  const prepare = async (from: number): Promise<{ batch: PreparedActivity[]; webIcons: Map<string, string> }> => {
    const plans = Array.from({ length: Math.min(batchSize, total - from) }, (_, j) => planActivity(seed, from + j, planOpts));
    const webIcons = new Map(plans.map((a) => [a.bundleId, resolveIconColors(a.icon)]));
    const jobs = plans.flatMap((plan) => plan.versions.map((_, vi) => ({ plan, vi })));
    const facts = await mapLimit(jobs, 32, async ({ plan, vi }) => {
      if (!withFiles) return fakeFacts(plan, plan.versions[vi]!);
      const bytes = await buildGeneratedBundle(plan, vi);
      const f = await hashBuffer(bytes);
      writer.put(f.sha256, bytes);
      return { ...f, entries: zipEntries(bytes, `${plan.folder}.activity`) };
    });
    let k = 0;
    const batch = plans.map((plan) => ({ plan, facts: plan.versions.map(() => facts[k++]!) }));
    return { batch, webIcons };
  };

  let done = 0;
  let versions = 0;
  opts.onProgress?.(0, total);
  // Build the next batch's bundles while the database writes this one.
  let next = prepare(0);
  for (let from = 0; from < total; from += batchSize) {
    const { batch, webIcons } = await next;
    if (from + batchSize < total) {
      next = prepare(from + batchSize);
      // If this batch's transaction fails, the next batch's rejection must not go unhandled.
      next.catch(() => {});
    }
    await ctx.db.transaction().execute((trx) => writeBatch(trx, batch, userIds, tagIds, webIcons));
    // Running servers (the updater's index, caches) learn about the batch like about any upload.
    const written = await ctx.db
      .selectFrom('activities')
      .select('id')
      .where(
        'bundle_id',
        'in',
        batch.map((b) => b.plan.bundleId),
      )
      .execute();
    await events.emit('catalog.changed', { ctx, activityIds: written.map((r) => r.id) });
    done += batch.length;
    versions += batch.reduce((s, b) => s + b.plan.versions.length, 0);
    opts.onProgress?.(done, total);
  }

  await ctx.db
    .insertInto('audit_log')
    .values({
      at: new Date(),
      actor_user_id: null,
      actor_label: 'cli:dev-generate',
      actor_address: null,
      action: 'catalog.generate',
      target_type: 'catalog',
      target_id: prefix,
      reason: null,
      details: JSON.stringify({ seed, activities: done, versions, locales, files: withFiles }),
    })
    .execute();
  // Keep planner statistics right after a bulk load (the embedded database never autovacuums).
  await sql`analyze`.execute(ctx.db);

  return { activities: done, versions, files: versions };
}
