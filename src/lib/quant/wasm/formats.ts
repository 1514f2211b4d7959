/** Placeholder until formats.wat lands. */
import type { EngineFormat } from '../formats/index';
export function formatsWasm(
  _format: EngineFormat, _data: Float32Array, _out: Float32Array, _heads: number, _perHead: number, _scales: Float32Array | null,
): boolean {
  return false;
}
