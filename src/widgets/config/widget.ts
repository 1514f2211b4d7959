import { declareWidget } from '../shared/declare';
import { configCodec } from './state';

export default declareWidget({
  name: 'config',
  tag: 'kv-config',
  title: 'Quantized-cache config generator',
  description:
    'Transformers code for a quantized cache with your settings, with what Transformers does with them and the memory they save.',
  chapter: 'using-it-in-transformers',
  height: 760,
  order: 90,
  embeddable: true,
  codec: configCodec,
  load: () => import('./element'),
});
