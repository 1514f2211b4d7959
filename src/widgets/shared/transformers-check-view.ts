/** Shows a `checkInTransformers` result in a widget (plain text, role="note"). */
import { renderTransformersNote } from './transformers-note';
import type { TransformersCheck } from './transformers-check';

export function showTransformersCheck(root: HTMLElement, check: TransformersCheck): void {
  root.dataset.check = check.kind;
  if (check.kind === 'unquantized') {
    root.hidden = true;
    return;
  }
  root.hidden = false;
  if (check.kind === 'verdict') {
    renderTransformersNote(root, check.verdict, { context: check.context });
    return;
  }
  root.setAttribute('role', 'note');
  root.classList.add('tf-note');
  root.dataset.verdict = 'not-transformers';
  const head = document.createElement('p');
  const strong = document.createElement('strong');
  strong.textContent = 'Not a Transformers setting';
  head.append(strong, ` — ${check.reason}`);
  root.replaceChildren(head);
}
