// Screenshots of the sample activities, drawn here as SVG scenes (an activity window with Sugar's
// dark toolbar over what the activity shows) and rendered to PNG with sharp when the samples are
// loaded, then stored like a screenshot uploaded in the hub: bytes in the content-addressed file
// store, a row in `screenshots`, an audit entry. So a first start shows pictures on the activity
// pages without shipping binary files.
import { Readable } from 'node:stream';
import type { AppContext } from '../../platform/context.js';
import { audit } from '../../platform/audit/index.js';
import { activityIdByBundleId, hasScreenshot, insertScreenshot } from '../queries.js';

export const SAMPLE_SCREENSHOT_SIZE = { width: 800, height: 600 };

export interface SampleScreenshot {
  bundleId: string;
  /** Caption per locale (`und` is the default, as the hub stores it). */
  captions: Record<string, string>;
  svg: string;
}

const W = SAMPLE_SCREENSHOT_SIZE.width;
const H = SAMPLE_SCREENSHOT_SIZE.height;
const FONT = 'font-family="DejaVu Sans, Noto Sans, Arial, sans-serif"';

/** Sugar's toolbar: the activity button in the XO colours, a few tools, the stop button. */
function toolbar(stroke: string, fill: string, tools: string): string {
  return `<rect width="${W}" height="66" fill="#282828"/>
<g transform="translate(14 11)"><rect width="44" height="44" rx="8" fill="#404040"/><circle cx="22" cy="14" r="6" fill="${fill}" stroke="${stroke}" stroke-width="2.5"/><path d="M12 24 L32 38 M32 24 L12 38" stroke="${fill}" stroke-width="5" stroke-linecap="round"/></g>
<g fill="none" stroke="#f0f0f0" stroke-width="3" stroke-linecap="round" stroke-linejoin="round">${tools}</g>
<g transform="translate(${W - 58} 11)"><circle cx="22" cy="22" r="17" fill="none" stroke="#f0f0f0" stroke-width="3"/><path d="M15 15 L29 29 M29 15 L15 29" stroke="#f0f0f0" stroke-width="3" stroke-linecap="round"/></g>`;
}

