import { defineCodec, quoteForNote, type Codec } from '../shared/params';
import { DEFAULT_PRESETS, PRESET_IDS } from './presets';

type Names = 'prompt' | 'configs' | 'residual' | 'controls' | 'theme';

const base = defineCodec(['prompt', 'configs', 'residual', 'controls', 'theme'] as const, {
  controlNames: ['prompt', 'configs', 'residual'],
  own: {
    configs: {
      kind: 'list',
      default: DEFAULT_PRESETS,
      doc: `Perplexity widget: comma-separated cache configurations to score (${PRESET_IDS.join(', ')}).`,
    },
  },
});

/**
 * URL parameters of <kv-perplexity>: the text (empty = the held-out passage), the cache
 * configurations to score (preset ids) and the residual length R shared by every quantized one.
 * Unknown config ids are dropped with a note; an empty list falls back to the defaults.
 */
export type PerplexityState = (typeof base)['defaults'];

export const perplexityCodec: Codec<Names, PerplexityState> = {
  ...base,
  parse(source, prefix = '') {
    const r = base.parse(source, prefix);
    const ids = r.state.configs;
    const unknown = ids.filter((i) => !(PRESET_IDS as readonly string[]).includes(i));
    const known = [...new Set(ids.filter((i) => (PRESET_IDS as readonly string[]).includes(i)))];
    if (unknown.length)
      r.notes.push(`configs: unknown ${unknown.map(quoteForNote).join(', ')} ignored (allowed: ${PRESET_IDS.join(', ')}).`);
    if (!known.length) {
      if (source.get(prefix + 'configs') !== null) r.notes.push('configs: nothing valid was listed; using the defaults.');
      r.state = { ...r.state, configs: [...base.defaults.configs] };
    } else r.state = { ...r.state, configs: known };
    return r;
  },
};
