/**
 * Figures worth citing: every chart (a Plot SVG in a `div.plot`, or a heatmap canvas)
 * gets "SVG" and "PNG" download buttons, and every "Show as table" gets "Download CSV".
 *
 * The pure functions (CSV text, file names, the standalone SVG document) run without a
 * DOM and are unit-tested; the rest reads computed styles, draws to a canvas and saves
 * through an `<a download>` with a blob URL that is revoked afterwards.
 * Text from users (prompts, tokens) only ever reaches the page through textContent.
 */
import type { TableData } from './controls';

// ---------------------------------------------------------------- pure: CSV

/**
 * A spreadsheet evaluates a cell that starts with = + - @ (or a tab/CR) as a formula
 * (OWASP "CSV Injection"); prompt tokens are user text, so such strings get a leading
 * apostrophe. Numbers are written as numbers and never altered.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** One RFC 4180 field: numbers in plain JS notation (full precision), strings quoted when they hold `,` `"` CR or LF. */
export function csvField(v: string | number): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
  let s = v;
  if (FORMULA_START.test(s) && !NUMERIC.test(s.trim())) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The table as RFC 4180 CSV: a header line, one line per row, CRLF line ends (also after the last line). */
export function tableToCsv(t: Pick<TableData, 'columns' | 'rows'>): string {
  const lines = [t.columns, ...t.rows].map((r) => r.map(csvField).join(','));
  return lines.map((l) => `${l}\r\n`).join('');
}

/** `kv-quantizer-error-histogram-of-the-head-shown.csv`: ASCII, lower case, at most ~80 characters before the extension. */
export function exportFilename(widget: string, caption: string, ext: string): string {
  const slug = (s: string) =>
    s
      .replace(/ß/g, 'ss')
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const w = slug(widget) || 'kv-widget';
  let c = slug(caption)
    .slice(0, Math.max(0, 80 - w.length - 1))
    .replace(/-+$/, '');
  if (c.startsWith(`${w}-`)) c = c.slice(w.length + 1);
  return `${c ? `${w}-${c}` : w}.${ext}`;
}

// ---------------------------------------------------------------- pure: SVG

/**
 * Properties copied from the computed style onto every exported SVG element, so the file
 * renders the same without the page's stylesheets (fonts, `currentColor`, theme colours).
 */
export const SVG_STYLE_PROPS = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-anchor',
  'dominant-baseline',
  'paint-order',
  'visibility',
] as const;

