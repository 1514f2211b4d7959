import { declareWidget } from '../shared/declare';
import { explorerCodec } from './state';

export default declareWidget({
  name: 'kv-explorer',
  tag: 'kv-explorer',
  title: 'KV explorer',
  description: 'Heatmaps of a layer’s real keys and values and their per-channel magnitudes.',
  chapter: 'keys-and-values',
  height: 900,
  order: 20,
  embeddable: true,
  codec: explorerCodec,
  load: () => import('./element'),
});
