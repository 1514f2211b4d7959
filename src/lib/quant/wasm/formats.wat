;; WebAssembly SIMD kernels of the engine cache formats (../formats/): FP8 e4m3/e5m2, NVFP4 and llama.cpp's q8_0,
;; q4_0, q5_0, q4_1, q5_1. Compiled by scripts/build-wasm.mjs into formats.generated.ts; loaded by formats.ts.
;; Every export gives the JS reference's float32 results bit for bit (tests/unit/lib/quant/formats/ runs both paths
;; against the reference fixtures and against each other). Why they agree:
;; - every JS step is one float32 operation (Math.fround after each +, −, ·, /), and wasm's f32 / f32x4 arithmetic is
;;   IEEE single precision with round-to-nearest-even and gradual underflow, with no fused multiply-add;
;; - rounding to a small float grid (e4m3, e5m2, e2m1, fp16) is exact in both: JS rounds in float64 by scaling with
;;   the grid's quantum; here a ≥ 0 is rounded as (a + M) − M with M = max(2^(e + 23 − m), 2^(emin + 23 − m)),
;;   2^e ≤ a < 2^(e+1) read off a's exponent bits and m the grid's mantissa bits: the f32 sum has ulp 2^(e − m)
;;   (or the subnormal quantum 2^(emin − m)), so the addition rounds a to the grid, ties to even (the sum's last
;;   bit is the grid value's last bit), and the subtraction is exact (fp16 uses the bit-pattern form in $fp16);
;; - products q·scale are exact before their single rounding (q has ≤ 8 significant bits);
;; - reductions (max |x|, min, max) are exact; where the JS loop's visiting order decides between −0 and +0 or
;;   between +a and −a, the kernel finds the element the sequential scan would keep (see each function).
;; Inputs are finite (formats/index.ts checks): no NaN/Inf handling here.
(module
  (memory (export "memory") 1)

  ;; ---- helpers -----------------------------------------------------------------------------------------------

  ;; M of the grid rounding above for |x| = a (v128 of f32): a's exponent bits + k·2^23, at least `floor`.
  (func $gridM (param $a v128) (param $k v128) (param $floor v128) (result v128)
    (f32x4.pmax (local.get $floor)
      (i32x4.add (v128.and (local.get $a) (i32x4.splat (i32.const 0x7f800000))) (local.get $k))))

  ;; fp16 round trip of one f32 (RNE, subnormals, overflow to ±inf at |x| ≥ 65520) = fp16.ts roundToFp16 on f32.
  (func $fp16 (param $x f32) (result f32)
    (local $a f32) (local $r f32)
    (local.set $a (f32.abs (local.get $x)))
    (if (f32.lt (local.get $a) (f32.const 0x1p-14))
      (then (local.set $r (f32.sub (f32.add (local.get $a) (f32.const 0.5)) (f32.const 0.5))))
      (else
        (local.set $r (f32.reinterpret_i32 (i32.and
          (i32.add (i32.add (i32.reinterpret_f32 (local.get $a)) (i32.const 0xfff))
                   (i32.and (i32.shr_u (i32.reinterpret_f32 (local.get $a)) (i32.const 13)) (i32.const 1)))
          (i32.const 0xffffe000))))
        (if (f32.gt (local.get $r) (f32.const 65504)) (then (local.set $r (f32.const inf))))))
    (f32.copysign (local.get $r) (local.get $x)))

  ;; Horizontal max of the four lanes (non-negative, NaN-free: |x| of finite values): fold halves with pmax.
  (func $hmax (param $v v128) (result f32)
    (local.set $v (f32x4.pmax (local.get $v) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
    (local.set $v (f32x4.pmax (local.get $v) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $v) (local.get $v))))
    (f32x4.extract_lane 0 (local.get $v)))

  ;; max |x| over `count` f32 at src (count a multiple of 4; the caller pads with zeros). pmax (one maxps) equals
  ;; max here: the operands are |x| of finite values, so no NaN and no −0. Two accumulators halve the dependency chain.
  (func $absmax (export "absmax") (param $src i32) (param $count i32) (result f32)
    (local $end i32) (local $end2 i32) (local $m0 v128) (local $m1 v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $end2 (i32.add (local.get $src) (i32.shl (i32.and (local.get $count) (i32.const -8)) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $src) (local.get $end2)))
      (local.set $m0 (f32x4.pmax (local.get $m0) (f32x4.abs (v128.load (local.get $src)))))
      (local.set $m1 (f32x4.pmax (local.get $m1) (f32x4.abs (v128.load offset=16 (local.get $src)))))
      (local.set $src (i32.add (local.get $src) (i32.const 32)))
      (br $l)))
    (if (i32.lt_u (local.get $src) (local.get $end))
      (then (local.set $m0 (f32x4.pmax (local.get $m0) (f32x4.abs (v128.load (local.get $src)))))))
    (call $hmax (f32x4.pmax (local.get $m0) (local.get $m1))))

  ;; 1 when all `count` f32 at src are finite (count a multiple of 4): a non-finite f32 has all exponent bits set;
  ;; integer compares OR-ed into two accumulators (no float latency chain).
  (func (export "finite") (param $src i32) (param $count i32) (result i32)
    (local $end i32) (local $end2 i32) (local $e v128) (local $b0 v128) (local $b1 v128)
    (local.set $e (i32x4.splat (i32.const 0x7f800000)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $end2 (i32.add (local.get $src) (i32.shl (i32.and (local.get $count) (i32.const -8)) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $src) (local.get $end2)))
      (local.set $b0 (v128.or (local.get $b0) (i32x4.eq (v128.and (v128.load (local.get $src)) (local.get $e)) (local.get $e))))
      (local.set $b1 (v128.or (local.get $b1) (i32x4.eq (v128.and (v128.load offset=16 (local.get $src)) (local.get $e)) (local.get $e))))
      (local.set $src (i32.add (local.get $src) (i32.const 32)))
      (br $l)))
    (if (i32.lt_u (local.get $src) (local.get $end))
      (then (local.set $b0 (v128.or (local.get $b0) (i32x4.eq (v128.and (v128.load (local.get $src)) (local.get $e)) (local.get $e))))))
    (i32.eqz (v128.any_true (v128.or (local.get $b0) (local.get $b1)))))

  ;; ---- FP8 -----------------------------------------------------------------------------------------------------
  ;; dst[i] = fp8(clamp(src[i] / scale, ±max)) · scale for ceil(count/4) vectors; kind 0 = e4m3fn, 1 = e5m2.
  ;; (JS: fp8.ts fp8Range. clamp with pmin/pmax = the JS ternaries; −0 keeps its sign through the rounding.)
  (func (export "fp8") (param $src i32) (param $dst i32) (param $count i32) (param $scale f32) (param $kind i32)
    (local $end i32) (local $s v128) (local $hi v128) (local $lo v128) (local $v v128) (local $a v128) (local $m v128)
    (local $k v128) (local $floor v128) (local $max f32) (local $sgn v128) (local $em v128) (local $div i32)
    ;; x / 1 = x exactly: vLLM's default unit scale needs no division
    (local.set $div (f32.ne (local.get $scale) (f32.const 1)))
    (if (i32.eqz (local.get $kind))
      (then (local.set $k (i32x4.splat (i32.const 0x0a000000))) ;; 20·2^23: quantum 2^(e−3)
            (local.set $floor (f32x4.splat (f32.const 0x1p14))) ;; subnormal quantum 2^-9
            (local.set $max (f32.const 448)))
      (else (local.set $k (i32x4.splat (i32.const 0x0a800000))) ;; 21·2^23: quantum 2^(e−2)
            (local.set $floor (f32x4.splat (f32.const 0x1p7))) ;; subnormal quantum 2^-16
            (local.set $max (f32.const 57344))))
    (local.set $sgn (i32x4.splat (i32.const 0x80000000)))
    (local.set $em (i32x4.splat (i32.const 0x7f800000)))
    (local.set $s (f32x4.splat (local.get $scale)))
    (local.set $hi (f32x4.splat (local.get $max)))
    (local.set $lo (f32x4.splat (f32.neg (local.get $max))))
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (i32.add (local.get $count) (i32.const 3)) (i32.const -4)) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $src) (local.get $end)))
      (local.set $v (v128.load (local.get $src)))
      (if (local.get $div) (then (local.set $v (f32x4.div (local.get $v) (local.get $s)))))
      (local.set $v (f32x4.pmin (local.get $hi) (f32x4.pmax (local.get $lo) (local.get $v))))
      (local.set $a (v128.andnot (local.get $v) (local.get $sgn)))
      (local.set $m (f32x4.pmax (local.get $floor) (i32x4.add (v128.and (local.get $a) (local.get $em)) (local.get $k))))
      (local.set $a (f32x4.sub (f32x4.add (local.get $a) (local.get $m)) (local.get $m)))
      (v128.store (local.get $dst)
        (f32x4.mul (v128.or (local.get $a) (v128.and (local.get $v) (local.get $sgn))) (local.get $s)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $l))))

  ;; ---- NVFP4 ---------------------------------------------------------------------------------------------------
  ;; Blocks of 16 with global scale gs (JS: nvfp4.ts nvfp4Range / nvfp4BlockScales), in chunks of up to 64 blocks:
  ;; (A) each block's max |x| to meta; (M) four blocks per vector:
  ;;   s = e4m3(min(fl(gs · fl(vmax · fl(1/6))), 448)),  y = fl(s · fl(1/gs)),  o = y = 0 ? fl(1/1e8) : fl(1/y),
  ;;   ds = fl(s / gs)  (o at meta + 256, ds at meta + 512);
  ;; (B) elements: E2M1(clamp(fl(x·o), ±6)) · ds with torch.sign's zero rule.
  (func (export "nvfp4") (param $src i32) (param $dst i32) (param $blocks i32) (param $gs f32) (param $meta i32)
    (local $cb i32) (local $b i32) (local $p i32) (local $k i32) (local $gv v128) (local $igs v128) (local $s v128)
    (local $y v128) (local $m v128) (local $o v128) (local $ds v128) (local $v v128) (local $a v128) (local $sign v128)
    (local $em v128) (local $sgn v128) (local $six v128) (local $nsix v128) (local $k22 v128) (local $f22 v128)
    (local.set $gv (f32x4.splat (local.get $gs)))
    (local.set $igs (f32x4.splat (f32.div (f32.const 1) (local.get $gs))))
    (local.set $em (i32x4.splat (i32.const 0x7f800000)))
    (local.set $sgn (i32x4.splat (i32.const 0x80000000)))
    (local.set $six (f32x4.splat (f32.const 6)))
    (local.set $nsix (f32x4.splat (f32.const -6)))
    (local.set $k22 (i32x4.splat (i32.const 0x0b000000)))
    (local.set $f22 (f32x4.splat (f32.const 0x1p22)))
    (block $done (loop $chunk
      (br_if $done (i32.le_s (local.get $blocks) (i32.const 0)))
      (local.set $cb (select (i32.const 64) (local.get $blocks) (i32.gt_s (local.get $blocks) (i32.const 64))))
      ;; (A)
      (local.set $b (i32.const 0))
      (block $ad (loop $al
        (br_if $ad (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $b) (i32.const 6))))
        (f32.store (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2)))
          (call $hmax
            (f32x4.pmax
              (f32x4.pmax (f32x4.abs (v128.load (local.get $p))) (f32x4.abs (v128.load offset=16 (local.get $p))))
              (f32x4.pmax (f32x4.abs (v128.load offset=32 (local.get $p))) (f32x4.abs (v128.load offset=48 (local.get $p)))))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $al)))
      ;; (M)
      (local.set $b (i32.const 0))
      (block $md (loop $ml
        (br_if $md (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $p (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2))))
        (local.set $s (f32x4.mul (local.get $gv) (f32x4.mul (v128.load (local.get $p)) (f32x4.splat (f32.const 0x1.555556p-3)))))
        (local.set $s (f32x4.pmin (local.get $s) (f32x4.splat (f32.const 448))))
        ;; e4m3: quantum 2^(e−3), subnormal 2^-9 (s ≥ 0)
        (local.set $m (call $gridM (local.get $s) (i32x4.splat (i32.const 0x0a000000)) (f32x4.splat (f32.const 0x1p14))))
        (local.set $s (f32x4.sub (f32x4.add (local.get $s) (local.get $m)) (local.get $m)))
        (local.set $y (f32x4.mul (local.get $s) (local.get $igs)))
        (v128.store offset=256 (local.get $p)
          (v128.bitselect (f32x4.splat (f32.const 0x1.5798eep-27)) ;; fl(1/1e8)
            (f32x4.div (f32x4.splat (f32.const 1)) (local.get $y))
            (f32x4.eq (local.get $y) (f32x4.splat (f32.const 0)))))
        (v128.store offset=512 (local.get $p) (f32x4.div (local.get $s) (local.get $gv)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $ml)))
      ;; (B)
      (local.set $b (i32.const 0))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $p (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2))))
        (local.set $o (v128.load32_splat offset=256 (local.get $p)))
        (local.set $ds (v128.load32_splat offset=512 (local.get $p)))
        (local.set $k (i32.const 0))
        (block $qd (loop $ql
          (br_if $qd (i32.ge_u (local.get $k) (i32.const 64)))
          (local.set $v (f32x4.mul (v128.load (i32.add (local.get $src) (local.get $k))) (local.get $o)))
          (local.set $v (f32x4.pmin (local.get $six) (f32x4.pmax (local.get $nsix) (local.get $v))))
          (local.set $a (v128.andnot (local.get $v) (local.get $sgn)))
          ;; E2M1 magnitude: quantum 0.5 below 2 (M ≥ 2^22), 2^(e−1) above (RNE = cast_to_fp4's thresholds)
          (local.set $m (f32x4.pmax (local.get $f22) (i32x4.add (v128.and (local.get $a) (local.get $em)) (local.get $k22))))
          (local.set $m (f32x4.sub (f32x4.add (local.get $a) (local.get $m)) (local.get $m)))
          ;; times torch.sign(v): the sign bit only where v ≠ 0 (v = −0 gives +0)
          (local.set $sign (v128.and (v128.and (local.get $v) (local.get $sgn))
                                     (f32x4.ne (local.get $v) (f32x4.splat (f32.const 0)))))
          (v128.store (i32.add (local.get $dst) (local.get $k))
            (f32x4.mul (v128.or (local.get $m) (local.get $sign)) (local.get $ds)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $ql)))
        (local.set $src (i32.add (local.get $src) (i32.const 64)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bl)))
      (local.set $blocks (i32.sub (local.get $blocks) (local.get $cb)))
      (br $chunk))))

  ;; ---- llama.cpp block formats -------------------------------------------------------------------------------
  ;; Chunks of up to 64 blocks of 32, three passes per chunk: (A) per-block reductions stored to `meta`, (M) the
  ;; per-block scalars d, 1/d, fp16(d) (, fp16(min)) four blocks per vector, (B) the quantize/dequantize loop with
  ;; each block's scalars broadcast by v128.load32_splat. Meta arrays (64 f32 each) at meta + 0, 256, 512, 768,
  ;; 1024; lanes past the chunk's last block compute garbage that nothing reads.

  ;; fp16 round trip of four f32 (= $fp16 per lane): grid rounding with M = max(2^(e+13), 0.5), overflow → ±inf.
  (func $fp16x4 (param $d v128) (result v128)
    (local $a v128) (local $m v128) (local $sg v128)
    (local.set $sg (v128.and (local.get $d) (i32x4.splat (i32.const 0x80000000))))
    (local.set $a (v128.xor (local.get $d) (local.get $sg)))
    (local.set $m (f32x4.pmax (f32x4.splat (f32.const 0.5))
      (i32x4.add (v128.and (local.get $a) (i32x4.splat (i32.const 0x7f800000))) (i32x4.splat (i32.const 0x06800000)))))
    (local.set $a (f32x4.sub (f32x4.add (local.get $a) (local.get $m)) (local.get $m)))
    (local.set $a (v128.bitselect (f32x4.splat (f32.const inf)) (local.get $a)
      (f32x4.gt (local.get $a) (f32x4.splat (f32.const 65504)))))
    (v128.or (local.get $a) (local.get $sg)))

  ;; 1/d where d ≠ 0, else 0 (ggml: `d ? 1.0f/d : 0.0f`; −0 counts as 0).
  (func $inv0 (param $d v128) (result v128)
    (v128.and (f32x4.div (f32x4.splat (f32.const 1)) (local.get $d))
              (f32x4.ne (local.get $d) (f32x4.splat (f32.const 0)))))

  ;; max |x| of the 32 f32 at p.
  (func $blockAbsMax (param $p i32) (result f32)
    (call $hmax (f32x4.pmax
      (f32x4.pmax
        (f32x4.pmax (f32x4.abs (v128.load (local.get $p))) (f32x4.abs (v128.load offset=16 (local.get $p))))
        (f32x4.pmax (f32x4.abs (v128.load offset=32 (local.get $p))) (f32x4.abs (v128.load offset=48 (local.get $p)))))
      (f32x4.pmax
        (f32x4.pmax (f32x4.abs (v128.load offset=64 (local.get $p))) (f32x4.abs (v128.load offset=80 (local.get $p))))
        (f32x4.pmax (f32x4.abs (v128.load offset=96 (local.get $p))) (f32x4.abs (v128.load offset=112 (local.get $p))))))))

  ;; q8_0: d = amax/127, id = 1/d (0 when d = 0), q = roundf(x·id) (halves away from zero), x̂ = q·fp16(d).
  ;; (ggml.ts q8_0)
  (func (export "q8_0") (param $src i32) (param $dst i32) (param $blocks i32) (param $meta i32)
    (local $cb i32) (local $b i32) (local $p i32) (local $k i32) (local $d v128) (local $id v128) (local $dh v128)
    (local $v v128) (local $t v128) (local $c v128) (local $sgn v128) (local $zero v128)
    (local.set $c (f32x4.splat (f32.const 0x1.fffffep-2)))
    (local.set $sgn (i32x4.splat (i32.const 0x80000000)))
    (block $done (loop $chunk
      (br_if $done (i32.le_s (local.get $blocks) (i32.const 0)))
      (local.set $cb (select (i32.const 64) (local.get $blocks) (i32.gt_s (local.get $blocks) (i32.const 64))))
      ;; (A) amax per block
      (local.set $b (i32.const 0))
      (block $ad (loop $al
        (br_if $ad (i32.ge_u (local.get $b) (local.get $cb)))
        (f32.store (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2)))
          (call $blockAbsMax (i32.add (local.get $src) (i32.shl (local.get $b) (i32.const 7)))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $al)))
      ;; (M) d = amax/127; id; fp16(d)
      (local.set $b (i32.const 0))
      (block $md (loop $ml
        (br_if $md (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $p (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2))))
        (local.set $d (f32x4.div (v128.load (local.get $p)) (f32x4.splat (f32.const 127))))
        (v128.store offset=256 (local.get $p) (call $inv0 (local.get $d)))
        (v128.store offset=512 (local.get $p) (call $fp16x4 (local.get $d)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $ml)))
      ;; (B) quantize/dequantize
      (local.set $b (i32.const 0))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $p (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2))))
        (local.set $id (v128.load32_splat offset=256 (local.get $p)))
        (local.set $dh (v128.load32_splat offset=512 (local.get $p)))
        (local.set $k (i32.const 0))
        (block $qd (loop $ql
          (br_if $qd (i32.ge_u (local.get $k) (i32.const 128)))
          (local.set $v (f32x4.mul (v128.load (i32.add (local.get $src) (local.get $k))) (local.get $id)))
          ;; roundf(v) = sign(v)·trunc(|v| + 0.49999997) for |v| ≤ 128 (checked exhaustively over every f32 in
          ;; [0.25, 128]; below 0.25 both are 0); the + 0 turns a −0 into the int8 code's +0
          (local.set $t (f32x4.add (local.get $zero)
            (f32x4.trunc (f32x4.add (local.get $v) (v128.or (local.get $c) (v128.and (local.get $v) (local.get $sgn)))))))
          (v128.store (i32.add (local.get $dst) (local.get $k)) (f32x4.mul (local.get $t) (local.get $dh)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $ql)))
        (local.set $src (i32.add (local.get $src) (i32.const 128)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bl)))
      (local.set $blocks (i32.sub (local.get $blocks) (local.get $cb)))
      (br $chunk))))

  ;; q4_0 / q5_0 (half = 8 / 16): max = the signed value of the first element with the largest |x| (+0 when all
  ;; are zero: ggml's `if (amax < fabsf(v))` never fires); d = max/−half; q = min(2·half − 1, trunc(x·id + half +
  ;; 0.5)); x̂ = (q − half)·fp16(d). (ggml.ts qx_0)
  (func (export "qx_0") (param $src i32) (param $dst i32) (param $blocks i32) (param $half i32) (param $meta i32)
    (local $cb i32) (local $b i32) (local $p i32) (local $k i32) (local $bs i32) (local $msk i32) (local $amax f32)
    (local $max f32) (local $av v128) (local $d v128) (local $id v128) (local $dh v128) (local $off v128)
    (local $top v128) (local $hv v128) (local $nh v128) (local $mxv v128) (local $mnv v128) (local $x v128)
    (local $hi f32) (local $lo f32)
    (local.set $off (f32x4.splat (f32.add (f32.convert_i32_s (local.get $half)) (f32.const 0.5))))
    (local.set $top (f32x4.splat (f32.convert_i32_s (i32.sub (i32.shl (local.get $half) (i32.const 1)) (i32.const 1)))))
    (local.set $hv (f32x4.splat (f32.convert_i32_s (local.get $half))))
    (local.set $nh (f32x4.splat (f32.neg (f32.convert_i32_s (local.get $half)))))
    (block $done (loop $chunk
      (br_if $done (i32.le_s (local.get $blocks) (i32.const 0)))
      (local.set $cb (select (i32.const 64) (local.get $blocks) (i32.gt_s (local.get $blocks) (i32.const 64))))
      ;; (A) signed max per block
      (local.set $b (i32.const 0))
      (block $ad (loop $al
        (br_if $ad (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $bs (i32.add (local.get $src) (i32.shl (local.get $b) (i32.const 7))))
        ;; block max and min; amax = max(mx, −mn). The sign of ggml's `max` only needs the scan order when both
        ;; +amax and −amax occur in the block.
        (local.set $mxv (v128.load (local.get $bs)))
        (local.set $mnv (local.get $mxv))
        (local.set $k (i32.const 16))
        (block $rd (loop $rl
          (br_if $rd (i32.ge_u (local.get $k) (i32.const 128)))
          (local.set $x (v128.load (i32.add (local.get $bs) (local.get $k))))
          (local.set $mxv (f32x4.pmax (local.get $mxv) (local.get $x)))
          (local.set $mnv (f32x4.pmin (local.get $mnv) (local.get $x)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $rl)))
        (local.set $mxv (f32x4.pmax (local.get $mxv) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mxv) (local.get $mxv))))
        (local.set $mxv (f32x4.pmax (local.get $mxv) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $mxv) (local.get $mxv))))
        (local.set $mnv (f32x4.pmin (local.get $mnv) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mnv) (local.get $mnv))))
        (local.set $mnv (f32x4.pmin (local.get $mnv) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $mnv) (local.get $mnv))))
        (local.set $hi (f32x4.extract_lane 0 (local.get $mxv)))
        (local.set $lo (f32.neg (f32x4.extract_lane 0 (local.get $mnv))))
        (local.set $amax (select (local.get $hi) (local.get $lo) (f32.gt (local.get $hi) (local.get $lo))))
        (local.set $max (f32.const 0))
        (if (f32.gt (local.get $amax) (f32.const 0))
          (then
            (if (f32.ne (local.get $hi) (local.get $amax))
              (then (local.set $max (f32.neg (local.get $amax))))
              (else (if (f32.ne (local.get $lo) (local.get $amax))
                (then (local.set $max (local.get $amax)))
                (else
                  ;; both signs: first vector holding |x| = amax, first lane in it
                  (local.set $av (f32x4.splat (local.get $amax)))
                  (local.set $k (i32.const 0))
                  (block $fd (loop $fl
                    (local.set $msk (i32x4.bitmask (f32x4.eq (f32x4.abs (v128.load (i32.add (local.get $bs) (local.get $k)))) (local.get $av))))
                    (br_if $fd (local.get $msk))
                    (local.set $k (i32.add (local.get $k) (i32.const 16)))
                    (br $fl)))
                  (local.set $max (f32.load (i32.add (i32.add (local.get $bs) (local.get $k)) (i32.shl (i32.ctz (local.get $msk)) (i32.const 2)))))))))))
        (f32.store (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2))) (local.get $max))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $al)))
      ;; (M) d = max/−half; id; fp16(d)
      (local.set $b (i32.const 0))
      (block $md (loop $ml
        (br_if $md (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $p (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2))))
        (local.set $d (f32x4.div (v128.load (local.get $p)) (local.get $nh)))
        (v128.store offset=256 (local.get $p) (call $inv0 (local.get $d)))
        (v128.store offset=512 (local.get $p) (call $fp16x4 (local.get $d)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $ml)))
      ;; (B)
      (local.set $b (i32.const 0))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $p (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2))))
        (local.set $id (v128.load32_splat offset=256 (local.get $p)))
        (local.set $dh (v128.load32_splat offset=512 (local.get $p)))
        (local.set $k (i32.const 0))
        (block $qd (loop $ql
          (br_if $qd (i32.ge_u (local.get $k) (i32.const 128)))
          (v128.store (i32.add (local.get $dst) (local.get $k))
            ;; q in float: the operand is ≥ 0.49 so trunc = ggml's (int8_t) cast; q − half is exact (+0 for 0)
            (f32x4.mul
              (f32x4.sub
                ;; pmin(top, t) = t < top ? t : top, the JS ternary (also for NaN: 0·(1/d) when 1/d = inf)
                (f32x4.pmin (local.get $top)
                            (f32x4.trunc (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $src) (local.get $k))) (local.get $id)) (local.get $off))))
                (local.get $hv))
              (local.get $dh)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $ql)))
        (local.set $src (i32.add (local.get $src) (i32.const 128)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bl)))
      (local.set $blocks (i32.sub (local.get $blocks) (local.get $cb)))
      (br $chunk))))

  ;; q4_1 / q5_1 (top = 15 / 31): d = (max − min)/top; q = min(top, trunc((x − min)·id + 0.5)); x̂ = q·fp16(d) +
  ;; fp16(min). (ggml.ts qx_1.) When min or max is ±0 the sign the sequential scan keeps can matter, so that block's
  ;; min/max is redone in scan order (`v < min`, `v > max`, from ±FLT_MAX).
  (func (export "qx_1") (param $src i32) (param $dst i32) (param $blocks i32) (param $top i32) (param $meta i32)
    (local $cb i32) (local $b i32) (local $p i32) (local $k i32) (local $bs i32) (local $mnv v128) (local $mxv v128)
    (local $x v128) (local $mn f32) (local $mx f32) (local $e f32) (local $d v128) (local $mnq v128)
    (local $id v128) (local $dh v128) (local $mh v128) (local $minv v128) (local $tf v128)
    (local.set $tf (f32x4.splat (f32.convert_i32_s (local.get $top))))
    (block $done (loop $chunk
      (br_if $done (i32.le_s (local.get $blocks) (i32.const 0)))
      (local.set $cb (select (i32.const 64) (local.get $blocks) (i32.gt_s (local.get $blocks) (i32.const 64))))
      ;; (A) min, max per block
      (local.set $b (i32.const 0))
      (block $ad (loop $al
        (br_if $ad (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $bs (i32.add (local.get $src) (i32.shl (local.get $b) (i32.const 7))))
        (local.set $mnv (v128.load (local.get $bs)))
        (local.set $mxv (local.get $mnv))
        (local.set $k (i32.const 16))
        (block $sd (loop $sl
          (br_if $sd (i32.ge_u (local.get $k) (i32.const 128)))
          (local.set $x (v128.load (i32.add (local.get $bs) (local.get $k))))
          (local.set $mnv (f32x4.pmin (local.get $x) (local.get $mnv)))
          (local.set $mxv (f32x4.pmax (local.get $x) (local.get $mxv)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $sl)))
        (local.set $mnv (f32x4.pmin (local.get $mnv) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mnv) (local.get $mnv))))
        (local.set $mnv (f32x4.pmin (local.get $mnv) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $mnv) (local.get $mnv))))
        (local.set $mn (f32x4.extract_lane 0 (local.get $mnv)))
        (local.set $mx (call $hmax (local.get $mxv)))
        (if (i32.or (f32.eq (local.get $mn) (f32.const 0)) (f32.eq (local.get $mx) (f32.const 0)))
          (then
            (local.set $mn (f32.const 0x1.fffffep127))
            (local.set $mx (f32.const -0x1.fffffep127))
            (local.set $k (i32.const 0))
            (block $zd (loop $zl
              (br_if $zd (i32.ge_u (local.get $k) (i32.const 128)))
              (local.set $e (f32.load (i32.add (local.get $bs) (local.get $k))))
              (if (f32.lt (local.get $e) (local.get $mn)) (then (local.set $mn (local.get $e))))
              (if (f32.gt (local.get $e) (local.get $mx)) (then (local.set $mx (local.get $e))))
              (local.set $k (i32.add (local.get $k) (i32.const 4)))
              (br $zl)))))
        (local.set $p (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2))))
        (f32.store (local.get $p) (local.get $mn))
        (f32.store offset=256 (local.get $p) (local.get $mx))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $al)))
      ;; (M) d = (max − min)/top; id; fp16(d); fp16(min)
      (local.set $b (i32.const 0))
      (block $md (loop $ml
        (br_if $md (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $p (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2))))
        (local.set $mnq (v128.load (local.get $p)))
        (local.set $d (f32x4.div (f32x4.sub (v128.load offset=256 (local.get $p)) (local.get $mnq)) (local.get $tf)))
        (v128.store offset=512 (local.get $p) (call $inv0 (local.get $d)))
        (v128.store offset=768 (local.get $p) (call $fp16x4 (local.get $d)))
        (v128.store offset=1024 (local.get $p) (call $fp16x4 (local.get $mnq)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $ml)))
      ;; (B)
      (local.set $b (i32.const 0))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $b) (local.get $cb)))
        (local.set $p (i32.add (local.get $meta) (i32.shl (local.get $b) (i32.const 2))))
        (local.set $minv (v128.load32_splat (local.get $p)))
        (local.set $id (v128.load32_splat offset=512 (local.get $p)))
        (local.set $dh (v128.load32_splat offset=768 (local.get $p)))
        (local.set $mh (v128.load32_splat offset=1024 (local.get $p)))
        (local.set $k (i32.const 0))
        (block $qd (loop $ql
          (br_if $qd (i32.ge_u (local.get $k) (i32.const 128)))
          (v128.store (i32.add (local.get $dst) (local.get $k))
            (f32x4.add
              (f32x4.mul
                (f32x4.pmin (local.get $tf) ;; t < top ? t : top, as the JS
                  (f32x4.trunc (f32x4.add
                    (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $src) (local.get $k))) (local.get $minv)) (local.get $id))
                    (f32x4.splat (f32.const 0.5)))))
                (local.get $dh))
              (local.get $mh)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $ql)))
        (local.set $src (i32.add (local.get $src) (i32.const 128)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bl)))
      (local.set $blocks (i32.sub (local.get $blocks) (local.get $cb)))
      (br $chunk))))
)