/** A `style` attribute value from property/value pairs (values already computed, so no `var()` or `currentColor`). */
export function styleText(props: ReadonlyArray<readonly [string, string]>): string {
  return props
    .filter(([, v]) => v !== '' && !/var\(|currentcolor/i.test(v))
    .map(([k, v]) => `${k}: ${v.replace(/[;"<>]/g, '')}`)
    .join('; ');
}

const escAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * Turns serialized `<svg …>…</svg>` markup into a standalone SVG file: XML declaration,
 * the SVG and XLink namespaces, explicit width/height (and a viewBox when missing) and
 * an opaque background rectangle first, so dark-theme text stays legible in any viewer.
 */
export function standaloneSvg(markup: string, o: { width: number; height: number; background?: string }): string {
  const open = /^\s*<svg\b([^>]*)>/i.exec(markup);
  if (!open) throw new Error('Not an <svg> element');
  let attrs = open[1].replace(/\/\s*$/, '');
  const selfClosing = /\/\s*>$/.test(open[0]);
  const w = Math.round(o.width * 100) / 100;
  const h = Math.round(o.height * 100) / 100;
  const set = (name: string, value: string) => {
    const re = new RegExp(`\\s${name.replace(':', '\\:')}\\s*=\\s*("[^"]*"|'[^']*')`, 'i');
    attrs = re.test(attrs) ? attrs.replace(re, ` ${name}="${escAttr(value)}"`) : `${attrs} ${name}="${escAttr(value)}"`;
  };
  const has = (name: string) => new RegExp(`\\s${name.replace(':', '\\:')}\\s*=`, 'i').test(attrs);
  set('xmlns', 'http://www.w3.org/2000/svg');
  if (!has('xmlns:xlink')) set('xmlns:xlink', 'http://www.w3.org/1999/xlink');
  set('width', String(w));
  set('height', String(h));
  if (!has('viewBox')) set('viewBox', `0 0 ${w} ${h}`);
  const vb = /\sviewBox\s*=\s*"([^"]*)"/i
    .exec(attrs)?.[1]
    .trim()
    .split(/[\s,]+/)
    .map(Number);
  const [bx, by, bw, bh] = vb && vb.length === 4 && vb.every(Number.isFinite) ? vb : [0, 0, w, h];
  const bg = o.background ? `<rect x="${bx}" y="${by}" width="${bw}" height="${bh}" fill="${escAttr(o.background)}"/>` : '';
  const rest = selfClosing ? '</svg>' : markup.slice(open.index + open[0].length);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg${attrs}>${bg}${rest}`;
}

/** An SVG file showing a bitmap (a heatmap canvas as a PNG data URL) at its on-screen size, without smoothing. */
export function imageSvg(dataUrl: string, width: number, height: number, title: string): string {
  return standaloneSvg(
    `<svg><title>${escAttr(title).replace(/>/g, '&gt;')}</title><image href="${escAttr(dataUrl)}" x="0" y="0" width="${width}" height="${height}" preserveAspectRatio="none" style="image-rendering: pixelated"/></svg>`,
    { width, height },
  );
}

// ---------------------------------------------------------------- DOM: saving

/** Saves a blob through a temporary `<a download>`; the object URL is revoked once the click has been handled. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking synchronously can cancel the download in some browsers (Firefox): wait a moment.
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

/** The CSV as a BOM-less UTF-8 file. */
export function downloadCsv(t: TableData, widget: string): void {
  downloadBlob(new Blob([tableToCsv(t)], { type: 'text/csv;charset=utf-8' }), exportFilename(widget, t.caption, 'csv'));
}

/** The first opaque background colour of `node` or an ancestor (white when none). */
function backgroundOf(node: Element): string {
  for (let e: Element | null = node; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (c && c !== 'transparent' && !/rgba\([^)]*,\s*0\)$/.test(c)) return c;
  }
  return '#ffffff';
}

/** The SVG as a standalone file, each element's computed presentation inlined. */
export function serializeSvg(svg: SVGSVGElement): { text: string; width: number; height: number } {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = [svg, ...svg.querySelectorAll('*')];
  const dst = [clone, ...clone.querySelectorAll('*')];
  src.forEach((node, i) => {
    const target = dst[i] as SVGElement;
    if (!target || node instanceof SVGStyleElement || node.tagName.toLowerCase() === 'title') return;
    const cs = getComputedStyle(node);
    const own = target.getAttribute('style');
    const inlined = styleText(SVG_STYLE_PROPS.map((p) => [p, cs.getPropertyValue(p)] as const));
    target.setAttribute('style', own ? `${inlined}; ${own}` : inlined);
  });
  const rootStyle = getComputedStyle(svg);
  clone.setAttribute('color', rootStyle.color);
  const box = svg.getBoundingClientRect();
  const width = Number(svg.getAttribute('width')) || box.width || 640;
  const height = Number(svg.getAttribute('height')) || box.height || 400;
  const markup = new XMLSerializer().serializeToString(clone);
  return { text: standaloneSvg(markup, { width, height, background: backgroundOf(svg) }), width, height };
}

const MAX_SIDE = 8192;

function canvasBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('The browser could not encode the PNG.'))), 'image/png'),
  );
}

/**
 * Draws standalone SVG text onto a canvas at `scale`× and encodes it as PNG. The image comes
 * from a data: URL, not a blob: URL: the site's Content-Security-Policy allows `img-src 'self' data:`
 * only (scripts/serve/http.mjs), and a blob: image would fail to load there.
 */
export async function svgToPng(text: string, width: number, height: number, scale = 2): Promise<Blob> {
  const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  const img = new Image();
  img.decoding = 'sync';
  await new Promise<void>((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error('The chart could not be drawn as an image.'));
    img.src = url;
  });
  const k = Math.min(scale, MAX_SIDE / Math.max(width, height, 1));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * k));
  canvas.height = Math.max(1, Math.round(height * k));
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return canvasBlob(canvas);
}

/** A heatmap canvas (one pixel per cell) scaled to `scale`× its on-screen size without smoothing. */
export function scaledCanvas(canvas: HTMLCanvasElement, scale = 2): { canvas: HTMLCanvasElement; width: number; height: number } {
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  const k = Math.min(scale, MAX_SIDE / Math.max(width, height, 1));
  const out = document.createElement('canvas');
  out.width = Math.max(1, Math.round(width * k));
  out.height = Math.max(1, Math.round(height * k));
  const ctx = out.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(canvas, 0, 0, out.width, out.height);
  return { canvas: out, width, height };
}

// ---------------------------------------------------------------- DOM: buttons

/** The chart in a container: Plot's root `<svg>` (not a legend ramp), or a canvas. */
function chartIn(container: Element): SVGSVGElement | HTMLCanvasElement | null {
  if (container instanceof HTMLCanvasElement) return container.width > 0 && container.height > 0 ? container : null;
  for (const svg of container.querySelectorAll('svg')) {
    if (svg.parentElement?.closest('svg')) continue;
    if ([...svg.classList].some((c) => /^plot-[0-9a-f]+$/.test(c)) || !svg.closest('.legend, [class*="-ramp"], [class*="-swatches"]'))
      return svg;
  }
  return null;
}

const textOf = (e: Element | null | undefined) => (e?.textContent ?? '').replace(/\s+/g, ' ').trim();

/** A short name for the chart: a caption or heading next to it, the figure's caption, Plot's title, its aria-label. */
function chartName(container: Element, chart: Element | null, fallback: string): string {
  const prev = container.previousElementSibling;
  if (prev && /plot-caption|chart-heading/.test(prev.className) && textOf(prev)) return textOf(prev);
  const fig = container.closest('figure');
  const cap = fig?.querySelector(':scope > figcaption');
  if (cap && textOf(cap)) return textOf(cap);
  const h = chart?.closest('figure')?.querySelector('h2, h3');
  if (h && textOf(h)) return textOf(h);
  const aria = chart?.getAttribute('aria-label') ?? chart?.querySelector(':scope > title')?.textContent ?? '';
  if (aria.trim()) return aria.trim().replace(/\.$/, '');
  return fallback;
}

export interface ExportBar {
  root: HTMLElement;
  svg: HTMLButtonElement;
  png: HTMLButtonElement;
}

/** "SVG" and "PNG" buttons for the chart in `container`, labelled with the chart's name when pressed or focused. */
export function figureExportBar(
  container: Element,
  widget: string,
  widgetTitle: string,
  onError: (message: string) => void = () => {},
): ExportBar {
  const make = (fmt: 'SVG' | 'PNG') => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'export-button';
    b.textContent = fmt;
    b.dataset.export = fmt.toLowerCase();
    return b;
  };
  const svgButton = make('SVG');
  const pngButton = make('PNG');
  const root = document.createElement('div');
  root.className = 'figure-export';
  const label = document.createElement('span');
  label.className = 'figure-export-label';
  label.textContent = 'Download chart:';
  label.setAttribute('aria-hidden', 'true');
  root.append(label, svgButton, pngButton);
  const name = () => chartName(container, chartIn(container), `${widgetTitle} chart`);
  const relabel = () => {
    const n = name();
    svgButton.setAttribute('aria-label', `Download the chart “${n}” as SVG`);
    pngButton.setAttribute('aria-label', `Download the chart “${n}” as PNG`);
  };
  relabel();
  root.addEventListener('focusin', relabel);
  root.addEventListener('pointerenter', relabel);
  const run = async (fmt: 'svg' | 'png') => {
    relabel();
    const chart = chartIn(container);
    if (!chart) {
      onError('The chart is not drawn yet: wait for it, then try again.');
      return;
    }
    const file = exportFilename(widget, name(), fmt);
    try {
      if (chart instanceof HTMLCanvasElement) {
        const { canvas, width, height } = scaledCanvas(chart, fmt === 'png' ? 2 : 1);
        if (fmt === 'png') downloadBlob(await canvasBlob(canvas), file);
        else downloadBlob(new Blob([imageSvg(canvas.toDataURL('image/png'), width, height, name())], { type: 'image/svg+xml' }), file);
      } else {
        const { text, width, height } = serializeSvg(chart);
        if (fmt === 'svg') downloadBlob(new Blob([text], { type: 'image/svg+xml' }), file);
        else downloadBlob(await svgToPng(text, width, height, 2), file);
      }
    } catch (err) {
      onError(err instanceof Error ? err.message : String(err));
    }
  };
  svgButton.addEventListener('click', () => void run('svg'));
  pngButton.addEventListener('click', () => void run('png'));
  return { root, svg: svgButton, png: pngButton };
}

/**
 * Adds an export bar after every chart container in a widget's body: `div.plot` (Plot
 * redraws replace its children, so the bar lives beside it) and each heatmap canvas
 * (inside its figure when it has one). Empty containers hide their bar through CSS.
 */
export function attachFigureExports(body: HTMLElement, widget: string, widgetTitle: string, onError?: (message: string) => void): void {
  for (const container of body.querySelectorAll<HTMLElement>('div.plot, canvas.heatmap')) {
    if (container.parentElement?.closest('div.plot')) continue;
    const bar = figureExportBar(container, widget, widgetTitle, onError);
    const fig = container instanceof HTMLCanvasElement ? container.closest('figure') : null;
    if (fig && body.contains(fig)) fig.append(bar.root);
    else container.after(bar.root);
  }
}

// ---------------------------------------------------------------- pure: citation

/** Escapes BibTeX's special characters in a field value (braces balanced by escaping them). */
export function bibtexEscape(s: string): string {
  const named: Record<string, string> = { '\\': '\\textbackslash{}', '~': '\\textasciitilde{}', '^': '\\textasciicircum{}' };
  // One pass, so the braces a replacement adds are not escaped again.
  return s.replace(/[\\~^{}&%$#_]/g, (c) => named[c] ?? `\\${c}`);
}

/**
 * A `@misc` entry for a chapter. `url` is the page as the reader sees it (origin from
 * `location` at run time, so mirrors and previews cite themselves); the title is double-braced
 * so BibTeX styles keep its capitals.
 */
export function bibtexEntry(o: { slug: string; title: string; year: number; url: string; accessed: string }): string {
  const key = `kvcachelab-${o.slug.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
  return [
    `@misc{${key},`,
    `  title = {{${bibtexEscape(o.title)}}},`,
    '  author = {{KV Cache Lab}},',
    `  year = {${o.year}},`,
    `  url = {${o.url.replace(/[{}\s]/g, encodeURIComponent)}},`,
    `  note = {Accessed ${bibtexEscape(o.accessed)}}`,
    '}',
  ].join('\n');
}