function scene(body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${body}</svg>`;
}

/** A small deterministic random sequence, so the scenes are the same on every start. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

function star(cx: number, cy: number, r: number, fill: string, extra = ''): string {
  const pts: string[] = [];
  for (let i = 0; i < 10; i++) {
    const rad = i % 2 === 0 ? r : r * 0.45;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    pts.push(`${(cx + rad * Math.cos(a)).toFixed(1)},${(cy + rad * Math.sin(a)).toFixed(1)}`);
  }
  return `<polygon points="${pts.join(' ')}" fill="${fill}" stroke-linejoin="round" ${extra}/>`;
}

function countingStars(): string {
  const r = rng(7);
  const faint: string[] = [];
  for (let i = 0; i < 90; i++)
    faint.push(
      `<circle cx="${(r() * 560 + 10).toFixed(0)}" cy="${(r() * 500 + 80).toFixed(0)}" r="${(r() * 1.6 + 0.6).toFixed(1)}" fill="#fff" opacity="${(r() * 0.5 + 0.3).toFixed(2)}"/>`,
    );
  // Three groups of ten counted stars in rounded boxes, seven more loose: 37.
  const groups: string[] = [];
  const origins = [
    [40, 120],
    [220, 150],
    [60, 330],
  ];
  for (const [gx, gy] of origins) {
    const stars: string[] = [];
    for (let i = 0; i < 10; i++) stars.push(star(gx! + 26 + (i % 5) * 30, gy! + 30 + Math.floor(i / 5) * 36, 12, '#ffd84a'));
    groups.push(
      `<rect x="${gx}" y="${gy}" width="160" height="96" rx="18" fill="#ffffff" fill-opacity="0.07" stroke="#8bff7a" stroke-width="3" stroke-dasharray="10 7"/>${stars.join('')}`,
    );
  }
  const loose = [
    [300, 350],
    [360, 300],
    [420, 380],
    [470, 260],
    [330, 450],
    [500, 470],
    [410, 520],
  ].map(([x, y], i) => star(x!, y!, 15 + (i % 3) * 2, '#ffe98a'));
  return scene(`<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#0b1a4a"/><stop offset="1" stop-color="#2b3f8f"/></linearGradient></defs>
<rect width="${W}" height="${H}" fill="url(#sky)"/>
${faint.join('')}
<path d="M0 560 Q160 520 320 552 T640 545 T800 540 V600 H0Z" fill="#10245e"/>
${groups.join('')}${loose.join('')}
<g transform="translate(600 96)"><rect width="180" height="470" rx="22" fill="#ffffff" fill-opacity="0.94"/>
${star(90, 50, 22, '#ffd84a', 'stroke="#c9a100" stroke-width="2"')}
<text x="90" y="160" ${FONT} font-size="84" font-weight="bold" fill="#1b3a9e" text-anchor="middle">37</text>
<g transform="translate(30 200)">${[0, 1, 2].map((i) => `<rect x="0" y="${i * 30}" width="120" height="20" rx="10" fill="#ffd84a"/>`).join('')}${[0, 1, 2, 3, 4, 5, 6].map((i) => `<circle cx="${10 + i * 17}" cy="104" r="7" fill="#ffd84a"/>`).join('')}</g>
<rect x="25" y="360" width="130" height="58" rx="29" fill="#4caf50"/><path d="M62 390 l18 16 l34 -34" stroke="#fff" stroke-width="8" fill="none" stroke-linecap="round" stroke-linejoin="round"/></g>
${toolbar('#1b3a9e', '#ffd84a', '<path d="M96 22 v22 M85 33 h22"/><path d="M140 33 h22"/><circle cx="206" cy="33" r="11"/><path d="M206 27 v6 l4 4"/>')}`);
}

function wordGarden(): string {
  const flower = (x: number, y: number, petal: string, size: number) => {
    const petals = [0, 60, 120, 180, 240, 300]
      .map((a) => `<ellipse cx="0" cy="${-size}" rx="${size * 0.55}" ry="${size}" fill="${petal}" transform="rotate(${a})"/>`)
      .join('');
    return `<g transform="translate(${x} ${y})"><path d="M0 0 V${150 - size}" stroke="#3d8b37" stroke-width="6"/><ellipse cx="14" cy="${70 - size / 2}" rx="16" ry="7" fill="#4caf50" transform="rotate(-30 14 ${70 - size / 2})"/>${petals}<circle r="${size * 0.55}" fill="#ffcf33"/></g>`;
  };
  const tile = (x: number, letter: string, color: string) =>
    `<g transform="translate(${x} 0)"><rect width="62" height="70" rx="12" fill="${color}"/><rect x="0" y="62" width="62" height="8" rx="4" fill="#000" opacity="0.15"/><text x="31" y="50" ${FONT} font-size="40" font-weight="bold" fill="#fff" text-anchor="middle">${letter}</text></g>`;
  return scene(`<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#bfe8ff"/><stop offset="1" stop-color="#eaf8ff"/></linearGradient></defs>
<rect width="${W}" height="${H}" fill="url(#sky)"/>
<circle cx="450" cy="128" r="40" fill="#ffd23f"/>
<ellipse cx="180" cy="130" rx="70" ry="24" fill="#fff"/><ellipse cx="220" cy="116" rx="46" ry="24" fill="#fff"/>
<path d="M0 430 Q200 395 400 425 T800 415 V600 H0Z" fill="#7cc96b"/>
<path d="M0 470 Q220 445 420 470 T800 462 V600 H0Z" fill="#5fb14f"/>
${flower(90, 330, '#ff6f91', 24)}${flower(190, 355, '#a06cd5', 20)}${flower(300, 320, '#ff9f1c', 26)}${flower(410, 350, '#4cc9f0', 22)}${flower(520, 330, '#ef476f', 24)}
<g transform="translate(590 170)"><rect width="180" height="200" rx="18" fill="#fff" stroke="#e0e0e0" stroke-width="2"/>
<path d="M60 66 L62 26 L90 50 Z M120 66 L118 26 L90 50 Z" fill="#f59b2a"/><path d="M66 56 L67 36 L80 48 Z M114 56 L113 36 L100 48 Z" fill="#ffd6a0"/><circle cx="90" cy="80" r="36" fill="#ffb347"/><circle cx="76" cy="74" r="5" fill="#5a3e1b"/><circle cx="104" cy="74" r="5" fill="#5a3e1b"/><path d="M86 86 h8 l-4 5 z" fill="#e06666"/><path d="M90 91 q-6 8 -12 4 M90 91 q6 8 12 4" stroke="#5a3e1b" stroke-width="3" fill="none" stroke-linecap="round"/><path d="M66 88 h-22 M66 94 l-20 6 M114 88 h22 M114 94 l20 6" stroke="#5a3e1b" stroke-width="2.5" stroke-linecap="round"/>
<text x="90" y="168" ${FONT} font-size="26" fill="#444" text-anchor="middle">? ? ?</text></g>
<g transform="translate(190 500)">${tile(0, 'C', '#ef476f')}${tile(76, 'A', '#118ab2')}${tile(152, 'T', '#06a77d')}<rect x="240" y="8" width="150" height="54" rx="27" fill="#fff"/><path d="M298 35 l14 12 l26 -26" stroke="#06a77d" stroke-width="7" fill="none" stroke-linecap="round" stroke-linejoin="round"/></g>
${toolbar('#3d8b37', '#ff6f91', '<rect x="84" y="22" width="24" height="22" rx="3"/><path d="M140 44 l10 -22 l10 22 M144 36 h12"/><path d="M190 22 v22 M182 36 l8 8 l8 -8"/>')}`);
}

function colorMixer(): string {
  const light = (cx: number, cy: number) => `<g style="isolation:isolate">
<circle cx="${cx - 62}" cy="${cy - 40}" r="105" fill="#ff2a2a" style="mix-blend-mode:screen"/>
<circle cx="${cx + 62}" cy="${cy - 40}" r="105" fill="#2aff4a" style="mix-blend-mode:screen"/>
<circle cx="${cx}" cy="${cy + 64}" r="105" fill="#2a5cff" style="mix-blend-mode:screen"/></g>`;
  const paint = (cx: number, cy: number) => `<g style="isolation:isolate">
<circle cx="${cx - 62}" cy="${cy - 40}" r="105" fill="#00c8f0" style="mix-blend-mode:multiply"/>
<circle cx="${cx + 62}" cy="${cy - 40}" r="105" fill="#f03cb4" style="mix-blend-mode:multiply"/>
<circle cx="${cx}" cy="${cy + 64}" r="105" fill="#ffe600" style="mix-blend-mode:multiply"/></g>`;
  const swatch = (x: number, c: string) => `<circle cx="${x}" cy="560" r="16" fill="${c}" stroke="#fff" stroke-width="3"/>`;
  return scene(`<rect width="${W}" height="${H}" fill="#dcdcdc"/>
<rect x="16" y="82" width="376" height="440" rx="16" fill="#111522"/>
<rect x="408" y="82" width="376" height="440" rx="16" fill="#fffdf7" stroke="#d8d2c2" stroke-width="2"/>
${light(204, 300)}${paint(596, 300)}
<g transform="translate(0 0)"><rect x="16" y="536" width="768" height="50" rx="25" fill="#fff"/>${swatch(60, '#ff2a2a')}${swatch(102, '#2aff4a')}${swatch(144, '#2a5cff')}${swatch(462, '#00c8f0')}${swatch(504, '#f03cb4')}${swatch(546, '#ffe600')}
<path d="M240 560 h150" stroke="#bbb" stroke-width="6" stroke-linecap="round"/><circle cx="330" cy="560" r="11" fill="#555"/><path d="M640 560 h110" stroke="#bbb" stroke-width="6" stroke-linecap="round"/><circle cx="680" cy="560" r="11" fill="#555"/></g>
${toolbar('#2a5cff', '#ff2a2a', '<circle cx="96" cy="33" r="12"/><path d="M96 15 v-3 M96 54 v-3 M78 33 h-3 M117 33 h-3"/><path d="M140 46 l14 -26 l8 4 l-14 26 z"/>')}`);
}

function pendulumLab(): string {
  const pivot = [300, 110];
  const len = 300;
  const at = (deg: number) => {
    const a = (deg * Math.PI) / 180;
    return [pivot[0]! + len * Math.sin(a), pivot[1]! + len * Math.cos(a)] as const;
  };
  const ghosts = [-32, -22, -11, 11, 22].map((d, i) => {
    const [x, y] = at(d);
    return `<line x1="${pivot[0]}" y1="${pivot[1]}" x2="${x.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#90a4ae" stroke-width="2" opacity="${0.15 + i * 0.05}"/><circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="26" fill="#ff8f00" opacity="${0.12 + i * 0.05}"/>`;
  });
  const swing = (deg: number, radius: number) => {
    const a = (deg * Math.PI) / 180;
    return `${(pivot[0]! + radius * Math.sin(a)).toFixed(1)} ${(pivot[1]! + radius * Math.cos(a)).toFixed(1)}`;
  };
  const [bx, by] = at(30);
  const rows = [
    ['40 cm', '1.27 s'],
    ['60 cm', '1.55 s'],
    ['80 cm', '1.79 s'],
    ['100 cm', '2.01 s'],
  ];
  return scene(`<rect width="${W}" height="${H}" fill="#f4f1ea"/>
<g stroke="#e2ddd0" stroke-width="1">${Array.from({ length: 13 }, (_, i) => `<path d="M${i * 40 + 20} 66 V600"/>`).join('')}${Array.from({ length: 14 }, (_, i) => `<path d="M0 ${i * 40 + 86} H540"/>`).join('')}</g>
<rect x="120" y="92" width="360" height="18" rx="6" fill="#6d4c41"/>
<path d="M${swing(-34, len + 40)} A${len + 40} ${len + 40} 0 0 0 ${swing(34, len + 40)}" fill="none" stroke="#b0bec5" stroke-width="3" stroke-dasharray="8 8"/>
${ghosts.join('')}
<line x1="${pivot[0]}" y1="${pivot[1]}" x2="${bx.toFixed(1)}" y2="${by.toFixed(1)}" stroke="#37474f" stroke-width="4"/>
<circle cx="${pivot[0]}" cy="${pivot[1]}" r="8" fill="#37474f"/>
<circle cx="${bx.toFixed(1)}" cy="${by.toFixed(1)}" r="28" fill="#ff8f00" stroke="#e65100" stroke-width="4"/>
<path d="M${swing(0, 70)} A70 70 0 0 0 ${swing(30, 70)}" fill="none" stroke="#1e88e5" stroke-width="3"/>
<g transform="translate(560 90)"><rect width="220" height="190" rx="18" fill="#263238"/><circle cx="110" cy="82" r="58" fill="#fff"/><circle cx="110" cy="82" r="50" fill="none" stroke="#cfd8dc" stroke-width="4"/><path d="M110 82 L110 38" stroke="#e53935" stroke-width="5" stroke-linecap="round"/><path d="M110 82 L146 96" stroke="#263238" stroke-width="5" stroke-linecap="round"/><rect x="98" y="14" width="24" height="10" rx="3" fill="#90a4ae"/>
<text x="110" y="172" ${FONT} font-size="26" font-weight="bold" fill="#8bff7a" text-anchor="middle">1.79 s</text></g>
<g transform="translate(560 300)"><rect width="220" height="270" rx="14" fill="#fff" stroke="#d7ccc8" stroke-width="2"/>
${rows.map(([l, t], i) => `<text x="24" y="${50 + i * 52}" ${FONT} font-size="20" fill="#455a64">${l}</text><text x="196" y="${50 + i * 52}" ${FONT} font-size="20" fill="#1e88e5" text-anchor="end">${t}</text><path d="M20 ${66 + i * 52} H200" stroke="#eceff1" stroke-width="2"/>`).join('')}</g>
${toolbar('#e65100', '#ff8f00', '<path d="M84 22 h24 M96 22 v16"/><circle cx="96" cy="42" r="5"/><circle cx="150" cy="35" r="12"/><path d="M150 35 v-7"/><path d="M186 24 h20 v20 h-20 z M190 30 h12 M190 36 h12"/>')}`);
}

function tideAtlas(): string {
  const r = rng(3);
  const lines = (x: number, y0: number, n: number, w: number) =>
    Array.from(
      { length: n },
      (_, i) => `<rect x="${x}" y="${y0 + i * 24}" width="${(w * (i === n - 1 ? 0.55 : 0.82 + r() * 0.18)).toFixed(0)}" height="9" rx="4.5" fill="#b9ad96"/>`,
    ).join('');
  const wave = (y: number, amp: number, color: string, width = 330) => {
    let d = `M0 ${y}`;
    for (let x = 0; x <= width; x += 10) d += ` L${x} ${(y + amp * Math.sin((x / width) * Math.PI * 4)).toFixed(1)}`;
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="4" stroke-linecap="round"/>`;
  };
  return scene(`<rect width="${W}" height="${H}" fill="#5d4037"/>
<rect x="30" y="86" width="740" height="496" rx="10" fill="#3e2723"/>
<path d="M40 96 H398 V572 H52 Q40 572 40 560 Z" fill="#fbf6ea"/><path d="M402 96 H760 V560 Q760 572 748 572 H402 Z" fill="#fbf6ea"/>
<path d="M398 96 V572" stroke="#d8ccb4" stroke-width="6"/>
<g transform="translate(64 120)"><clipPath id="pic"><rect width="310" height="260" rx="10"/></clipPath><g clip-path="url(#pic)">
<rect width="310" height="260" fill="#1a2a5a"/>
${Array.from({ length: 30 }, () => `<circle cx="${(r() * 310).toFixed(0)}" cy="${(r() * 120).toFixed(0)}" r="${(r() * 1.5 + 0.5).toFixed(1)}" fill="#fff" opacity="0.8"/>`).join('')}
<circle cx="230" cy="62" r="30" fill="#f5f0d8"/><circle cx="242" cy="55" r="6" fill="#e2dcc0"/><circle cx="222" cy="72" r="4" fill="#e2dcc0"/>
<path d="M0 150 Q40 120 90 140 T170 132 Q200 140 230 180 H0Z" fill="#8d6e63"/><path d="M0 170 Q50 150 100 166 L120 260 H0Z" fill="#6d8b4a"/>
<rect y="170" width="310" height="90" fill="#1e6fb0"/>
<path d="M0 178 Q20 170 40 178 T80 178 T120 178 T160 178 T200 178 T240 178 T280 178 T320 178" fill="none" stroke="#bde3ff" stroke-width="3"/>
<path d="M0 206 Q20 198 40 206 T80 206 T120 206 T160 206 T200 206 T240 206 T280 206 T320 206" fill="none" stroke="#8fcaf5" stroke-width="3"/>
<path d="M150 186 l40 0 l-8 14 h-26 z" fill="#ffb74d"/><path d="M170 186 v-34 l18 26 z" fill="#fff"/>
</g></g>
${lines(64, 410, 6, 310)}
<g transform="translate(428 120)"><rect width="308" height="44" rx="8" fill="#e8dcc2"/><rect x="14" y="16" width="170" height="13" rx="6.5" fill="#5d4037"/>
${lines(0, 70, 4, 308)}
<g transform="translate(0 190)"><rect width="308" height="150" rx="8" fill="#fff" stroke="#e0d6bf" stroke-width="2"/><path d="M14 75 H296" stroke="#e0d6bf" stroke-width="2"/>
<g transform="translate(14 75)">${wave(0, -50, '#1e88e5', 280)}</g>
<circle cx="49" cy="25" r="8" fill="#1e88e5"/><circle cx="189" cy="25" r="8" fill="#1e88e5"/></g>
${lines(0, 366, 3, 308)}</g>
${toolbar('#1e6fb0', '#ffb74d', '<path d="M86 44 V22 h10 l10 10 v12 z"/><path d="M140 33 l-10 -10 M140 33 l-10 10 M160 33 l10 -10 M160 33 l10 10"/>')}`);
}

