import { declareWidget } from '../shared/declare';
import { memoryCodec } from './state';

export default declareWidget({
  name: 'memory',
  tag: 'kv-memory',
  title: 'KV-cache memory calculator',
  description: 'Memory of a (quantized) KV cache for real models, and how many tokens fit on a GPU.',
  chapter: 'kv-cache-memory',
  height: 780,
  order: 0,
  embeddable: true,
  codec: memoryCodec,
  load: () => import('./element'),
});
