import { declareWidget } from '../shared/declare';
import { perplexityCodec } from './state';

export default declareWidget({
  name: 'perplexity',
  tag: 'kv-perplexity',
  title: 'Perplexity sweep',
  description: 'Running perplexity of a held-out passage for several cache configurations.',
  chapter: 'does-the-model-notice',
  height: 820,
  order: 80,
  embeddable: true,
  codec: perplexityCodec,
  load: () => import('./element'),
});