export const SAMPLE_SCREENSHOTS: SampleScreenshot[] = [
  {
    bundleId: 'org.aslo.sample.CountingStars',
    captions: {
      und: 'Stars grouped in tens: three tens and seven make 37.',
      es: 'Estrellas agrupadas de a diez: tres decenas y siete son 37.',
      fr: 'Des étoiles groupées par dix : trois dizaines et sept font 37.',
      'pt-BR': 'Estrelas agrupadas de dez em dez: três dezenas e sete são 37.',
      ar: 'نجوم مجمّعة في عشرات: ثلاث عشرات وسبعة تساوي 37.',
    },
    svg: countingStars(),
  },
  {
    bundleId: 'org.aslo.sample.WordGarden',
    captions: {
      und: 'Spell the word on the picture card and a new flower grows.',
      es: 'Deletrea la palabra de la tarjeta y crece una flor nueva.',
      fr: 'Épelle le mot de la carte et une nouvelle fleur pousse.',
      'pt-BR': 'Soletre a palavra do cartão e uma nova flor cresce.',
      ar: 'تهجَّ كلمة البطاقة فتنمو زهرة جديدة.',
    },
    svg: wordGarden(),
  },
  {
    bundleId: 'org.aslo.sample.ColorMixer',
    captions: {
      und: 'Coloured light on the dark wall, paint on white paper.',
      es: 'Luz de colores en la pared oscura, pintura en el papel blanco.',
      fr: 'De la lumière colorée sur le mur sombre, de la peinture sur le papier blanc.',
      'pt-BR': 'Luz colorida na parede escura, tinta no papel branco.',
      ar: 'ضوء ملوّن على الجدار المظلم، وطلاء على الورق الأبيض.',
    },
    svg: colorMixer(),
  },
  {
    bundleId: 'org.aslo.sample.PendulumLab',
    captions: {
      und: 'The pendulum, the stopwatch and the notebook of measured periods.',
      es: 'El péndulo, el cronómetro y el cuaderno de períodos medidos.',
      fr: 'Le pendule, le chronomètre et le carnet des périodes mesurées.',
      'pt-BR': 'O pêndulo, o cronômetro e o caderno de períodos medidos.',
      ar: 'البندول والساعة الموقوتة ودفتر الأزمنة المقيسة.',
    },
    svg: pendulumLab(),
  },
  {
    bundleId: 'org.aslo.sample.TideAtlas',
    captions: {
      und: 'A page about the moon and the tides.',
      es: 'Una página sobre la luna y las mareas.',
      fr: 'Une page sur la lune et les marées.',
      'pt-BR': 'Uma página sobre a lua e as marés.',
      ar: 'صفحة عن القمر والمدّ والجزر.',
    },
    svg: tideAtlas(),
  },
];

