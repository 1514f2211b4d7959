/**
 * The "prompt" control block shared by tensor widgets: a select of precomputed
 * examples, a textarea for the reader's own prompt and a "Run the model on this
 * text" button. It delivers the current TensorSet through `onTensors`.
 *
 * - Default: the first precomputed example, drawn at once.
 * - `prompt` from the URL/attributes: an example's exact prompt selects that example;
 *   any other text goes into the textarea and the live model runs only when the reader
 *   clicks (the status line says so). Nothing is downloaded on page load unasked.
 * - Empty prompt → a note, the example stays. Prompts longer than the model's context are
 *   truncated by the worker; its notice is shown in the status line.
 * Text from users and URLs only ever goes into `value`/`textContent`.
 */
import { el, nextId } from './controls';
import { describeProgress, explainError, liveTensors, loadExample, precomputedIndex, type TensorSet } from './tensors';
import type { PrecomputedIndex } from '../../lib/model/precomputed';
import type { ModelId } from '../../lib/model/catalogue';

/** The part of a widget's status line the picker writes to. */
export interface PickerStatus {
  set(message: string, progress?: { done: number; total: number }): void;
  error(message: string): void;
}

export interface TensorPickerOptions {
  /** Initial prompt (state.prompt): '' = the first example. */
  prompt: string;
  model: string;
  status: PickerStatus;
  /** Called with every new tensor set (example or live). */
  onTensors(set: TensorSet): void;
  /** Called when the reader's choice changes the prompt parameter ('' for the default example). */
  onPrompt?(prompt: string): void;
}

export interface TensorPicker {
  root: HTMLElement;
  /** The tensors currently shown (undefined until the first example has loaded). */
  readonly current: TensorSet | undefined;
  /** Resolves after the first tensor set has been delivered (or loading failed). */
  readonly ready: Promise<void>;
  /** Apply a prompt that changed from outside (attribute): same rules as on load, never auto-runs. */
  applyPrompt(prompt: string): void;
}

/** Maximum `prompt` parameter length (params.ts): longer example prompts match by their first characters. */
const PROMPT_PARAM_MAX = 4000;

/** The example whose prompt is `prompt` (exactly, or its cut 4000-character start). Pure, for tests. */
export function matchExample<T extends { prompt: string }>(examples: readonly T[], prompt: string): T | undefined {
  if (!prompt) return undefined;
  return examples.find((e) => e.prompt === prompt) ?? (prompt.length >= PROMPT_PARAM_MAX ? examples.find((e) => e.prompt.startsWith(prompt)) : undefined);
}

/** The `prompt` parameter value for an example: '' for the default (first) one. */
export function promptParamFor(examples: readonly { id: string; prompt: string }[], id: string): string {
  const i = examples.findIndex((e) => e.id === id);
  if (i <= 0) return '';
  return examples[i].prompt.slice(0, PROMPT_PARAM_MAX);
}

export function tensorPicker(o: TensorPickerOptions): TensorPicker {
  const selectId = nextId('ctl-example');
  const areaId = nextId('ctl-prompt');
  const select = el('select', { id: selectId });
  select.dataset.control = 'prompt';
  select.disabled = true;
  select.append(el('option', { value: '', textContent: 'Loading examples…' }));
  const area = el('textarea', { id: areaId, rows: 3, maxLength: PROMPT_PARAM_MAX });
  area.placeholder = 'Type or paste your own text, then run the model on it.';
  const run = el('button', { type: 'button', className: 'primary', textContent: 'Run the model on this text' });
  const root = el(
    'div',
    { className: 'ctl ctl-prompt' },
    el('label', { htmlFor: selectId, textContent: 'Example' }),
    select,
    el('label', { htmlFor: areaId, textContent: 'Your own prompt' }),
    area,
    el('div', { className: 'ctl-row' }, run),
  );
  root.dataset.control = 'prompt';

  let index: PrecomputedIndex | null = null;
  let examples: { id: string; title: string; prompt: string; tokens: number }[] = [];
  let current: TensorSet | undefined;
  let seq = 0;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));

  const deliver = (set: TensorSet) => {
    current = set;
    o.onTensors(set);
    resolveReady();
  };

  const showExample = async (id: string | undefined, { quiet = false } = {}) => {
    const my = ++seq;
    if (!quiet) o.status.set('Loading the example…');
    const set = await loadExample(id);
    if (my !== seq) return set;
    select.value = set.exampleId ?? '';
    area.value = set.prompt;
    deliver(set);
    o.status.set('');
    return set;
  };

  const runLive = async (prompt: string) => {
    if (!prompt.trim()) {
      o.status.set('The prompt is empty: type some text first. Showing the example meanwhile.');
      return;
    }
    const match = matchExample(examples, prompt);
    if (match) {
      await showExample(match.id);
      o.onPrompt?.(promptParamFor(examples, match.id));
      return;
    }
    const my = ++seq;
    run.disabled = true;
    o.status.set('Starting the model…');
    try {
      const set = await liveTensors(prompt, {
        model: o.model as ModelId,
        allowRemote: o.model !== 'kvlab-16m',
        onProgress: (p) => {
          if (my !== seq) return;
          const d = describeProgress(p);
          o.status.set(d.text, d.total ? { done: d.done ?? 0, total: d.total } : undefined);
        },
      });
      if (my !== seq) return;
      select.value = '';
      deliver(set);
      o.onPrompt?.(prompt);
      if (set.truncated) o.status.set(set.truncated.message);
    } catch (err) {
      if (my === seq) o.status.error(`${explainError(err)} The example stays on screen.`);
    } finally {
      run.disabled = false;
    }
  };

  const applyPrompt = async (prompt: string) => {
    if (!index) return;
    if (current && (prompt === current.prompt || (!prompt && current.exampleId === examples[0]?.id))) return;
    const match = prompt ? matchExample(examples, prompt) : examples[0];
    if (match) {
      await showExample(match.id);
      return;
    }
    // Someone else's text: show it, draw the default example, and wait for the reader to ask.
    if (!current) await showExample(undefined, { quiet: true });
    area.value = prompt;
    o.status.set('The prompt from the link is in the text box. Press "Run the model on this text" to compute its keys and values (this loads the model); the example is shown meanwhile.');
  };

  select.addEventListener('change', async () => {
    const id = select.value;
    if (!id) return;
    try {
      await showExample(id);
      o.onPrompt?.(promptParamFor(examples, id));
    } catch (err) {
      o.status.error(explainError(err));
    }
  });
  run.addEventListener('click', () => void runLive(area.value));

  (async () => {
    try {
      o.status.set('Loading the examples…');
      index = await precomputedIndex();
      // index.json carries every example's prompt, so matching a typed prompt downloads no tensors;
      // only the example shown is loaded (phones and sandboxed embeds fetch one file, not all).
      examples = index.items.map((item) => ({ id: item.id, title: item.title, prompt: item.prompt ?? '', tokens: item.tokens }));
      select.replaceChildren(...index.items.map((item) => el('option', { value: item.id, textContent: /tokens/.test(item.title) ? item.title : `${item.title} (${item.tokens} tokens)` })));
      select.disabled = false;
      if (o.model !== index.model) o.status.set(`The examples come from ${index.model}; press "Run the model on this text" to compute them with ${o.model} (downloads it).`);
      await applyPrompt(o.prompt);
      root.dataset.loaded = 'all';
    } catch (err) {
      o.status.error(explainError(err));
      resolveReady();
    }
  })();

  return {
    root,
    get current() {
      return current;
    },
    ready,
    applyPrompt: (p) => void applyPrompt(p).catch((err) => o.status.error(explainError(err))),
  };
}
