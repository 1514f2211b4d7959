import { defineCodec, type StateOf } from '../shared/params';

/** URL parameters of <kv-explorer>: which prompt, layer and KV head to show. */
export const explorerCodec = defineCodec(['model', 'prompt', 'layer', 'head', 'controls', 'theme'] as const);

export type ExplorerState = StateOf<(typeof explorerCodec.names)[number]>;

/**
 * Layer and head clamped to the model actually loaded (the codec only knows 0–63).
 * Returns the values to use and a note for each one that was replaced.
 */
export function clampToModel(
  s: { layer: number; head: number },
  info: { layers: number; kvHeads: number },
): { layer: number; head: number; notes: string[] } {
  const notes: string[] = [];
  let { layer, head } = s;
  if (layer > info.layers - 1) {
    notes.push(`layer=${layer} does not exist (this model has layers 0–${info.layers - 1}); showing layer ${info.layers - 1}.`);
    layer = info.layers - 1;
  }
  if (head > info.kvHeads - 1) {
    notes.push(`head=${head} does not exist (this model has KV heads 0–${info.kvHeads - 1}); showing head ${info.kvHeads - 1}.`);
    head = info.kvHeads - 1;
  }
  return { layer, head, notes };
}
