import { getCollection, type CollectionEntry } from 'astro:content';

export type Chapter = CollectionEntry<'articles'>;

/** All chapters sorted by their `order`; fails the build on a duplicate order. */
export async function getChapters(): Promise<Chapter[]> {
  const chapters = (await getCollection('articles')).sort((a, b) => a.data.order - b.data.order);
  for (let i = 1; i < chapters.length; i++) {
    if (chapters[i].data.order === chapters[i - 1].data.order) {
      throw new Error(`Chapters "${chapters[i - 1].id}" and "${chapters[i].id}" share order ${chapters[i].data.order}.`);
    }
  }
  return chapters;
}

export function chapterHref(base: string, chapter: Chapter): string {
  return `${base}articles/${chapter.id}/`;
}
