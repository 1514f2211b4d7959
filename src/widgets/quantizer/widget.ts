import { declareWidget } from '../shared/declare';
import { quantizerCodec } from './state';

export default declareWidget({
  name: 'quantizer',
  tag: 'kv-quantizer',
  title: 'Quantizer playground',
  description: 'Quantize real keys and values: original, dequantized and error side by side, with metrics and memory.',
  chapter: 'keys-and-values',
  height: 1000,
  order: 30,
  embeddable: true,
  codec: quantizerCodec,
  load: () => import('./element'),
});
