/** Words a reader gets through per minute of technical prose (a conservative figure). */
export const WORDS_PER_MINUTE = 200;

/**
 * Estimated reading time of an MDX body in whole minutes (at least 1).
 * Strips imports, JSX tags, code fences and math so only prose is counted.
 */
export function readingMinutes(body: string): number {
  const prose = body
    .replace(/^import .*$/gm, ' ')
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/\$\$[\s\S]*?\$\$/g, ' ')
    .replace(/<[^>]+>/g, ' ');
  const words = prose.split(/\s+/).filter((w) => /[A-Za-z0-9]/.test(w)).length;
  return Math.max(1, Math.round(words / WORDS_PER_MINUTE));
}
