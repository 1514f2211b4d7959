/**
 * A small verdict box, shared by the widgets: "Fails in Transformers" (with the step, the exception and the upstream
 * code that raises it) or "Runs in Transformers", from `transformersVerdict` in src/lib/quant/transformers.ts.
 * Plain text only (textContent); role="note" so screen readers announce it as a note beside the widget's output.
 */
import { describeFailure, describeSource, type TransformersVerdict } from '../../lib/quant/index';

export interface TransformersNoteOptions {
  /** What was checked, e.g. "quanto, 4 bits, axis 0, SmolLM2-135M, 5-token prompt" (plain text). */
  context?: string;
  /** Which of the verdict's notes to list: none, warnings (default) or all. */
  notes?: 'none' | 'warnings' | 'all';
  /** Show the plain-language cause of the failure (default true; off where the widget lists it already). */
  showCause?: boolean;
}

function line(tag: 'p' | 'li', className: string, text: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/** Fill `root` with the verdict (replacing what it held). `root` gets role="note" and data-verdict="fails" | "runs". */
export function renderTransformersNote(
  root: HTMLElement,
  verdict: TransformersVerdict,
  options: TransformersNoteOptions = {},
): HTMLElement {
  const fails = !verdict.runs;
  root.setAttribute('role', 'note');
  root.classList.add('tf-note');
  root.classList.toggle('tf-note-fails', fails);
  root.classList.toggle('tf-note-runs', !fails);
  root.dataset.verdict = fails ? 'fails' : 'runs';
  // Border colour through the CSSOM (allowed by the site's CSP, unlike style attributes in markup).
  root.style.borderLeft = `4px solid ${fails ? 'var(--w-error, #b00020)' : 'var(--w-ok, #2e7d32)'}`;
  root.style.paddingLeft = '0.6rem';
  const heading = document.createElement('strong');
  heading.className = 'tf-note-heading';
  heading.textContent = fails ? 'Fails in Transformers' : 'Runs in Transformers';
  const head = document.createElement('p');
  head.className = 'tf-note-head';
  head.append(heading, options.context ? ` — ${options.context}` : '');
  const children: HTMLElement[] = [head];
  if (verdict.failure) {
    const f = verdict.failure;
    children.push(line('p', 'tf-note-error', describeFailure(f)));
    if (options.showCause !== false) children.push(line('p', 'tf-note-cause', f.cause));
    children.push(line('p', 'tf-note-source', `Raised in ${describeSource(f.source)}.`));
    if (verdict.errors.length > 1) {
      const more = document.createElement('ul');
      more.className = 'tf-note-more';
      for (const e of verdict.errors.slice(1)) more.append(line('li', 'tf-note-more-item', `Then, once that is fixed: ${e.error}`));
      children.push(more);
    }
  }
  const which = options.notes ?? 'warnings';
  const notes = which === 'none' ? [] : verdict.notes.filter((n) => which === 'all' || n.level === 'warning');
  if (notes.length > 0) {
    const list = document.createElement('ul');
    list.className = 'tf-note-notes';
    for (const n of notes) {
      const li = line('li', `tf-note-${n.level}`, n.text);
      li.dataset.level = n.level;
      list.append(li);
    }
    children.push(list);
  }
  root.replaceChildren(...children);
  return root;
}

/** A new verdict box. */
export function transformersNote(verdict: TransformersVerdict, options: TransformersNoteOptions = {}): HTMLElement {
  return renderTransformersNote(document.createElement('div'), verdict, options);
}
