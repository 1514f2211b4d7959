/** Helpers shared by the WebAssembly kernels' loaders (index.ts for min-max/absmax, hqq.ts for HQQ). */

/** Module bytes from the base64 string a `*.generated.ts` exports (no atob: also runs where it is missing). */
export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lut = new Uint8Array(128);
  for (let i = 0; i < 64; i++) lut[A.charCodeAt(i)] = i;
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    const a = lut[clean.charCodeAt(i)];
    const b = lut[clean.charCodeAt(i + 1)];
    const c = i + 2 < clean.length ? lut[clean.charCodeAt(i + 2)] : 0;
    const d = i + 3 < clean.length ? lut[clean.charCodeAt(i + 3)] : 0;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    if (o < out.length) out[o++] = (v >> 16) & 255;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}

/** Byte offset rounded up to 16 (v128 alignment). */
export const align16 = (b: number): number => (b + 15) & ~15;

/**
 * Grows `mem` to at least `end` bytes; false when that exceeds 32-bit wasm memory or the engine refuses (the
 * caller then takes its JS path). Growing detaches the old buffer: callers rebuild their views.
 */
export function ensureBytes(mem: WebAssembly.Memory, end: number): boolean {
  if (end > 2 ** 31) return false;
  const have = mem.buffer.byteLength;
  if (end <= have) return true;
  try {
    mem.grow(Math.ceil((end - have) / 65536));
    return true;
  } catch {
    return false;
  }
}
