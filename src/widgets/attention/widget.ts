import { declareWidget } from '../shared/declare';
import { attentionCodec } from './state';

export default declareWidget({
  name: 'attention',
  tag: 'kv-attention',
  title: 'Attention under quantized keys',
  description: 'One query’s attention over past tokens with original and quantized keys and values.',
  chapter: 'does-the-model-notice',
  height: 820,
  order: 60,
  embeddable: true,
  codec: attentionCodec,
  load: () => import('./element'),
});
