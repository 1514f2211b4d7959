import { declareWidget } from '../shared/declare';
import { rotationCodec } from './state';

export default declareWidget({
  name: 'rotation',
  tag: 'kv-rotation',
  title: 'Hadamard rotation of keys',
  description: 'A layer’s keys quantized with and without a Hadamard rotation that spreads outlier channels.',
  chapter: 'beyond-the-post',
  height: 760,
  order: 100,
  embeddable: true,
  codec: rotationCodec,
  load: () => import('./element'),
});
