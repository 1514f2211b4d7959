/**
 * Where tensor widgets get real keys, values and queries:
 * 1. at once, from precomputed files of the bundled model (public/precomputed/),
 *    which also work offline, in sandboxed iframes and on phones;
 * 2. on request, from the live model in the worker, for the reader's own prompt;
 * 3. from a KV-cache dump file the reader opens or a `?kv=<url>` link names (dump-source.ts).
 * Results are cached per (model, prompt) for the page's lifetime, so moving a
 * quantization slider never re-runs the model.
 */
import { loadPrecomputed, type PrecomputedIndex } from '../../lib/model/precomputed';
import { getModelClient, ModelClientError } from '../../lib/model/client';
import type { PrefillResult, ProgressMessage } from '../../lib/model/protocol';
import type { ModelId } from '../../lib/model/catalogue';
import type { DumpSummary } from './dump-source';

export type TensorSet = PrefillResult & {
  /** 'dump': a KV-cache dump file (dump-source.ts); it has no model, so no logits and `info.vocab` = 0. */
  source: 'precomputed' | 'live' | 'dump';
  /** Precomputed example id (a dump: a per-page id), or undefined for a live prefill. */
  exampleId?: string;
  title: string;
  prompt: string;
  /**
   * Token position of the first query row: 0 (or absent) when `queries` cover every token; a dump holds only
   * the last N positions, so there `queries[i]` is [heads, N, headDim] and this is T − N.
   */
  queriesFrom?: number;
  /** A dump's metadata (model, layer indices, sliding windows …); absent otherwise. */
  dump?: DumpSummary;
};

/** Absolute URL of a file the site serves, valid from any page that loaded this module (script-tag embeds too). */
export function siteUrl(path: string): URL {
  const base = import.meta.env.BASE_URL.replace(/\/?$/, '/');
  return new URL(`${base}${path.replace(/^\//, '')}`, import.meta.url);
}

let indexPromise: Promise<PrecomputedIndex> | null = null;
const precomputed = new Map<string, Promise<TensorSet>>();
const live = new Map<string, Promise<TensorSet>>();

export function precomputedIndex(): Promise<PrecomputedIndex> {
  indexPromise ??= fetch(siteUrl('precomputed/index.json')).then((r) => {
    if (!r.ok) throw new Error(`the precomputed examples could not be loaded (HTTP ${r.status})`);
    return r.json() as Promise<PrecomputedIndex>;
  });
  indexPromise.catch(() => (indexPromise = null));
  return indexPromise;
}

/** A precomputed example by id (default: the first listed). */
export async function loadExample(id?: string): Promise<TensorSet> {
  const index = await precomputedIndex();
  const item = index.items.find((i) => i.id === id) ?? index.items[0];
  if (!item) throw new Error('no precomputed example is available');
  let p = precomputed.get(item.id);
  if (!p) {
    p = loadPrecomputed(siteUrl(`precomputed/${item.manifest}`)).then((r) => ({
      ...r,
      source: 'precomputed' as const,
      exampleId: item.id,
      title: r.title,
      prompt: r.prompt,
    }));
    p.catch(() => precomputed.delete(item.id));
    precomputed.set(item.id, p);
  }
  return p;
}

/** The example whose prompt is exactly `prompt`, if any (so shared links to examples stay instant). */
export async function exampleForPrompt(prompt: string): Promise<string | undefined> {
  if (!prompt.trim()) return undefined;
  try {
    const index = await precomputedIndex();
    const item = index.items.find((i) => i.prompt === prompt);
    if (item) return item.id;
  } catch {
    // No examples: the caller runs the live model.
  }
  return undefined;
}

export interface LiveOptions {
  model?: ModelId;
  allowRemote?: boolean;
  onProgress?(p: ProgressMessage): void;
}

/** Prefill `prompt` with the live model in the worker (cached per model and prompt). */
export function liveTensors(prompt: string, o: LiveOptions = {}): Promise<TensorSet> {
  const model = o.model ?? 'kvlab-16m';
  const key = `${model}\u0000${prompt}`;
  let p = live.get(key);
  if (!p) {
    const job = getModelClient().request({ type: 'prefill', prompt, model, allowRemote: o.allowRemote }, { onProgress: o.onProgress });
    p = job.promise.then((r) => ({ ...r, source: 'live' as const, title: 'Your prompt', prompt }));
    p.catch(() => live.delete(key));
    live.set(key, p);
  }
  return p;
}

/** A reader-facing sentence for any failure of the above. */
export function explainError(err: unknown): string {
  if (err instanceof ModelClientError) return `${err.message} ${err.action}`;
  const m = err instanceof Error ? err.message : String(err);
  return `Could not get the tensors: ${m}. Reload the page or try another prompt.`;
}

/** A progress message as status-line text. */
export function describeProgress(p: ProgressMessage): { text: string; done?: number; total?: number } {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  switch (p.phase) {
    case 'download':
      return {
        text: p.total ? `Loading the model: ${mb(p.loaded ?? 0)} of ${mb(p.total)}` : 'Loading the model…',
        done: p.loaded,
        total: p.total,
      };
    case 'initialize':
      return { text: 'Starting the model…' };
    case 'tokenize':
      return { text: 'Tokenizing…' };
    case 'prefill':
      return { text: 'Running the prompt through the model…', done: p.loaded, total: p.total };
    case 'generate':
      return { text: `Generating: ${p.loaded ?? 0} of ${p.total ?? '?'} tokens`, done: p.loaded, total: p.total };
    case 'score':
      return {
        text: `Scoring${p.detail ? ` ${p.detail}` : ''}: ${p.loaded ?? 0} of ${p.total ?? '?'} tokens`,
        done: p.loaded,
        total: p.total,
      };
  }
}
