;; WebAssembly SIMD kernel of HQQ's zero-point optimizer (hand-written; compiled by scripts/build-wasm.mjs into
;; hqq.generated.ts; loaded by ./hqq.ts). It computes exactly what ../hqq.ts `hqqGroups` computes, operation for
;; operation in float32, so both paths agree bit for bit (tests/unit/lib/quant/hqq-wasm.test.ts): hqq 0.2.8.post1
;; (mobiusml/hqq e0b1d00) `hqq/core/quantize.py` `Quantizer.quantize` + `hqq/core/optimize.py`
;; `optimize_weights_proximal_legacy`, per step (β constant, κ unused since hqq a566c78):
;;   W_q = clamp(round(W·s + z), 0, qmax);  W_r = (W_q − z)/s;  W_e = sign(e)·relu(|e| − (1/β)·|e|^(p−1)), e = W − W_r;
;;   z = mean(W_q − (W − W_e)·s) per group; early stop on the whole-tensor mean |W − W_r| (the loop and the stop test
;;   run in JS, one `hqq_iterate` call per step).
;;
;; Layout ("lane-major"): the loader gathers the tensor so that one v128 holds the same element index of FOUR groups
;; of equal length (lane l of chunk k is virtual group 4k + l). A chunk is `len` consecutive v128 rows (row j =
;; element j of each of its 4 groups, in the groups' member order). Per-group quantities (s, z, sums) are v128s, and
;; each lane sums its group's elements in member order — the order of hqq.ts's sequential loop. Lanes without a group
;; (padding) hold zeros: s = 1, z = −0 give W_q = 0, e = 0, no shrink; their sums are 0 and add nothing.
;;
;; The power |e|^(p−1) (`$pow64`, the same float64 operations as hqq.ts `pow64`): base raised to ≥ the smallest
;; normal f32; log2 from the exponent bits (mantissa m ∈ [√½, √2)) + atanh series in u = (m−1)/(m+1) (8 terms);
;; 2^y = 2^n·Taylor (degree 10, n = nearest(y)); both polynomials in Estrin's scheme (more independent operations
;; than Horner's: ~25 % faster here); result rounded once to f32. A row is sent through it only when some lane has |e| > thr (thr from
;; the caller: below it the shrink is exactly 0, so skipping gives the same W_e = +0 as hqq.ts).
(module
  (memory (export "memory") 1)

  ;; 4-lane a^e (a: f32 lanes ≥ 0, e: f64 in (−1, 0)), rounded to f32.
  (func $pow64 (param $a v128) (param $e f64) (result v128)
    (local $k v128) (local $m v128) (local $lo v128) (local $hi v128)
    (local.set $a (f32x4.pmax (f32x4.splat (f32.const 0x1p-126)) (local.get $a)))
    (local.set $k (i32x4.shr_s (i32x4.sub (local.get $a) (i32x4.splat (i32.const 0x3f3504f3))) (i32.const 23)))
    (local.set $m (i32x4.sub (local.get $a) (i32x4.shl (local.get $k) (i32.const 23))))
    (local.set $lo (call $pow2 (f64x2.promote_low_f32x4 (local.get $m)) (f64x2.convert_low_i32x4_s (local.get $k)) (local.get $e)))
    (local.set $hi (call $pow2
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m)))
      (f64x2.convert_low_i32x4_s (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $k) (local.get $k)))
      (local.get $e)))
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))

  ;; two f64 lanes: (2^k·m)^e = 2^(e·(k + log2 m))
  (func $pow2 (param $m v128) (param $k v128) (param $e f64) (result v128)
    (local $u v128) (local $u2 v128) (local $y v128) (local $n v128) (local $p v128) (local $t2 v128) (local $lg v128)
    (local $p2 v128) (local $p4 v128) (local $q v128)
    (local.set $u (f64x2.div (f64x2.sub (local.get $m) (f64x2.splat (f64.const 1))) (f64x2.add (local.get $m) (f64x2.splat (f64.const 1)))))
    (local.set $u2 (f64x2.mul (local.get $u) (local.get $u)))
    (local.set $t2 (f64x2.mul (local.get $u2) (local.get $u2)))
    (local.set $lg (f64x2.add
      (f64x2.add (f64x2.add (f64x2.splat (f64.const 2.8853900817779268)) (f64x2.mul (f64x2.splat (f64.const 0.96179669392597567)) (local.get $u2))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.57707801635558531)) (f64x2.mul (f64x2.splat (f64.const 0.41219858311113244)) (local.get $u2))) (local.get $t2)))
      (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 0.32059889797532520)) (f64x2.mul (f64x2.splat (f64.const 0.26230818925253879)) (local.get $u2))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.22195308321368670)) (f64x2.mul (f64x2.splat (f64.const 0.19235933878519512)) (local.get $u2))) (local.get $t2)))
        (f64x2.mul (local.get $t2) (local.get $t2)))))
    (local.set $y (f64x2.mul (f64x2.splat (local.get $e)) (f64x2.add (local.get $k) (f64x2.mul (local.get $u) (local.get $lg)))))
    (local.set $n (f64x2.nearest (local.get $y)))
    (local.set $p (f64x2.sub (local.get $y) (local.get $n)))
    (local.set $p2 (f64x2.mul (local.get $p) (local.get $p)))
    (local.set $p4 (f64x2.mul (local.get $p2) (local.get $p2)))
    (local.set $q (f64x2.add
      (f64x2.add
        (f64x2.add (f64x2.add (f64x2.splat (f64.const 1.0000000000000000)) (f64x2.mul (f64x2.splat (f64.const 0.69314718055994529)) (local.get $p))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.24022650695910069)) (f64x2.mul (f64x2.splat (f64.const 0.055504108664821576)) (local.get $p))) (local.get $p2)))
        (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 0.0096181291076284769)) (f64x2.mul (f64x2.splat (f64.const 0.0013333558146428441)) (local.get $p))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.00015403530393381606)) (f64x2.mul (f64x2.splat (f64.const 0.000015252733804059838)) (local.get $p))) (local.get $p2))) (local.get $p4)))
      (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 0.0000013215486790144305)) (f64x2.mul (f64x2.splat (f64.const 1.0178086009239696e-7)) (local.get $p))) (f64x2.mul (f64x2.splat (f64.const 7.0549116208011209e-9)) (local.get $p2))) (f64x2.mul (local.get $p4) (local.get $p4)))))
    (f64x2.mul (local.get $q)
      (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $n))) (i64x2.splat (i64.const 1023)))
        (i32.const 52))))

  ;; Test hook: $count (multiple of 4) f32 values at $src → f32(a^e) at $dst.
  (func (export "hqq_pow") (param $src i32) (param $dst i32) (param $count i32) (param $e f64)
    (local $o i32)
    (block $b
      (loop $l
        (br_if $b (i32.ge_u (local.get $o) (i32.shl (local.get $count) (i32.const 2))))
        (v128.store (i32.add (local.get $dst) (local.get $o)) (call $pow64 (v128.load (i32.add (local.get $src) (local.get $o))) (local.get $e)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $l))))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Initialisation (Quantizer.quantize) fused with the gather. Per chunk k (len = LEN[k] rows):
  ;;   rows: x = X[IDX[slot]] (padding points at a zero), stored lane-major at DL; min/max per lane (pmin/pmax = the
  ;;   JS ternaries) and a NaN/±Inf flag (x − x ≠ 0);
  ;;   per lane, f32: denom = max − min; s = (1/denom)·qmax (torch's `max_v / denom` = reciprocal · max_v), 1 where |denom| ≤ 1e-4, then min(s, 2e4); z = (−min)·s.
  ;; Returns 1 when some element is NaN/±Inf (the caller then runs the JS path, which throws), else 0.
  (func (export "hqq_init") (param $X i32) (param $IDX i32) (param $DL i32) (param $LEN i32) (param $chunks i32)
    (param $qmax f32) (param $S i32) (param $Z i32) (result i32)
    (local $k i32) (local $p i32) (local $ix i32) (local $end i32) (local $o16 i32)
    (local $x v128) (local $iv v128) (local $mn v128) (local $mx v128) (local $bad v128) (local $dn v128) (local $s v128)
    (local.set $p (local.get $DL))
    (local.set $ix (local.get $IDX))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $k) (local.get $chunks)))
        (local.set $end (i32.add (local.get $p) (i32.shl (i32.load (i32.add (local.get $LEN) (i32.shl (local.get $k) (i32.const 2))))
          (i32.const 4))))
        (local.set $mn (f32x4.splat (f32.const inf)))
        (local.set $mx (f32x4.splat (f32.const -inf)))
        (loop $rows
          (local.set $iv (i32x4.shl (v128.load (local.get $ix)) (i32.const 2)))
          (local.set $x (v128.load32_zero (i32.add (local.get $X) (i32x4.extract_lane 0 (local.get $iv)))))
          (local.set $x (f32x4.replace_lane 1 (local.get $x) (f32.load (i32.add (local.get $X) (i32x4.extract_lane 1 (local.get $iv))))))
          (local.set $x (f32x4.replace_lane 2 (local.get $x) (f32.load (i32.add (local.get $X) (i32x4.extract_lane 2 (local.get $iv))))))
          (local.set $x (f32x4.replace_lane 3 (local.get $x) (f32.load (i32.add (local.get $X) (i32x4.extract_lane 3 (local.get $iv))))))
          (v128.store (local.get $p) (local.get $x))
          (local.set $mn (f32x4.pmin (local.get $mn) (local.get $x)))
          (local.set $mx (f32x4.pmax (local.get $mx) (local.get $x)))
          (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
          (local.set $ix (i32.add (local.get $ix) (i32.const 16)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $rows (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $dn (f32x4.sub (local.get $mx) (local.get $mn)))
        (local.set $s (f32x4.mul (f32x4.div (f32x4.splat (f32.const 1)) (local.get $dn)) (f32x4.splat (local.get $qmax))))
        (local.set $s (v128.bitselect (f32x4.splat (f32.const 1)) (local.get $s)
          (f32x4.le (f32x4.abs (local.get $dn)) (f32x4.splat (f32.const 1e-4)))))
        (local.set $s (f32x4.pmin (local.get $s) (f32x4.splat (f32.const 2e4))))
        (local.set $o16 (i32.shl (local.get $k) (i32.const 4)))
        (v128.store (i32.add (local.get $S) (local.get $o16)) (local.get $s))
        (v128.store (i32.add (local.get $Z) (local.get $o16)) (f32x4.mul (f32x4.neg (local.get $mn)) (local.get $s)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $chunk)))
    (v128.any_true (local.get $bad)))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; One optimizer step (optimize_weights_proximal_legacy_step) over all chunks, f32 as hqq.ts:
  ;;   v = x·s + z;  q = round(clamp(v, 0, qmax));  e = x − (q − z)/s;  a = |e|;  Σa;
  ;;   W_e = 0, or (rows where some lane has a > thr) sign(e)·u where u = a − (1/β)·f32(a^(p−1)) > 0;
  ;;   Σ(q − (x − W_e)·s);  z ← that sum / len.
  ;; Returns Σ over groups (lane order) of the f32 sums Σa, in f64 (the caller divides by n).
  (func (export "hqq_iterate") (param $DL i32) (param $LEN i32) (param $chunks i32) (param $S i32) (param $Z i32)
    (param $qmax f32) (param $invBeta f32) (param $pm1 f64) (param $thr f32) (result f64)
    (local $k i32) (local $p i32) (local $end i32) (local $len i32) (local $o16 i32)
    (local $qm v128) (local $ib v128) (local $th v128) (local $s v128) (local $z v128) (local $ea v128) (local $za v128)
    (local $x v128) (local $q v128) (local $e v128) (local $a v128) (local $u v128) (local $we v128) (local $err f64)
    (local.set $qm (f32x4.splat (local.get $qmax)))
    (local.set $ib (f32x4.splat (local.get $invBeta)))
    (local.set $th (f32x4.splat (local.get $thr)))
    (local.set $p (local.get $DL))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $k) (local.get $chunks)))
        (local.set $len (i32.load (i32.add (local.get $LEN) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $len) (i32.const 4))))
        (local.set $o16 (i32.shl (local.get $k) (i32.const 4)))
        (local.set $s (v128.load (i32.add (local.get $S) (local.get $o16))))
        (local.set $z (v128.load (i32.add (local.get $Z) (local.get $o16))))
        (local.set $ea (v128.const i32x4 0 0 0 0))
        (local.set $za (v128.const i32x4 0 0 0 0))
        (loop $rows
          (local.set $x (v128.load (local.get $p)))
          (local.set $q (f32x4.nearest (f32x4.pmin (local.get $qm) (f32x4.pmax (v128.const i32x4 0 0 0 0)
            (f32x4.add (f32x4.mul (local.get $x) (local.get $s)) (local.get $z))))))
          (local.set $e (f32x4.sub (local.get $x) (f32x4.div (f32x4.sub (local.get $q) (local.get $z)) (local.get $s))))
          (local.set $a (f32x4.abs (local.get $e)))
          (local.set $ea (f32x4.add (local.get $ea) (local.get $a)))
          (local.set $we (v128.const i32x4 0 0 0 0))
          (if (v128.any_true (f32x4.gt (local.get $a) (local.get $th)))
            (then
              (local.set $u (f32x4.sub (local.get $a) (f32x4.mul (local.get $ib) (call $pow64 (local.get $a) (local.get $pm1)))))
              ;; sign(e)·u where u > 0, else +0
              (local.set $we (v128.and (v128.or (local.get $u) (v128.xor (local.get $e) (local.get $a)))
                (f32x4.gt (local.get $u) (v128.const i32x4 0 0 0 0))))))
          (local.set $za (f32x4.add (local.get $za)
            (f32x4.sub (local.get $q) (f32x4.mul (f32x4.sub (local.get $x) (local.get $we)) (local.get $s)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $rows (i32.lt_u (local.get $p) (local.get $end))))
        (v128.store (i32.add (local.get $Z) (local.get $o16))
          (f32x4.div (local.get $za) (f32x4.splat (f32.convert_i32_u (local.get $len)))))
        (local.set $err (f64.add (local.get $err) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $ea)))))
        (local.set $err (f64.add (local.get $err) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $ea)))))
        (local.set $err (f64.add (local.get $err) (f64.promote_f32 (f32x4.extract_lane 2 (local.get $ea)))))
        (local.set $err (f64.add (local.get $err) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $ea)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $chunk)))
    (local.get $err))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Metadata rounding (two f64 lanes), copied from kernel.wat (the exact transcription of ../fp16.ts, tested there
  ;; against roundToFp16Saturating / roundToFp32Saturating).
  (func $fp16 (param $x v128) (result v128)
    (local $a v128) (local $e v128) (local $q v128) (local $r v128)
    (local.set $a (f64x2.abs (local.get $x)))
    (local.set $e (i64x2.shr_u (local.get $a) (i32.const 52)))
    (local.set $e (v128.bitselect (local.get $e) (i64x2.splat (i64.const 1009))
      (i64x2.gt_s (local.get $e) (i64x2.splat (i64.const 1009)))))
    (local.set $q (i64x2.shl (i64x2.sub (local.get $e) (i64x2.splat (i64.const 10))) (i32.const 52)))
    (local.set $r (f64x2.mul (f64x2.sub (f64x2.add (f64x2.mul (local.get $a)
      (i64x2.shl (i64x2.sub (i64x2.splat (i64.const 2056)) (local.get $e)) (i32.const 52)))
      (f64x2.splat (f64.const 6755399441055744))) (f64x2.splat (f64.const 6755399441055744))) (local.get $q)))
    (local.set $r (v128.bitselect (f64x2.splat (f64.const 65504)) (local.get $r)
      (f64x2.ge (local.get $a) (f64x2.splat (f64.const 65520)))))
    (v128.or (local.get $r) (v128.and (local.get $x) (v128.const i64x2 0x8000000000000000 0x8000000000000000))))

  (func $fp32 (param $x v128) (result v128)
    (local $r v128)
    (local.set $r (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (local.get $x))))
    (v128.bitselect
      (v128.or (f64x2.splat (f64.const 0x1.fffffep+127))
        (v128.and (local.get $x) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))
      (local.get $r)
      (f64x2.eq (f64x2.abs (local.get $r)) (f64x2.splat (f64.const inf)))))

  ;; 4 f32 lanes → R(lane) (fp16, or with $is32 fp32, saturating), as f32 lanes
  (func $meta4 (param $x v128) (param $is32 i32) (result v128)
    (local $lo v128) (local $hi v128)
    (local.set $lo (f64x2.promote_low_f32x4 (local.get $x)))
    (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
    (if (local.get $is32)
      (then (local.set $lo (call $fp32 (local.get $lo))) (local.set $hi (call $fp32 (local.get $hi))))
      (else (local.set $lo (call $fp16 (local.get $lo))) (local.set $hi (call $fp16 (local.get $hi)))))
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Final quantization with the optimised zero (Quantizer.quantize after the optimizer): per chunk, stored meta
  ;; scale = R(1/s), zero = R(z) at SC/ZR (f32); per row W_q = clamp(round(x·s + z)), x̂ = clamp((W_q − zero)·scale,
  ;; ±F32_MAX) in f32, scattered back through IDX to the original element order (f32 at OUT, u8 codes at OUTC;
  ;; padding slots write to a dummy element).
  (func (export "hqq_final") (param $DL i32) (param $IDX i32) (param $LEN i32) (param $chunks i32) (param $S i32)
    (param $Z i32) (param $qmax f32) (param $is32 i32) (param $OUT i32) (param $OUTC i32) (param $SC i32) (param $ZR i32)
    (local $k i32) (local $p i32) (local $ix i32) (local $end i32) (local $o16 i32)
    (local $qm v128) (local $s v128) (local $z v128) (local $sc v128) (local $zr v128)
    (local $q v128) (local $y v128) (local $c v128) (local $iv v128)
    (local.set $qm (f32x4.splat (local.get $qmax)))
    (local.set $p (local.get $DL))
    (local.set $ix (local.get $IDX))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $k) (local.get $chunks)))
        (local.set $end (i32.add (local.get $p) (i32.shl (i32.load (i32.add (local.get $LEN) (i32.shl (local.get $k) (i32.const 2))))
          (i32.const 4))))
        (local.set $o16 (i32.shl (local.get $k) (i32.const 4)))
        (local.set $s (v128.load (i32.add (local.get $S) (local.get $o16))))
        (local.set $z (v128.load (i32.add (local.get $Z) (local.get $o16))))
        (local.set $sc (call $meta4 (f32x4.div (f32x4.splat (f32.const 1)) (local.get $s)) (local.get $is32)))
        (local.set $zr (call $meta4 (local.get $z) (local.get $is32)))
        (v128.store (i32.add (local.get $SC) (local.get $o16)) (local.get $sc))
        (v128.store (i32.add (local.get $ZR) (local.get $o16)) (local.get $zr))
        (loop $rows
          (local.set $q (f32x4.nearest (f32x4.pmin (local.get $qm) (f32x4.pmax (v128.const i32x4 0 0 0 0)
            (f32x4.add (f32x4.mul (v128.load (local.get $p)) (local.get $s)) (local.get $z))))))
          (local.set $y (f32x4.mul (f32x4.sub (local.get $q) (local.get $zr)) (local.get $sc)))
          (local.set $y (f32x4.pmax (f32x4.splat (f32.const -0x1.fffffep+127)) (f32x4.pmin (f32x4.splat (f32.const 0x1.fffffep+127)) (local.get $y))))
          (local.set $c (i32x4.trunc_sat_f32x4_u (local.get $q)))
          (local.set $iv (v128.load (local.get $ix)))
          (f32.store (i32.add (local.get $OUT) (i32.shl (i32x4.extract_lane 0 (local.get $iv)) (i32.const 2)))
            (f32x4.extract_lane 0 (local.get $y)))
          (f32.store (i32.add (local.get $OUT) (i32.shl (i32x4.extract_lane 1 (local.get $iv)) (i32.const 2)))
            (f32x4.extract_lane 1 (local.get $y)))
          (f32.store (i32.add (local.get $OUT) (i32.shl (i32x4.extract_lane 2 (local.get $iv)) (i32.const 2)))
            (f32x4.extract_lane 2 (local.get $y)))
          (f32.store (i32.add (local.get $OUT) (i32.shl (i32x4.extract_lane 3 (local.get $iv)) (i32.const 2)))
            (f32x4.extract_lane 3 (local.get $y)))
          (i32.store8 (i32.add (local.get $OUTC) (i32x4.extract_lane 0 (local.get $iv))) (i32x4.extract_lane 0 (local.get $c)))
          (i32.store8 (i32.add (local.get $OUTC) (i32x4.extract_lane 1 (local.get $iv))) (i32x4.extract_lane 1 (local.get $c)))
          (i32.store8 (i32.add (local.get $OUTC) (i32x4.extract_lane 2 (local.get $iv))) (i32x4.extract_lane 2 (local.get $c)))
          (i32.store8 (i32.add (local.get $OUTC) (i32x4.extract_lane 3 (local.get $iv))) (i32x4.extract_lane 3 (local.get $c)))
          (local.set $ix (i32.add (local.get $ix) (i32.const 16)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $rows (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $chunk))))
)