export async function renderSampleScreenshot(svg: string): Promise<Buffer> {
  // Loaded here: a restart (samples already there) does not pay for the native module.
  const sharp = (await import('sharp')).default;
  return sharp(Buffer.from(svg), { density: 72 }).resize(W, H).png({ compressionLevel: 9, palette: false }).toBuffer();
}

/**
 * Render and store the screenshot of every sample activity in `bundleIds` that has none yet.
 * Returns how many were added.
 */
export async function addSampleScreenshots(ctx: AppContext, bundleIds: Iterable<string>): Promise<number> {
  const wanted = new Set(bundleIds);
  let added = 0;
  for (const shot of SAMPLE_SCREENSHOTS) {
    if (!wanted.has(shot.bundleId)) continue;
    const a = await activityIdByBundleId(ctx.db, shot.bundleId);
    if (!a) continue;
    if (await hasScreenshot(ctx.db, a.id)) continue;
    const png = await renderSampleScreenshot(shot.svg);
    const staged = await ctx.files.stage(Readable.from([png]));
    try {
      await ctx.db.transaction().execute(async (trx) => {
        const row = await insertScreenshot(trx, {
          activity_id: a.id,
          position: 0,
          storage_key: staged.sha256,
          content_type: 'image/png',
          width: W,
          height: H,
          captions: JSON.stringify(shot.captions),
          created_at: new Date(),
        });
        await audit(trx, {
          actor: null,
          actorLabel: 'sample-content',
          action: 'screenshot.add',
          targetType: 'activity',
          targetId: shot.bundleId,
          details: { screenshot: row.id, width: W, height: H },
        });
        await ctx.files.commit(staged);
      });
      added++;
    } finally {
      await ctx.files.discard(staged);
    }
  }
  return added;
}
