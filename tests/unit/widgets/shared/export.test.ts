import { describe, expect, it } from 'vitest';
import {
  bibtexEntry,
  bibtexEscape,
  csvField,
  exportFilename,
  imageSvg,
  standaloneSvg,
  styleText,
  tableToCsv,
} from '../../../../src/widgets/shared/export';

// Expected strings are written by hand from RFC 4180 §2 (https://www.rfc-editor.org/rfc/rfc4180#section-2):
// CRLF line breaks; fields with commas, double quotes or line breaks enclosed in double quotes; a quote inside doubled.
describe('csvField', () => {
  it('leaves plain strings and numbers bare', () => {
    expect(csvField('Elements')).toBe('Elements');
    expect(csvField(42)).toBe('42');
    expect(csvField(-0.125)).toBe('-0.125');
  });
  it('writes numbers at full precision, not as the table shows them', () => {
    // The on-screen table rounds to 4 significant digits; the CSV must not.
    expect(csvField(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(csvField(1e-7)).toBe('1e-7');
    expect(csvField(Number.NaN)).toBe('NaN');
    expect(csvField(-Infinity)).toBe('-Infinity');
  });
  it('quotes commas, quotes and line breaks (RFC 4180 §2.6, §2.7)', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField('')).toBe('');
  });
  it('defuses strings a spreadsheet would run as formulas, but keeps numeric strings', () => {
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-2+3+cmd')).toBe("'-2+3+cmd");
    expect(csvField('=HYPERLINK("x","y")')).toBe('"\'=HYPERLINK(""x"",""y"")"');
    expect(csvField('-2')).toBe('-2');
    expect(csvField('+1.5e3')).toBe('+1.5e3');
  });
});

describe('tableToCsv', () => {
  it('writes a header and one CRLF-terminated line per row', () => {
    const csv = tableToCsv({
      columns: ['From', 'To', 'Elements'],
      rows: [
        [-0.5, 0, 12],
        [0, 0.5, 3],
      ],
    });
    expect(csv).toBe('From,To,Elements\r\n-0.5,0,12\r\n0,0.5,3\r\n');
  });
  it('keeps a quoted line break inside one record', () => {
    const csv = tableToCsv({
      columns: ['Token', 'Norm'],
      rows: [
        ['a\nb', 1],
        ['"', 2],
      ],
    });
    expect(csv).toBe('Token,Norm\r\n"a\nb",1\r\n"""",2\r\n');
    // Three records: the LF inside quotes is not a record separator.
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(3);
  });
  it('has no byte-order mark', () => {
    const csv = tableToCsv({ columns: ['Größe'], rows: [['µ']] });
    expect(csv.charCodeAt(0)).not.toBe(0xfeff);
    expect([...new TextEncoder().encode(csv).slice(0, 3)]).toEqual([0x47, 0x72, 0xc3]); // "Gr" then the first byte of ö
  });
});

describe('exportFilename', () => {
  it('joins the widget and the caption as an ASCII slug', () => {
    expect(exportFilename('kv-quantizer', 'Error histogram of the head shown', 'csv')).toBe(
      'kv-quantizer-error-histogram-of-the-head-shown.csv',
    );
    expect(exportFilename('kv-memory', 'Größe (MiB) — fp16 vs 4-bit', 'svg')).toBe('kv-memory-grosse-mib-fp16-vs-4-bit.svg');
  });
  it('falls back to the widget name and caps the length', () => {
    expect(exportFilename('kv-memory', '…', 'png')).toBe('kv-memory.png');
    const long = exportFilename('kv-x', 'word '.repeat(100), 'csv');
    expect(long.length).toBeLessThanOrEqual(80 + '.csv'.length);
    expect(long).toMatch(/^kv-x-word(-word)*\.csv$/);
  });
});

describe('styleText', () => {
  it('drops empty values and anything still unresolved', () => {
    expect(
      styleText([
        ['fill', 'rgb(26, 28, 32)'],
        ['stroke', ''],
        ['color', 'var(--fg)'],
        ['fill', 'currentColor'],
        ['font-size', '10px'],
      ]),
    ).toBe('fill: rgb(26, 28, 32); font-size: 10px');
  });
  it('cannot break out of the attribute', () => {
    expect(styleText([['font-family', 'a"; x<y>']])).toBe('font-family: a xy');
  });
});

describe('standaloneSvg', () => {
  const plot = '<svg class="plot-d6a7b5" fill="currentColor" width="640" height="400" viewBox="0 0 640 400"><g><text>1</text></g></svg>';
  it('adds the XML declaration, namespaces and a background the size of the viewBox', () => {
    const out = standaloneSvg(plot, { width: 640, height: 400, background: 'rgb(255, 255, 255)' });
    expect(out).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<svg class="plot-d6a7b5" fill="currentColor" width="640" height="400" viewBox="0 0 640 400" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">' +
        '<rect x="0" y="0" width="640" height="400" fill="rgb(255, 255, 255)"/><g><text>1</text></g></svg>',
    );
  });
  it('replaces a serializer-supplied xmlns instead of doubling it, and adds a missing size and viewBox', () => {
    const out = standaloneSvg('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>', { width: 100.123, height: 50 });
    expect(out.match(/xmlns="/g)).toHaveLength(1);
    expect(out).toContain('width="100.12" height="50" viewBox="0 0 100.12 50"');
    expect(out.endsWith('<path d="M0 0"/></svg>')).toBe(true);
  });
  it('expands a self-closing root and rejects non-SVG markup', () => {
    expect(standaloneSvg('<svg/>', { width: 1, height: 2 })).toMatch(/<svg [^>]*viewBox="0 0 1 2"[^>]*><\/svg>$/);
    expect(() => standaloneSvg('<div></div>', { width: 1, height: 1 })).toThrow();
  });
});

describe('imageSvg', () => {
  it('wraps a bitmap at its on-screen size, unsmoothed, with an escaped title', () => {
    const out = imageSvg('data:image/png;base64,AAAA', 320, 64, 'Keys <layer 0> & "head 1"');
    expect(out).toContain(
      '<image href="data:image/png;base64,AAAA" x="0" y="0" width="320" height="64" preserveAspectRatio="none" style="image-rendering: pixelated"/>',
    );
    expect(out).toContain('<title>Keys &lt;layer 0&gt; &amp; &quot;head 1&quot;</title>');
    expect(out).toContain('width="320" height="64" viewBox="0 0 320 64"');
  });
});

describe('bibtexEntry', () => {
  it('builds the @misc entry from the chapter and the page URL', () => {
    const entry = bibtexEntry({
      slug: 'keys-and-values',
      title: 'Keys & values: 100% of the cache',
      year: 2026,
      url: 'https://example.org/articles/keys-and-values/',
      accessed: '2026-12-06',
    });
    expect(entry).toBe(
      [
        '@misc{kvcachelab-keys-and-values,',
        '  title = {{Keys \\& values: 100\\% of the cache}},',
        '  author = {{KV Cache Lab}},',
        '  year = {2026},',
        '  url = {https://example.org/articles/keys-and-values/},',
        '  note = {Accessed 2026-12-06}',
        '}',
      ].join('\n'),
    );
  });
  it('escapes braces and backslashes so the entry stays balanced', () => {
    expect(bibtexEscape('a{b}\\c_d#e$')).toBe('a\\{b\\}\\textbackslash{}c\\_d\\#e\\$');
  });
});
