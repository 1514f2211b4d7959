/**
 * Prompts whose real tensors are shipped in `public/precomputed/`. `maxTokens` cuts a passage at a
 * word boundary so it tokenizes to at most that many tokens; `queries: false` omits queries to keep
 * the files small (the total stays under ~6 MB).
 */
export interface PrecomputePrompt {
  id: string;
  title: string;
  text: string;
  maxTokens?: number;
  queries: boolean;
}

// Jane Austen, Pride and Prejudice (1813), chapter 1 — public domain.
const prideAndPrejudice = `It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.

However little known the feelings or views of such a man may be on his first entering a neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is considered the rightful property of some one or other of their daughters.

"My dear Mr. Bennet," said his lady to him one day, "have you heard that Netherfield Park is let at last?"

Mr. Bennet replied that he had not.

"But it is," returned she; "for Mrs. Long has just been here, and she told me all about it."

Mr. Bennet made no answer.

"Do you not want to know who has taken it?" cried his wife impatiently.

"You want to tell me, and I have no objection to hearing it."

This was invitation enough.

"Why, my dear, you must know, Mrs. Long says that Netherfield is taken by a young man of large fortune from the north of England; that he came down on Monday in a chaise and four to see the place, and was so much delighted with it, that he agreed with Mr. Morris immediately; that he is to take possession before Michaelmas, and some of his servants are to be in the house by the end of next week."

"What is his name?"

"Bingley."

"Is he married or single?"

"Oh! Single, my dear, to be sure! A single man of large fortune; four or five thousand a year. What a fine thing for our girls!"`;

export const PROMPTS: PrecomputePrompt[] = [
  { id: 'narrative-256', title: 'A narrative passage (about 256 tokens)', text: prideAndPrejudice, maxTokens: 256, queries: true },
  // The held-out sample shipped with the model: text it never saw in training.
  { id: 'heldout-512', title: 'A held-out passage (about 512 tokens)', text: '@heldout', maxTokens: 512, queries: false },
  { id: 'rock-music', title: '"I like rock music because"', text: 'I like rock music because', queries: true },
  {
    id: 'factual',
    title: 'A short factual paragraph',
    text: 'The Moon is the only natural satellite of the Earth. It is about a quarter of the size of the Earth, and it takes about twenty-seven days to travel once around it. The same side of the Moon always faces the Earth.',
    queries: true,
  },
  // The model's full context: the held-out sample followed by the narrative passage, cut at
  // 1,024 tokens. Used by the widgets' browser benchmark at 1,024 tokens; no queries (size).
  {
    id: 'long-1024',
    title: 'A long passage (about 1,024 tokens)',
    text: `@heldout\n\n${prideAndPrejudice}`,
    maxTokens: 1024,
    queries: false,
  },
];
