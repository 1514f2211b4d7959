import { declareWidget } from '../shared/declare';
import { generationCodec } from './state';

export default declareWidget({
  name: 'generation',
  tag: 'kv-generation',
  title: 'Side-by-side generation',
  description: 'The model continues a prompt with the full-precision and the quantized cache, side by side.',
  chapter: 'does-the-model-notice',
  height: 760,
  order: 70,
  embeddable: true,
  codec: generationCodec,
  load: () => import('./element'),
});
