import { declareWidget } from '../shared/declare';
import { tradeoffCodec } from './state';

export default declareWidget({
  name: 'tradeoff',
  tag: 'kv-tradeoff',
  title: 'Error–memory trade-off',
  description: 'Every combination of bits, group size, axis and method on the real cache, with the Pareto frontier.',
  chapter: 'tradeoff',
  height: 820,
  order: 50,
  embeddable: true,
  codec: tradeoffCodec,
  load: () => import('./element'),
});
