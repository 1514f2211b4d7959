import { defineCollection, z } from 'astro:content';
import { glob } from 'astro/loaders';

/**
 * The notebook's chapters: one MDX file each in content/articles/.
 * This schema is the authors' reference: every field says what it means and its default.
 */
const articles = defineCollection({
  loader: glob({ pattern: '**/*.mdx', base: './content/articles' }),
  schema: z.object({
    /** Chapter title, ideally a question the chapter answers. Required. */
    title: z.string().min(1),
    /** One- or two-sentence lead shown on the home page and in meta tags. Required. */
    description: z.string().min(1),
    /** Position in the notebook (1 = first). Chapters are listed and linked prev/next by it. Required, unique. */
    order: z.number().int().positive(),
    /** Date of the last substantive revision. Required. */
    date: z.coerce.date(),
    /** Who wrote the chapter. Defaults to the project. */
    authors: z.array(z.string()).default(['KV Cache Lab']),
    /**
     * Extra reference keys (from content/references.json) to list as further reading even if
     * not cited inline with `[@key]`. Inline citations are collected automatically. Default: none.
     */
    references: z.array(z.string()).default([]),
    /** Short label for navigation; defaults to the title. */
    shortTitle: z.string().optional(),
  }),
});

export const collections = { articles };
