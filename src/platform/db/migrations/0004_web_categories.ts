// The store's categories, as the old site had them, with their names in the interface
// languages; and which bundle tags put an activity in which category. The mapping runs in the
// database (a trigger on activity_tags), so every path that writes tags (ingest, the bench
// generator, imports) files activities the same way. It only ever adds: a category an editor
// sets by hand is never removed by a new version's tags.
import { sql, type Kysely } from 'kysely';

export const CATEGORIES: { slug: string; names: Record<string, string>; tags: string[] }[] = [
  {
    slug: 'games',
    names: { en: 'Games', es: 'Juegos', fr: 'Jeux', 'pt-BR': 'Jogos', ar: 'ألعاب' },
    tags: [
      'game',
      'games',
      'juego',
      'juegos',
      'jeu',
      'jeux',
      'jogo',
      'jogos',
      'puzzle',
      'puzzles',
      'arcade',
      'strategy',
      'logic',
      'fun',
      'board-game',
      'cards',
    ],
  },
  {
    slug: 'math',
    names: { en: 'Math', es: 'Matemáticas', fr: 'Mathématiques', 'pt-BR': 'Matemática', ar: 'رياضيات' },
    tags: [
      'math',
      'maths',
      'mathematics',
      'matematicas',
      'matematica',
      'mathematiques',
      'arithmetic',
      'numbers',
      'counting',
      'geometry',
      'fractions',
      'algebra',
      'calculator',
      'statistics',
    ],
  },
  {
    slug: 'science',
    names: { en: 'Science', es: 'Ciencias', fr: 'Sciences', 'pt-BR': 'Ciências', ar: 'علوم' },
    tags: [
      'science',
      'sciences',
      'ciencia',
      'ciencias',
      'physics',
      'chemistry',
      'biology',
      'astronomy',
      'nature',
      'experiment',
      'experiments',
      'measure',
      'health',
    ],
  },
  {
    slug: 'language',
    names: { en: 'Language', es: 'Lengua', fr: 'Langue', 'pt-BR': 'Linguagem', ar: 'لغة' },
    tags: [
      'language',
      'languages',
      'lengua',
      'idiomas',
      'langue',
      'spelling',
      'words',
      'vocabulary',
      'writing',
      'alphabet',
      'letters',
      'typing',
      'keyboard',
      'english',
      'grammar',
    ],
  },
  {
    slug: 'reading',
    names: { en: 'Reading', es: 'Lectura', fr: 'Lecture', 'pt-BR': 'Leitura', ar: 'قراءة' },
    tags: ['reading', 'lectura', 'lecture', 'leitura', 'books', 'book', 'stories', 'story', 'literature', 'ebook', 'library'],
  },
  {
    slug: 'art-music',
    names: { en: 'Art & Music', es: 'Arte y música', fr: 'Art et musique', 'pt-BR': 'Arte e música', ar: 'فن وموسيقى' },
    tags: [
      'art',
      'arts',
      'arte',
      'music',
      'musica',
      'musique',
      'drawing',
      'draw',
      'paint',
      'painting',
      'sound',
      'audio',
      'media',
      'video',
      'photo',
      'colors',
      'colours',
      'animation',
    ],
  },
  {
    slug: 'geography',
    names: { en: 'Geography', es: 'Geografía', fr: 'Géographie', 'pt-BR': 'Geografia', ar: 'جغرافيا' },
    tags: ['geography', 'geografia', 'geographie', 'maps', 'map', 'world', 'countries', 'atlas', 'history'],
  },
  {
    slug: 'programming',
    names: { en: 'Programming', es: 'Programación', fr: 'Programmation', 'pt-BR': 'Programação', ar: 'برمجة' },
    tags: ['programming', 'programacion', 'programmation', 'coding', 'code', 'turtle', 'logo', 'python', 'robotics', 'robots', 'scratch', 'blocks'],
  },
  {
    slug: 'tools',
    names: { en: 'Tools', es: 'Herramientas', fr: 'Outils', 'pt-BR': 'Ferramentas', ar: 'أدوات' },
    tags: [
      'tools',
      'tool',
      'utilities',
      'utility',
      'system',
      'office',
      'productivity',
      'internet',
      'web',
      'communication',
      'chat',
      'editor',
      'text',
      'journal',
      'network',
    ],
  },
  {
    slug: 'teachers',
    names: { en: 'For teachers', es: 'Para docentes', fr: 'Pour les enseignants', 'pt-BR': 'Para professores', ar: 'للمعلمين' },
    tags: ['teacher', 'teachers', 'teaching', 'classroom', 'assessment', 'docentes', 'maestros', 'education'],
  },
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table category_tags (
      category_id bigint not null references categories (id) on delete cascade,
      tag_slug text not null,
      primary key (category_id, tag_slug)
    );
    create index category_tags_slug_idx on category_tags (tag_slug);
    create index activity_categories_category_idx on activity_categories (category_id);
  `.execute(db);
  for (const [i, c] of CATEGORIES.entries()) {
    await sql`insert into categories (slug, position, names) values (${c.slug}, ${(i + 1) * 10}, ${JSON.stringify(c.names)}::jsonb) on conflict (slug) do nothing`.execute(
      db,
    );
    for (const tag of c.tags) {
      await sql`insert into category_tags (category_id, tag_slug) select id, ${tag} from categories where slug = ${c.slug} on conflict do nothing`.execute(db);
    }
  }
  await sql`
    create function aslo_categories_from_tags() returns trigger language plpgsql as $$
    begin
      insert into activity_categories (activity_id, category_id)
        select distinct n.activity_id, ct.category_id
        from new_rows n
        join tags t on t.id = n.tag_id
        join category_tags ct on ct.tag_slug = t.slug
      on conflict do nothing;
      return null;
    end $$;
    create trigger activity_tags_categories after insert on activity_tags
      referencing new table as new_rows for each statement execute function aslo_categories_from_tags();
    insert into activity_categories (activity_id, category_id)
      select distinct at.activity_id, ct.category_id
      from activity_tags at join tags t on t.id = at.tag_id join category_tags ct on ct.tag_slug = t.slug
    on conflict do nothing;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop trigger if exists activity_tags_categories on activity_tags;
    drop function if exists aslo_categories_from_tags();
    drop table if exists category_tags;
    drop index if exists activity_categories_category_idx;
  `.execute(db);
}
