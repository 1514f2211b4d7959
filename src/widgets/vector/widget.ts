import { declareWidget } from '../shared/declare';
import { vectorCodec } from './state';

export default declareWidget({
  name: 'vector',
  tag: 'kv-vector',
  title: 'One vector, quantized',
  description:
    'One real key or value vector quantized group by group: the grid each group can represent, the rounded values and the error.',
  chapter: 'quantization-basics',
  height: 700,
  order: 10,
  embeddable: true,
  codec: vectorCodec,
  load: () => import('./element'),
});
