import { describe, expect, it } from 'vitest';
import { readingMinutes, WORDS_PER_MINUTE } from '../../../../src/lib/content/reading';

describe('readingMinutes', () => {
  it('counts prose words only', () => {
    const prose = Array.from({ length: WORDS_PER_MINUTE * 3 }, () => 'word').join(' ');
    const noise = "import X from './x';\n```python\n" + 'code '.repeat(5000) + '\n```\n$$\n' + 'x '.repeat(5000) + '\n$$\n<Widget a="b" />';
    expect(readingMinutes(`${noise}\n${prose}`)).toBe(3);
  });
  it('is at least one minute', () => {
    expect(readingMinutes('')).toBe(1);
  });
});
