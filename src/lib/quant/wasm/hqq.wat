;; WebAssembly SIMD kernel of HQQ's zero-point optimizer (hand-written; compiled by scripts/build-wasm.mjs into
;; hqq.generated.ts; loaded by ./hqq.ts). The JS kernel ../hqq.ts (float64) is the reference for the semantics:
;; hqq/core/optimize.py `optimize_weights_proximal_legacy` — per iteration W_q = clamp(round(W·s + z)),
;; W_r = (W_q − z)/s, W_e = shrink_lp(W − W_r) with |x|^(p−1)/β, z = mean(W_q − (W − W_e)·s) per group, β ← β·κ,
;; early stop on the whole-tensor mean |W − W_r| (the loop and the stop test run in JS, one `hqq_iterate` call per
;; iteration). This kernel computes in f32 like HQQ itself on CPU; tests/unit/lib/quant/hqq-wasm.test.ts bounds the
;; differences from the float64 reference.
;;
;; Layout ("lane-major"): the loader gathers the tensor so that one v128 holds the same element index of FOUR groups
;; (lane l of chunk k is group 4k + l, in the loader's virtual group order). A chunk is `len` consecutive v128 rows
;; (row j = element j of each of its 4 groups). Token axis: 4 consecutive groups of G; channel axis (KIVI): 4
;; consecutive channels of one (head, token block) — len = the block's token count. So every per-group quantity
;; (z, s, sums) is itself a v128 and no horizontal reduction is needed in the hot loop. Lanes without a group
;; (padding) hold zeros: with s = 1, z = 0 they give W_q = 0, e = 0 and shrink 0, contributing nothing to any sum.
;;
;; Code units. With d = f32((W − min)·s) (computed once, in f64, rounded once) and z' = z − z0 (z0 = −min·s, the
;; initial zero, kept in f64 by the loader), W·s + z = d + z'. Writing r = d + z' − W_q (= (W − W_r)·s, i.e. the
;; error in code units) one iteration becomes
;;   |W − W_r|           = |r| / s
;;   W_e·s               = sign(r)·relu(|r| − |r|^(p−1) · s^(2−p)/β)      (|e|^(p−1)/β·s = |r|^(p−1)·s^(1−p)·s/β)
;;   z'_new              = (Σ(W_q − d) + Σ W_e·s)/len   (= z' + mean(W_e·s − r), but summed in this form: when no
;;                         code changes and every shrink is 0 it reproduces z' bit for bit, so the error stays
;;                         exactly equal and the early stop fires at the same iteration as the float64 reference)
;; Subtracting min first keeps the f32 values small (≤ 2^b − 1 + |z'|): W·s itself can be ~2e4 (s capped at 2e4) with
;; z ≈ −W·s, whose cancellation in f32 would cost ~1e-3 code units.
;;
;; |r|^(p−1) = 2^((p−1)·log2|r|), vectorised: log2 from the exponent bits (mantissa m ∈ [√½, √2)) plus
;; u·P(u²), u = (m−1)/(m+1) (atanh series, minimax coefficients: |error| ≤ 5.6e-6 in log2); 2^y as 2^n·Q(f),
;; n = round(y), f ∈ [−½, ½], Q a degree-4 minimax polynomial (relative error ≤ 2.6e-6), 2^n added to the exponent
;; bits. Relative error of the power ≲ 5e-6 for 0.05 ≤ p < 1 (measured against Math.pow by the test). |r| = 0 and
;; subnormals give log2 ≈ −127, a large but finite power, so relu(|r| − …) = 0 as in the reference (|0|^(p−1) = ∞).
;; For p ≥ 0.05, |y| ≤ 0.95·128 < 126 so 2^n never leaves the normal range (the loader falls back otherwise).
(module
  (memory (export "memory") 1)

  ;; ---------------------------------------------------------------------------------------------------------
  ;; 4-lane a^e for a > 0 (or 0) with the same log2/exp2 approximation as the hot loop, the exponent clamped to the
  ;; normal range: used once per call for s^(2−p) (s may be as small as ~1e-38, the power would underflow).
  (func $pow4 (param $a v128) (param $e f32) (result v128)
    (local $k v128) (local $m v128) (local $u v128) (local $y v128) (local $n v128) (local $f v128) (local $q v128)
    (local.set $k (i32x4.shr_s (i32x4.sub (local.get $a) (i32x4.splat (i32.const 0x3f3504f3))) (i32.const 23)))
    (local.set $m (i32x4.sub (local.get $a) (i32x4.shl (local.get $k) (i32.const 23))))
    (local.set $u (f32x4.div (f32x4.sub (local.get $m) (f32x4.splat (f32.const 1))) (f32x4.add (local.get $m) (f32x4.splat (f32.const 1)))))
    (local.set $y (f32x4.add (f32x4.convert_i32x4_s (local.get $k))
      (f32x4.mul (local.get $u) (f32x4.add (f32x4.splat (f32.const 2.885228864924752))
        (f32x4.mul (f32x4.mul (local.get $u) (local.get $u)) (f32x4.splat (f32.const 0.9835145718454607)))))))
    (local.set $y (f32x4.mul (local.get $y) (f32x4.splat (local.get $e))))
    (local.set $y (f32x4.pmax (f32x4.splat (f32.const -126)) (f32x4.pmin (f32x4.splat (f32.const 126)) (local.get $y))))
    (local.set $n (f32x4.nearest (local.get $y)))
    (local.set $f (f32x4.sub (local.get $y) (local.get $n)))
    (local.set $q (f32x4.add (f32x4.splat (f32.const 0.9999992611882117)) (f32x4.mul (local.get $f)
      (f32x4.add (f32x4.splat (f32.const 0.6931218099610299)) (f32x4.mul (local.get $f)
        (f32x4.add (f32x4.splat (f32.const 0.24024745458690272)) (f32x4.mul (local.get $f)
          (f32x4.add (f32x4.splat (f32.const 0.05591790116284253))
            (f32x4.mul (local.get $f) (f32x4.splat (f32.const 0.009570086464882907)))))))))))
    (i32x4.add (local.get $q) (i32x4.shl (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32.const 23))))

  ;; Test hook: $count (multiple of 4) values at $src → $src^$e at $dst (f32).
  (func (export "hqq_pow") (param $src i32) (param $dst i32) (param $count i32) (param $e f32)
    (local $o i32)
    (block $b
      (loop $l
        (br_if $b (i32.ge_u (local.get $o) (i32.shl (local.get $count) (i32.const 2))))
        (v128.store (i32.add (local.get $dst) (local.get $o)) (call $pow4 (v128.load (i32.add (local.get $src) (local.get $o))) (local.get $e)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $l))))

  ;; The hot loop's power, exported as a test hook (the same code as in hqq_iterate, no exponent clamp): $count values.
  (func (export "hqq_pow_fast") (param $src i32) (param $dst i32) (param $count i32) (param $pm1 f32)
    (local $o i32) (local $a v128)
    (local $off v128) (local $one v128) (local $pm v128) (local $mg v128)
    (local $L1 v128) (local $L3 v128) (local $E0 v128) (local $E1 v128) (local $E2 v128) (local $E3 v128) (local $E4 v128)
    (local $kk v128) (local $m v128) (local $u v128) (local $y v128) (local $n v128) (local $f v128) (local $w v128)
    (local.set $off (i32x4.splat (i32.const 0x3f3504f3)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $mg (f32x4.splat (f32.const 0x1.8p23)))
    (local.set $pm (f32x4.splat (local.get $pm1)))
    ;; log2 coefficients pre-multiplied by p − 1: y = (p−1)·k + u·((p−1)·L1 + u²·(p−1)·L3)
    (local.set $L1 (f32x4.splat (f32.mul (local.get $pm1) (f32.const 2.885228864924752))))
    (local.set $L3 (f32x4.splat (f32.mul (local.get $pm1) (f32.const 0.9835145718454607))))
    (local.set $E0 (f32x4.splat (f32.const 0.9999992611882117)))
    (local.set $E1 (f32x4.splat (f32.const 0.6931218099610299)))
    (local.set $E2 (f32x4.splat (f32.const 0.24024745458690272)))
    (local.set $E3 (f32x4.splat (f32.const 0.05591790116284253)))
    (local.set $E4 (f32x4.splat (f32.const 0.009570086464882907)))
    (block $b
      (loop $l
        (br_if $b (i32.ge_u (local.get $o) (i32.shl (local.get $count) (i32.const 2))))
        (local.set $a (v128.load (i32.add (local.get $src) (local.get $o))))
        (local.set $kk (i32x4.shr_s (i32x4.sub (local.get $a) (local.get $off)) (i32.const 23)))
        (local.set $m (i32x4.sub (local.get $a) (i32x4.shl (local.get $kk) (i32.const 23))))
        (local.set $u (f32x4.div (f32x4.sub (local.get $m) (local.get $one)) (f32x4.add (local.get $m) (local.get $one))))
        (local.set $y (f32x4.add (f32x4.mul (f32x4.convert_i32x4_s (local.get $kk)) (local.get $pm))
          (f32x4.mul (local.get $u) (f32x4.add (local.get $L1) (f32x4.mul (f32x4.mul (local.get $u) (local.get $u)) (local.get $L3))))))
        ;; 2^y: n = round(y) by adding 1.5·2^23 (|y| < 2^22; ties to even), whose low mantissa bits are then n, so
        ;; shifting its bits left by 23 gives n << 23 (the 1.5·2^23 bits shift out) — no float→int conversion.
        (local.set $kk (f32x4.add (local.get $y) (local.get $mg)))
        (local.set $f (f32x4.sub (local.get $y) (f32x4.sub (local.get $kk) (local.get $mg))))
        (local.set $w (f32x4.add (local.get $E0) (f32x4.mul (local.get $f)
          (f32x4.add (local.get $E1) (f32x4.mul (local.get $f)
            (f32x4.add (local.get $E2) (f32x4.mul (local.get $f)
              (f32x4.add (local.get $E3) (f32x4.mul (local.get $f) (local.get $E4))))))))))
        (local.set $w (i32x4.add (local.get $w) (i32x4.shl (local.get $kk) (i32.const 23))))
        (v128.store (i32.add (local.get $dst) (local.get $o)) (local.get $w))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $l))))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Initialisation (Quantizer.quantize) fused with the gather. Per chunk k (len = LEN[k] rows):
  ;;   rows: x = X[IDX[slot]] (element indices; padding points at a zero), stored lane-major at DL; min/max per lane
  ;;   (pmin/pmax = the JS ternaries) and a NaN/±Inf flag (x − x ≠ 0).
  ;;   per group, in f64 exactly as hqq.ts: s = qmax/(max − min), 1 where |max − min| ≤ 1e-4, capped at 2e4;
  ;;   z0 = −min·s.  Writes S64 = s, IS = 1/s, Z0 = z0 (f64), ZP = 0 (z' = z − z0), S32 = f32(s), C = f32(s)^(2−p).
  ;;   rows again (still in L1): d = f32((x − min)·s) in f64, over x.
  ;; Returns 1 when some element is NaN/±Inf (the caller then runs the JS path, which throws), else 0.
  (func (export "hqq_init") (param $X i32) (param $IDX i32) (param $DL i32) (param $LEN i32) (param $chunks i32)
    (param $qmax f64) (param $e2p f32) (param $ZP i32) (param $C i32) (param $IS i32) (param $S64 i32) (param $Z0 i32)
    (param $S32 i32) (result i32)
    (local $k i32) (local $p i32) (local $ix i32) (local $row0 i32) (local $end i32) (local $o16 i32) (local $o32 i32)
    (local $x v128) (local $iv v128) (local $mn v128) (local $mx v128) (local $bad v128)
    (local $mnl v128) (local $mnh v128) (local $dl v128) (local $dh v128) (local $sl v128) (local $sh v128)
    (local.set $p (local.get $DL))
    (local.set $ix (local.get $IDX))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $k) (local.get $chunks)))
        (local.set $row0 (local.get $p))
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
        ;; per-group parameters, lanes 0–1 then 2–3, in f64
        (local.set $mnl (f64x2.promote_low_f32x4 (local.get $mn)))
        (local.set $mnh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mn) (local.get $mn))))
        (local.set $dl (f64x2.sub (f64x2.promote_low_f32x4 (local.get $mx)) (local.get $mnl)))
        (local.set $dh (f64x2.sub (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mx) (local.get $mx))) (local.get $mnh)))
        (local.set $sl (f64x2.div (f64x2.splat (local.get $qmax)) (local.get $dl)))
        (local.set $sh (f64x2.div (f64x2.splat (local.get $qmax)) (local.get $dh)))
        (local.set $sl (v128.bitselect (f64x2.splat (f64.const 1)) (local.get $sl)
          (f64x2.le (f64x2.abs (local.get $dl)) (f64x2.splat (f64.const 1e-4)))))
        (local.set $sh (v128.bitselect (f64x2.splat (f64.const 1)) (local.get $sh)
          (f64x2.le (f64x2.abs (local.get $dh)) (f64x2.splat (f64.const 1e-4)))))
        (local.set $sl (f64x2.pmin (local.get $sl) (f64x2.splat (f64.const 2e4))))
        (local.set $sh (f64x2.pmin (local.get $sh) (f64x2.splat (f64.const 2e4))))
        (local.set $o16 (i32.shl (local.get $k) (i32.const 4)))
        (local.set $o32 (i32.shl (local.get $k) (i32.const 5)))
        (v128.store (i32.add (local.get $S64) (local.get $o32)) (local.get $sl))
        (v128.store offset=16 (i32.add (local.get $S64) (local.get $o32)) (local.get $sh))
        (v128.store (i32.add (local.get $IS) (local.get $o32)) (f64x2.div (f64x2.splat (f64.const 1)) (local.get $sl)))
        (v128.store offset=16 (i32.add (local.get $IS) (local.get $o32)) (f64x2.div (f64x2.splat (f64.const 1)) (local.get $sh)))
        (v128.store (i32.add (local.get $Z0) (local.get $o32)) (f64x2.mul (f64x2.neg (local.get $mnl)) (local.get $sl)))
        (v128.store offset=16 (i32.add (local.get $Z0) (local.get $o32)) (f64x2.mul (f64x2.neg (local.get $mnh)) (local.get $sh)))
        (v128.store (i32.add (local.get $ZP) (local.get $o16)) (v128.const i32x4 0 0 0 0))
        (local.set $x (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $sl)) (f32x4.demote_f64x2_zero (local.get $sh))))
        (v128.store (i32.add (local.get $S32) (local.get $o16)) (local.get $x))
        (v128.store (i32.add (local.get $C) (local.get $o16)) (call $pow4 (local.get $x) (local.get $e2p)))
        ;; d = f32((x − min)·s)
        (local.set $p (local.get $row0))
        (loop $rows2
          (local.set $x (v128.load (local.get $p)))
          (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $x)) (local.get $mnl)) (local.get $sl)))
            (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))) (local.get $mnh)) (local.get $sh)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $rows2 (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $chunk)))
    (v128.any_true (local.get $bad)))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; One proximal iteration over all chunks (see the header for the code-unit form), in two passes per chunk
  ;; (z' = ZP, shrink coefficient cb = C·(1/β), threshold ts = thr·S32):
  ;;   pass 1, every row (4 groups): v = d + z';  q = round(clamp(v, 0, qmax));  r = v − q;  a = |r|;  Σa;  Σ(q − d);
  ;;     r is stored at the end of a list (LST) whose end advances only when some lane has a > ts;
  ;;   pass 2, the listed rows: w = relu(a − a^(p−1)·cb) with the sign of r;  Σw.
  ;; A row left out has a ≤ thr·s in all 4 lanes (thr = β^(−1/(2−p)) less a margin 1e-5, from the caller), i.e.
  ;; shrink exactly 0 (|e| ≤ β^(−1/(2−p)) ⇔ |e| − |e|^(p−1)/β ≤ 0; the margin exceeds the power's error), so Σw is
  ;; the same, bit for bit, as over all rows in order. Then ZP = (Σ(q − d) + Σw)/len (unchanged, bit for bit, when no
  ;; code changes and every shrink is 0: see the header) and the error Σ_groups (Σa)/s accumulates in f64. Returns
  ;; Σ|W − W_r| over the tensor (the caller divides by n and runs the early-stop test). round = f32x4.nearest (ties
  ;; to even, as the reference's `+ M − M`); clamp with pmax/pmin (−0 → +0, as there).
  ;; Why two passes: the branch-free list costs nothing per skipped row (≥ 4 bits skip 50–95 % of the rows, with no
  ;; mispredicted branch each), and even when every row needs the power (2 bits) the two short loops beat one long
  ;; one (~1.12× measured): each keeps its constants in registers (one fused loop had 18+ live v128 values).
  (func (export "hqq_iterate") (param $DL i32) (param $LEN i32) (param $chunks i32) (param $ZP i32) (param $C i32)
    (param $IS i32) (param $qmax f32) (param $invBeta f32) (param $pm1 f32) (param $thr f32) (param $S32 i32)
    (param $LST i32) (result f64)
    (local $k i32) (local $p i32) (local $end i32) (local $len i32) (local $o16 i32) (local $o32 i32) (local $lp i32)
    (local $qm v128) (local $z v128) (local $cb v128) (local $ea v128) (local $zq v128) (local $zw v128) (local $e64 v128)
    (local $d v128) (local $v v128) (local $q v128) (local $r v128) (local $sg v128) (local $a v128) (local $ts v128)
    (local $off v128) (local $one v128) (local $pm v128) (local $mg v128)
    (local $L1 v128) (local $L3 v128) (local $E0 v128) (local $E1 v128) (local $E2 v128) (local $E3 v128) (local $E4 v128)
    (local $kk v128) (local $m v128) (local $u v128) (local $y v128) (local $n v128) (local $f v128) (local $w v128)
    (local.set $qm (f32x4.splat (local.get $qmax)))
    (local.set $off (i32x4.splat (i32.const 0x3f3504f3)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $mg (f32x4.splat (f32.const 0x1.8p23)))
    (local.set $pm (f32x4.splat (local.get $pm1)))
    ;; log2 coefficients pre-multiplied by p − 1: y = (p−1)·k + u·((p−1)·L1 + u²·(p−1)·L3)
    (local.set $L1 (f32x4.splat (f32.mul (local.get $pm1) (f32.const 2.885228864924752))))
    (local.set $L3 (f32x4.splat (f32.mul (local.get $pm1) (f32.const 0.9835145718454607))))
    (local.set $E0 (f32x4.splat (f32.const 0.9999992611882117)))
    (local.set $E1 (f32x4.splat (f32.const 0.6931218099610299)))
    (local.set $E2 (f32x4.splat (f32.const 0.24024745458690272)))
    (local.set $E3 (f32x4.splat (f32.const 0.05591790116284253)))
    (local.set $E4 (f32x4.splat (f32.const 0.009570086464882907)))
    (local.set $p (local.get $DL))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $k) (local.get $chunks)))
        (local.set $len (i32.load (i32.add (local.get $LEN) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $len) (i32.const 4))))
        (local.set $o16 (i32.shl (local.get $k) (i32.const 4)))
        (local.set $z (v128.load (i32.add (local.get $ZP) (local.get $o16))))
        (local.set $cb (f32x4.mul (v128.load (i32.add (local.get $C) (local.get $o16))) (f32x4.splat (local.get $invBeta))))
        (local.set $ea (v128.const i32x4 0 0 0 0))
        (local.set $zq (v128.const i32x4 0 0 0 0))
        (local.set $zw (v128.const i32x4 0 0 0 0))
        (local.set $ts (f32x4.mul (v128.load (i32.add (local.get $S32) (local.get $o16))) (f32x4.splat (local.get $thr))))
        ;; pass 1: codes, errors, Σ(q − d); r stored at the list end, the end advanced when some lane needs the power
        (local.set $lp (local.get $LST))
        (loop $rows
          (local.set $d (v128.load (local.get $p)))
          (local.set $v (f32x4.add (local.get $d) (local.get $z)))
          (local.set $q (f32x4.nearest (f32x4.pmin (local.get $qm) (f32x4.pmax (v128.const i32x4 0 0 0 0) (local.get $v)))))
          (local.set $r (f32x4.sub (local.get $v) (local.get $q)))
          (local.set $zq (f32x4.add (local.get $zq) (f32x4.sub (local.get $q) (local.get $d))))
          (local.set $a (f32x4.abs (local.get $r)))
          (local.set $ea (f32x4.add (local.get $ea) (local.get $a)))
          (v128.store (local.get $lp) (local.get $r))
          (local.set $lp (i32.add (local.get $lp) (i32.shl (v128.any_true (f32x4.gt (local.get $a) (local.get $ts))) (i32.const 4))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $rows (i32.lt_u (local.get $p) (local.get $end))))
        ;; pass 2: the power and the shrink on the listed rows (in row order; the rows left out would add ±0)
        (local.set $end (local.get $lp))
        (local.set $lp (local.get $LST))
        (block $none
          (br_if $none (i32.ge_u (local.get $lp) (local.get $end)))
          (loop $list
            (local.set $r (v128.load (local.get $lp)))
            (local.set $a (f32x4.abs (local.get $r)))
            (local.set $sg (v128.xor (local.get $r) (local.get $a)))
            (local.set $kk (i32x4.shr_s (i32x4.sub (local.get $a) (local.get $off)) (i32.const 23)))
            (local.set $m (i32x4.sub (local.get $a) (i32x4.shl (local.get $kk) (i32.const 23))))
            (local.set $u (f32x4.div (f32x4.sub (local.get $m) (local.get $one)) (f32x4.add (local.get $m) (local.get $one))))
            (local.set $y (f32x4.add (f32x4.mul (f32x4.convert_i32x4_s (local.get $kk)) (local.get $pm))
              (f32x4.mul (local.get $u) (f32x4.add (local.get $L1) (f32x4.mul (f32x4.mul (local.get $u) (local.get $u)) (local.get $L3))))))
            ;; 2^y: n = round(y) by adding 1.5·2^23 (|y| < 2^22; ties to even), whose low mantissa bits are then n, so
            ;; shifting its bits left by 23 gives n << 23 (the 1.5·2^23 bits shift out) — no float→int conversion.
            (local.set $kk (f32x4.add (local.get $y) (local.get $mg)))
            (local.set $f (f32x4.sub (local.get $y) (f32x4.sub (local.get $kk) (local.get $mg))))
            (local.set $w (f32x4.add (local.get $E0) (f32x4.mul (local.get $f)
              (f32x4.add (local.get $E1) (f32x4.mul (local.get $f)
                (f32x4.add (local.get $E2) (f32x4.mul (local.get $f)
                  (f32x4.add (local.get $E3) (f32x4.mul (local.get $f) (local.get $E4))))))))))
            (local.set $w (i32x4.add (local.get $w) (i32x4.shl (local.get $kk) (i32.const 23))))
            ;; shrink: relu(a − a^(p−1)·cb) with r's sign (pmax(0, −inf) = 0)
            (local.set $zw (f32x4.add (local.get $zw) (v128.or (f32x4.pmax (v128.const i32x4 0 0 0 0)
              (f32x4.sub (local.get $a) (f32x4.mul (local.get $w) (local.get $cb)))) (local.get $sg))))
            (local.set $lp (i32.add (local.get $lp) (i32.const 16)))
            (br_if $list (i32.lt_u (local.get $lp) (local.get $end)))))
        (v128.store (i32.add (local.get $ZP) (local.get $o16))
          (f32x4.div (f32x4.add (local.get $zq) (local.get $zw)) (f32x4.splat (f32.convert_i32_u (local.get $len)))))
        (local.set $o32 (i32.shl (local.get $k) (i32.const 5)))
        (local.set $e64 (f64x2.add (local.get $e64)
          (f64x2.add
            (f64x2.mul (f64x2.promote_low_f32x4 (local.get $ea)) (v128.load (i32.add (local.get $IS) (local.get $o32))))
            (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $ea) (local.get $ea)))
              (v128.load offset=16 (i32.add (local.get $IS) (local.get $o32)))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $chunk)))
    (f64.add (f64x2.extract_lane 0 (local.get $e64)) (f64x2.extract_lane 1 (local.get $e64))))

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

  (func $meta (param $x v128) (param $is32 i32) (result v128)
    (if (result v128) (local.get $is32) (then (call $fp32 (local.get $x))) (else (call $fp16 (local.get $x)))))

  ;; Dequantization of two lanes, the JS expression in f64: clamp((q − zero)·scale, ±F32_MAX).
  (func $deq2 (param $q v128) (param $zero v128) (param $scale v128) (result v128)
    (f64x2.pmax (f64x2.splat (f64.const -0x1.fffffep+127)) (f64x2.pmin (f64x2.splat (f64.const 0x1.fffffep+127))
      (f64x2.mul (f64x2.sub (local.get $q) (local.get $zero)) (local.get $scale)))))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Final quantization with the optimised zero (Quantizer.quantize after the optimizer): per chunk, stored meta
  ;; scale = R(1/s), zero = R(z0 + z') (R: fp16 or, with $is32, fp32 saturating) at SC/ZR (f32); per row
  ;; W_q = clamp(round(d + z')), x̂ = (W_q − zero)·scale in f64 as the reference, scattered back through IDX to the
  ;; original element order (f32 at OUT, u8 codes at OUTC; padding slots write to a dummy element).
  (func (export "hqq_final") (param $DL i32) (param $IDX i32) (param $LEN i32) (param $chunks i32) (param $ZP i32)
    (param $S64 i32) (param $Z0 i32) (param $qmax f32) (param $is32 i32) (param $OUT i32) (param $OUTC i32)
    (param $SC i32) (param $ZR i32)
    (local $k i32) (local $p i32) (local $ix i32) (local $end i32) (local $o16 i32) (local $o32 i32)
    (local $qm v128) (local $z v128) (local $scl v128) (local $sch v128) (local $zrl v128) (local $zrh v128)
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
        (local.set $o32 (i32.shl (local.get $k) (i32.const 5)))
        (local.set $z (v128.load (i32.add (local.get $ZP) (local.get $o16))))
        (local.set $scl (call $meta (f64x2.div (f64x2.splat (f64.const 1)) (v128.load (i32.add (local.get $S64) (local.get $o32))))
          (local.get $is32)))
        (local.set $sch (call $meta (f64x2.div (f64x2.splat (f64.const 1)) (v128.load offset=16 (i32.add (local.get $S64) (local.get $o32))))
          (local.get $is32)))
        (local.set $zrl (call $meta (f64x2.add (v128.load (i32.add (local.get $Z0) (local.get $o32)))
          (f64x2.promote_low_f32x4 (local.get $z))) (local.get $is32)))
        (local.set $zrh (call $meta (f64x2.add (v128.load offset=16 (i32.add (local.get $Z0) (local.get $o32)))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $z) (local.get $z)))) (local.get $is32)))
        (v128.store (i32.add (local.get $SC) (local.get $o16)) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $scl)) (f32x4.demote_f64x2_zero (local.get $sch))))
        (v128.store (i32.add (local.get $ZR) (local.get $o16)) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $zrl)) (f32x4.demote_f64x2_zero (local.get $zrh))))
        (loop $rows
          (local.set $q (f32x4.nearest (f32x4.pmin (local.get $qm) (f32x4.pmax (f32x4.splat (f32.const 0))
            (f32x4.add (v128.load (local.get $p)) (local.get $z))))))
          (local.set $y (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (call $deq2 (f64x2.promote_low_f32x4 (local.get $q)) (local.get $zrl) (local.get $scl)))
            (f32x4.demote_f64x2_zero (call $deq2 (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q) (local.get $q))) (local.get $zrh) (local.get $sch)))))
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
