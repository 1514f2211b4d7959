/**
 * Module-level scratch buffers, grown on demand and reused, so hot paths allocate nothing after warm-up.
 * Safe because the engine is synchronous (no await between acquiring and releasing); each Worker has its own copy.
 */
const f64: Float64Array[] = [];
const f32: Float32Array[] = [];
let u8 = new Uint8Array(0);
let i32 = new Int32Array(0);

/** Float64 scratch number `slot` of at least `n` elements (contents unspecified). */
export function scratchF64(slot: number, n: number): Float64Array {
  const cur = f64[slot];
  if (cur !== undefined && cur.length >= n) return cur;
  const next = new Float64Array(Math.max(n, 16));
  f64[slot] = next;
  return next;
}

export function scratchF32(slot: number, n: number): Float32Array {
  const cur = f32[slot];
  if (cur !== undefined && cur.length >= n) return cur;
  const next = new Float32Array(Math.max(n, 16));
  f32[slot] = next;
  return next;
}

export function scratchU8(n: number): Uint8Array {
  if (u8.length < n) u8 = new Uint8Array(n);
  return u8;
}

export function scratchI32(n: number): Int32Array {
  if (i32.length < n) i32 = new Int32Array(n);
  return i32;
}
