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
 * - A KV-cache dump (dump-source.ts) opens from the file input, a file dropped on the block, or `?kv=<url>`
 *   in the page's address (which then replaces the default example); a bad file leaves the tensors shown
 *   and says what is wrong; a file over the size limit offers to open a subset of its layers.
 * Text from users, URLs and files only ever goes into `value`/`textContent`.
 */
import { el, nextId } from './controls';
import { describeProgress, explainError, liveTensors, loadExample, precomputedIndex, type TensorSet } from './tensors';
import type { PrecomputedIndex } from '../../lib/model/precomputed';
import type { ModelId } from '../../lib/model/catalogue';
import {
  activeDump,
  DUMP_MAX_BYTES,
  DumpTooLarge,
  dumpUrlParam,
  explainDumpError,
  layersThatFit,
  openDump,
  parseLayerList,
  urlDump,
  type DumpInput,
  type DumpSummary,
  type DumpTensorSet,
} from './dump-source';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 2 : 0)} MiB`;

/** One line about a dump for the picker (textContent only). */
export function dumpLine(d: DumpSummary): string {
  const sliding = d.layers.filter((l) => l.attention === 'sliding');
  const idx = d.layers.map((l) => l.index);
  const contiguous = idx.every((v, i) => i === 0 || v === idx[i - 1] + 1);
  const which =
    d.layers.length === d.numHiddenLayers
      ? `all ${d.numHiddenLayers} layers`
      : `layers ${contiguous ? `${idx[0]}–${idx[idx.length - 1]}` : idx.join(', ')} of ${d.numHiddenLayers}`;
  return (
    `Dump of ${d.model}: ${d.tokens} tokens, ${which}, ${d.heads} query heads, ${d.kvHeads} KV heads, head_dim ${d.headDim}, ${d.dtype}` +
    (sliding.length
      ? `; ${sliding.length} sliding-window layer${sliding.length > 1 ? 's' : ''} (${[...new Set(sliding.map((l) => l.window))].join(', ')} tokens)`
      : '') +
    `; queries of the last ${d.queries} positions.`
  );
}

/** The part of a widget's status line the picker writes to. */
export interface PickerStatus {
  set(message: string, progress?: { done: number; total: number }): void;
  error(message: string): void;
  /** The line's element (statusLine's root), to tell whether it still shows the picker's own message. */
  readonly root?: HTMLElement;
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

/** The status line's message while a prompt from a link or an attribute waits in the text box. */
const OUTSIDE_PROMPT =
  'The prompt from the link is in the text box. Press "Run the model on this text" to compute its keys and values (this loads the model); the example is shown meanwhile.';

/** Value of the select's option for the reader's own (live) text. */
const OWN = 'own';

/** Maximum `prompt` parameter length (params.ts): longer example prompts match by their first characters. */
const PROMPT_PARAM_MAX = 4000;

/** The example whose prompt is `prompt` (exactly, or its cut 4000-character start). Pure, for tests. */
export function matchExample<T extends { prompt: string }>(examples: readonly T[], prompt: string): T | undefined {
  if (!prompt) return undefined;
  return (
    examples.find((e) => e.prompt === prompt) ??
    (prompt.length >= PROMPT_PARAM_MAX ? examples.find((e) => e.prompt.startsWith(prompt)) : undefined)
  );
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
  const fileId = nextId('ctl-dump');
  const fileInput = el('input', { id: fileId, type: 'file', accept: '.safetensors,application/octet-stream' });
  fileInput.dataset.control = 'dump-file';
  const dumpInfo = el('p', { className: 'ctl-dump-info' });
  dumpInfo.dataset.role = 'dump-info';
  dumpInfo.hidden = true;
  // Dump errors stay here (the status line is the widget's, which clears it on its next message).
  const dumpError = el('p', { className: 'ctl-dump-error' });
  dumpError.dataset.role = 'dump-error';
  dumpError.hidden = true;
  const showDumpError = (message: string) => {
    dumpError.textContent = message;
    dumpError.hidden = !message;
  };
  const subset = el('div', { className: 'ctl-dump-subset' });
  subset.hidden = true;
  const root = el(
    'div',
    { className: 'ctl ctl-prompt' },
    el('label', { htmlFor: selectId, textContent: 'Example' }),
    select,
    el('label', { htmlFor: areaId, textContent: 'Your own prompt' }),
    area,
    el('div', { className: 'ctl-row' }, run),
    el('label', { htmlFor: fileId, textContent: 'Or open a KV-cache dump (.kvlab.safetensors, or drop it here)' }),
    fileInput,
    dumpInfo,
    dumpError,
    subset,
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
    if (set.source === 'dump' && set.dump) {
      dumpInfo.textContent = dumpLine(set.dump);
      dumpInfo.hidden = false;
      root.dataset.dump = 'loaded';
      let opt = select.querySelector<HTMLOptionElement>('option[value="dump"]');
      if (!opt) {
        opt = el('option', { value: 'dump' });
        select.append(opt);
      }
      opt.textContent = `Dump: ${set.dump.model} (${set.dump.tokens} tokens)`;
      dumpSet = set as DumpTensorSet;
      showDumpError('');
      select.value = 'dump';
      area.value = '';
    } else {
      dumpInfo.hidden = true;
    }
    o.onTensors(set);
    resolveReady();
  };

  let dumpSet: DumpTensorSet | null = null;
  // The reader's last live run: an option of its own, so the select never shows a blank choice
  // after a run and the reader can go back to their text after looking at an example.
  let ownSet: TensorSet | null = null;
  const ownOption = (): HTMLOptionElement => {
    let opt = select.querySelector<HTMLOptionElement>(`option[value="${OWN}"]`);
    if (!opt) {
      opt = el('option', { value: OWN, textContent: 'Your text' });
      select.append(opt);
    }
    return opt;
  };
  const keepNote = (): string => (current ? ' The widget keeps the tensors it had.' : '');

  /** Open a dump (file or URL); errors leave `current` as it was. */
  const showDump = async (input: DumpInput, layers?: number[]): Promise<void> => {
    const my = ++seq;
    subset.hidden = true;
    root.dataset.dump = 'loading';
    o.status.set('Opening the dump…');
    try {
      const set = await openDump(input, {
        layers,
        onProgress: (text, done, total) => my === seq && o.status.set(text, total ? { done: done ?? 0, total } : undefined),
      });
      if (my !== seq) return;
      deliver(set);
      o.status.set('');
    } catch (err) {
      if (my !== seq) return;
      if (err instanceof DumpTooLarge) {
        root.dataset.dump = 'too-large';
        offerSubset(input, err);
        o.status.error(`${err.message}. Open a subset of its layers below.${keepNote()}`);
        showDumpError(`${err.message}.`);
      } else {
        root.dataset.dump = 'error';
        o.status.error(`${explainDumpError(err)}${keepNote()}`);
        showDumpError(explainDumpError(err));
      }
      resolveReady();
    }
  };

  const offerSubset = (input: DumpInput, err: DumpTooLarge) => {
    const fit = layersThatFit(err.summary, DUMP_MAX_BYTES);
    const id = nextId('ctl-dump-layers');
    const field = el('input', { id, type: 'text', value: fit.length ? `${fit[0]}-${fit[fit.length - 1]}` : '' });
    const go = el('button', { type: 'button', textContent: 'Open these layers' });
    const note = el('p', {
      textContent: `${err.summary.model}: ${err.summary.numHiddenLayers} layers, ${err.summary.tokens} tokens, ${mib(err.summary.bytes)}. About ${mib(err.summary.layers[0]?.bytes ?? 0)} a layer; up to ${fit.length} layers fit in ${mib(DUMP_MAX_BYTES)}.`,
    });
    go.addEventListener('click', () => {
      try {
        void showDump(input, parseLayerList(field.value));
      } catch (e) {
        o.status.error(explainDumpError(e));
      }
    });
    subset.replaceChildren(note, el('label', { htmlFor: id, textContent: 'Layers (e.g. 0-7 or 0,4,8)' }), field, go);
    subset.hidden = false;
  };

  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    if (f) void showDump({ file: f, name: f.name });
  });
  root.addEventListener('dragover', (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    root.classList.add('drop-target');
  });
  root.addEventListener('dragleave', () => root.classList.remove('drop-target'));
  root.addEventListener('drop', (e) => {
    root.classList.remove('drop-target');
    const f = e.dataTransfer?.files?.[0];
    if (!f) return;
    e.preventDefault();
    void showDump({ file: f, name: f.name });
  });

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
      ownSet = set;
      ownOption().textContent = `Your text (${set.tokens.length} tokens)`;
      select.value = OWN;
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
    // A dump has no prompt: an empty prompt parameter keeps it.
    if (current?.source === 'dump' && !prompt) return;
    if (current && (prompt === current.prompt || (!prompt && current.exampleId === examples[0]?.id))) {
      // The tensors drawn are already this prompt's; a text box still holding an earlier outside prompt (and the
      // status line asking to run it) goes back to them, or the widget would show one text and draw another.
      if (area.value !== current.prompt) {
        area.value = current.prompt;
        // Only the picker's own "run it" message: the widget may have written to the line since (a sweep's result).
        if (o.status.root?.textContent === OUTSIDE_PROMPT) o.status.set('');
      }
      return;
    }
    const match = prompt ? matchExample(examples, prompt) : examples[0];
    if (match) {
      await showExample(match.id);
      return;
    }
    // Someone else's text: show it, draw the default example, and wait for the reader to ask.
    if (!current) await showExample(undefined, { quiet: true });
    area.value = prompt;
    o.status.set(OUTSIDE_PROMPT);
  };

  select.addEventListener('change', async () => {
    const id = select.value;
    if (!id) return;
    if (id === 'dump') {
      if (dumpSet) deliver(dumpSet);
      return;
    }
    if (id === OWN) {
      if (!ownSet) return;
      ++seq; // a slower example load still under way must not replace the reader's text
      area.value = ownSet.prompt;
      deliver(ownSet);
      o.onPrompt?.(ownSet.prompt);
      return;
    }
    try {
      await showExample(id);
      o.onPrompt?.(promptParamFor(examples, id));
    } catch (err) {
      o.status.error(explainError(err));
    }
  });
  run.addEventListener('click', () => void runLive(area.value));

  /** `?kv=`: the example is drawn meanwhile only if the dump fails (so the widget always shows something). */
  const showExampleThenDump = async (p: Promise<DumpTensorSet>) => {
    const my = ++seq;
    root.dataset.dump = 'loading';
    o.status.set(`Downloading the dump ${dumpUrlParam()}…`);
    try {
      const set = await p;
      if (my === seq) {
        deliver(set);
        o.status.set('');
      }
    } catch (err) {
      if (my !== seq) return;
      root.dataset.dump = 'error';
      await showExample(undefined, { quiet: true });
      o.status.error(`${explainDumpError(err)} Showing the example instead.`);
      showDumpError(`${explainDumpError(err)} Showing the example instead.`);
    }
  };

  (async () => {
    try {
      o.status.set('Loading the examples…');
      index = await precomputedIndex();
      // index.json carries every example's prompt, so matching a typed prompt downloads no tensors;
      // only the example shown is loaded (phones and sandboxed embeds fetch one file, not all).
      examples = index.items.map((item) => ({ id: item.id, title: item.title, prompt: item.prompt ?? '', tokens: item.tokens }));
      select.replaceChildren(
        ...index.items.map((item) =>
          el('option', { value: item.id, textContent: /tokens/.test(item.title) ? item.title : `${item.title} (${item.tokens} tokens)` }),
        ),
      );
      select.disabled = false;
      if (o.model !== index.model)
        o.status.set(
          `The examples come from ${index.model}; press "Run the model on this text" to compute them with ${o.model} (downloads it).`,
        );
      // A dump named by the page (`?kv=`) or already opened on it (the /lab/open page) replaces the default example.
      const opened = activeDump();
      const fromUrl = opened ? null : urlDump();
      if (opened) deliver(opened);
      else if (fromUrl) await showExampleThenDump(fromUrl);
      else await applyPrompt(o.prompt);
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
