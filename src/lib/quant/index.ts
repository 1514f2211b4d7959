/** Public API of the KV-cache quantization engine (re-exports only). */
export { BITS, MEMORY_BITS, AXES, METHODS, META_DTYPES } from './enums';
export type { Bits, MemoryBits, Axis, Method, MetaDtype } from './enums';
export type { KVTensor, QuantConfig, HqqParams, FakeQuantResult, FakeQuantBuffers } from './types';
export { defaults as quantDefaults, validateTensor, resolveConfig, groupCount, groupIndexOf, tokenGroups } from './grouping';
export type { ResolvedConfig } from './grouping';
export { fakeQuantize, fakeQuantizeInto, allocateFakeQuantOutput } from './fakeQuantize';
export { roundToFp16, roundToFp16Saturating, roundToFp32Saturating, FP16_MAX, FP16_MIN_NORMAL, FP16_MIN_SUBNORMAL } from './fp16';
export { kvCacheBytes, packedBytes, defaults as memoryDefaults } from './memory';
export type { KvCacheBytes, KvCacheBytesOptions } from './memory';
export { residualSplit, kiviResidualSplit, defaults as residualDefaults } from './residual';
export type { ResidualSplit, ResidualSplitOptions, KiviResidualSplit, KiviSplitOptions, KiviPart } from './residual';
export {
  relativeError,
  mse,
  snrDb,
  maxAbsError,
  meanTokenCosine,
  reconstructionMetrics,
  squaredErrorSums,
  relativeErrorOfSums,
} from './metrics';
export type { ReconstructionMetrics } from './metrics';
export { attentionImpact, defaults as attentionDefaults } from './attention';
export type { AttentionImpact, AttentionImpactOptions } from './attention';
export { hadamardRotate, inverseHadamardRotate, fwhtInPlace, isPowerOfTwo } from './rotation';
export { setWasmEnabled, wasmActive, wasmSimdSupported } from './wasm/index';
export { quantizeFormat, ENGINE_FORMATS, ENGINE_FORMAT_NOTES, engineFormatInfo } from './formats/index';
export type { EngineFormat, EngineFormatInfo, FormatScale, QuantizeFormatOptions, QuantizeFormatResult } from './formats/index';
export {
  transformersVerdict,
  layoutFor,
  axisFor,
  settingsForLayouts,
  checkTensor,
  hqqPackRows,
  flushSteps,
  quantizeEvents,
  decodeStepsFor,
  inferredLayerTypes,
  describeFailure,
  describeSource,
  TRANSFORMERS_BITS,
  TRANSFORMERS_AXES,
  HQQ_DOCUMENTED_BITS,
  RECOMMENDED_AXIS,
} from './transformers';
export type {
  TransformersBackend,
  TransformersLayout,
  TransformersCacheConfig,
  TransformersModelGeometry,
  TokenSchedule,
  TransformersVerdict,
  TransformersFailure,
  TransformersNote,
  QuantizeEvent,
  VerdictStage,
  UpstreamSource,
  TensorShape,
  TensorCheck,
} from './transformers';
// Grouping layouts (token, channel, strided = HQQ axis 0, flat-channel = quanto axis −1): which elements share a group.
export { groupMembers, gatherPlan, checkLayoutSize } from './grouping';
export type { GatherPlan } from './grouping';
export { requantizationDrift } from './drift';
export type { DriftOptions, DriftPoint } from './drift';
