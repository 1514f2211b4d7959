import { declareWidget } from '../shared/declare';
import { residualCodec } from './state';

export default declareWidget({
  name: 'residual',
  tag: 'kv-residual',
  title: 'Residual cache step-through',
  description: 'How Transformers’ quantized cache moves tokens from the full-precision residual into the quantized part.',
  chapter: 'groups-bits-residual',
  height: 620,
  order: 40,
  embeddable: true,
  codec: residualCodec,
  load: () => import('./element'),
});
