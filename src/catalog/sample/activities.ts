// The store's own sample activities, written for this project (icons and texts included), so a
// first start shows a populated catalog. They are built into real bundles and go through the
// same ingest path as any upload.

export interface SampleVersion {
  version: string;
  exec: string;
  releaseNotes?: string;
}

export interface SampleActivity {
  bundleId: string;
  name: string;
  /** Folder name inside the bundle, without the .activity suffix. */
  folder: string;
  summary: string;
  description: string;
  tags: string[];
  license: string;
  kind: 'activity' | 'content';
  versions: SampleVersion[];
  icon: string;
  translations: Record<string, { name: string; summary: string }>;
}

// Icons use Sugar's colour entities; the store resolves them for the web.
const svg = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
  <!ENTITY stroke_color "#010101">
  <!ENTITY fill_color "#FFFFFF">
]>
<svg xmlns="http://www.w3.org/2000/svg" width="55" height="55" viewBox="0 0 55 55">
${body}
</svg>
`;

export const SAMPLE_ACTIVITIES: SampleActivity[] = [
  {
    bundleId: 'org.aslo.sample.CountingStars',
    name: 'Counting Stars',
    folder: 'CountingStars',
    summary: 'Count the stars in the night sky and learn numbers up to one hundred.',
    description:
      '<p>Stars appear one by one. Count them, group them in tens, and check your answer.</p><ul><li>Numbers from 1 to 100</li><li>Grouping in tens</li><li>Works offline</li></ul>',
    tags: ['Math', 'Numbers'],
    license: 'GPL-3.0-or-later',
    kind: 'activity',
    versions: [
      { version: '3', exec: 'sugar-activity3 counting.CountingActivity', releaseNotes: 'Grouping in tens; bigger stars for small screens.' },
      { version: '4', exec: 'sugar-activity3 counting.CountingActivity', releaseNotes: 'Counts up to one hundred; translations for five languages.' },
    ],
    icon: svg(
      `<polygon points="27.5,5 33.5,20.5 50,21 37,31.5 41.5,48 27.5,38.5 13.5,48 18,31.5 5,21 21.5,20.5" fill="&fill_color;" stroke="&stroke_color;" stroke-width="3" stroke-linejoin="round"/>`,
    ),
    translations: {
      es: { name: 'Contar estrellas', summary: 'Cuenta las estrellas del cielo nocturno y aprende los números hasta cien.' },
      fr: { name: 'Compter les étoiles', summary: 'Compte les étoiles du ciel de nuit et apprends les nombres jusqu’à cent.' },
      pt_BR: { name: 'Contando estrelas', summary: 'Conte as estrelas do céu noturno e aprenda os números até cem.' },
      ar: { name: 'عدّ النجوم', summary: 'عُدّ النجوم في سماء الليل وتعلّم الأعداد حتى المئة.' },
    },
  },
  {
    bundleId: 'org.aslo.sample.WordGarden',
    name: 'Word Garden',
    folder: 'WordGarden',
    summary: 'Grow a garden of words: every new word you spell becomes a flower.',
    description: '<p>Spell words from picture cards. Each correct word plants a flower in your garden.</p>',
    tags: ['Language', 'Reading'],
    license: 'MIT',
    kind: 'activity',
    versions: [{ version: '2', exec: 'sugar-activity-web', releaseNotes: 'New picture cards about animals.' }],
    icon: svg(
      `<circle cx="27.5" cy="20" r="9" fill="&fill_color;" stroke="&stroke_color;" stroke-width="3"/><path d="M27.5 29 V50 M27.5 42 Q17 38 14 30 M27.5 40 Q38 36 41 28" fill="none" stroke="&stroke_color;" stroke-width="3" stroke-linecap="round"/>`,
    ),
    translations: {
      es: { name: 'Jardín de palabras', summary: 'Haz crecer un jardín de palabras: cada palabra nueva es una flor.' },
      fr: { name: 'Jardin de mots', summary: 'Fais pousser un jardin de mots : chaque nouveau mot devient une fleur.' },
      pt_BR: { name: 'Jardim de palavras', summary: 'Cultive um jardim de palavras: cada palavra nova vira uma flor.' },
      ar: { name: 'حديقة الكلمات', summary: 'ازرع حديقة من الكلمات: كل كلمة جديدة تصبح زهرة.' },
    },
  },
  {
    bundleId: 'org.aslo.sample.ColorMixer',
    name: 'Color Mixer',
    folder: 'ColorMixer',
    summary: 'Mix light and paint to discover how colours are made.',
    description: '<p>Two modes: mix coloured light on a dark wall, or mix paint on white paper, and compare what you see.</p>',
    tags: ['Science', 'Art'],
    license: 'GPL-3.0-or-later',
    kind: 'activity',
    versions: [{ version: '1.2', exec: 'sugar-activity3 mixer.MixerActivity', releaseNotes: 'Paint mode added next to light mode.' }],
    icon: svg(
      `<circle cx="20" cy="22" r="12" fill="&fill_color;" stroke="&stroke_color;" stroke-width="3"/><circle cx="35" cy="22" r="12" fill="none" stroke="&stroke_color;" stroke-width="3"/><circle cx="27.5" cy="35" r="12" fill="none" stroke="&stroke_color;" stroke-width="3"/>`,
    ),
    translations: {
      es: { name: 'Mezclador de colores', summary: 'Mezcla luz y pintura para descubrir cómo se forman los colores.' },
      fr: { name: 'Mélangeur de couleurs', summary: 'Mélange lumière et peinture pour découvrir comment naissent les couleurs.' },
      pt_BR: { name: 'Misturador de cores', summary: 'Misture luz e tinta para descobrir como as cores se formam.' },
      ar: { name: 'خلّاط الألوان', summary: 'امزج الضوء والطلاء لتكتشف كيف تتكوّن الألوان.' },
    },
  },
  {
    bundleId: 'org.aslo.sample.PendulumLab',
    name: 'Pendulum Lab',
    folder: 'PendulumLab',
    summary: 'Swing a pendulum, change its length and measure its period.',
    description: '<p>A small physics laboratory for older laptops: the pendulum, a stopwatch and a notebook for your measurements.</p>',
    tags: ['Science', 'Physics'],
    license: 'GPL-2.0-or-later',
    kind: 'activity',
    versions: [
      { version: '7', exec: 'sugar-activity pendulum.PendulumActivity', releaseNotes: 'First release.' },
      { version: '8', exec: 'sugar-activity pendulum.PendulumActivity', releaseNotes: 'The stopwatch keeps running while you change the length.' },
    ],
    icon: svg(
      `<line x1="10" y1="8" x2="45" y2="8" stroke="&stroke_color;" stroke-width="3"/><line x1="27.5" y1="8" x2="36" y2="38" stroke="&stroke_color;" stroke-width="3"/><circle cx="37.5" cy="42" r="7" fill="&fill_color;" stroke="&stroke_color;" stroke-width="3"/>`,
    ),
    translations: {
      es: { name: 'Laboratorio de péndulo', summary: 'Balancea un péndulo, cambia su longitud y mide su período.' },
      fr: { name: 'Labo du pendule', summary: 'Fais osciller un pendule, change sa longueur et mesure sa période.' },
      pt_BR: { name: 'Laboratório do pêndulo', summary: 'Balance um pêndulo, mude seu comprimento e meça seu período.' },
      ar: { name: 'مختبر البندول', summary: 'حرّك البندول وغيّر طوله وقِس زمن دورته.' },
    },
  },
  {
    bundleId: 'org.aslo.sample.TideAtlas',
    name: 'Tide Atlas',
    folder: 'TideAtlas',
    summary: 'A small illustrated book about tides, moons and coastlines.',
    description: '<p>Read how the moon pulls the sea, with drawings of coasts from around the world.</p>',
    tags: ['Geography', 'Reading'],
    license: 'CC-BY-SA-4.0',
    kind: 'content',
    versions: [{ version: '1', exec: '' }],
    icon: svg(
      `<path d="M5 35 Q14 27 23 35 T41 35 T55 35" fill="none" stroke="&stroke_color;" stroke-width="3"/><circle cx="38" cy="15" r="8" fill="&fill_color;" stroke="&stroke_color;" stroke-width="3"/>`,
    ),
    translations: {
      es: { name: 'Atlas de mareas', summary: 'Un pequeño libro ilustrado sobre mareas, lunas y costas.' },
      fr: { name: 'Atlas des marées', summary: 'Un petit livre illustré sur les marées, les lunes et les côtes.' },
      pt_BR: { name: 'Atlas das marés', summary: 'Um pequeno livro ilustrado sobre marés, luas e litorais.' },
      ar: { name: 'أطلس المدّ والجزر', summary: 'كتاب مصوّر صغير عن المدّ والجزر والأقمار والسواحل.' },
    },
  },
];
