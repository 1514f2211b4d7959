;; WebAssembly SIMD kernels of the quantization engine (hand-written; compiled by scripts/build-wasm.mjs into
;; kernel.generated.ts). The JS kernels in ../minmax.ts are the reference: every export here reproduces their
;; outputs bit for bit; see ../wasm/index.ts for the argument why and tests/unit/lib/quant/wasm.test.ts for the checks.
;;
;; Split of the work (per call, in the module's memory: the tensor x is copied in unless it already lives there;
;; x̂, codes, scales and zeros are written where the caller's buffers live — for buffers from
;; allocateFakeQuantOutput that is this same memory, so nothing is copied out):
;;   pass 1  minmax_token / minmax_channel   per-group min and max (f32, exact) + a non-finite flag
;;   meta    minmax_meta                     scale/zero per group with the engine's fp16/fp32 metadata rounding
;;   pass 2  quant_token / quant_channel     fused quantize + dequantize: codes (u8) and x̂ (f32, in its own region)
;; (token axis: fq_token runs the three chunk by chunk, so pass 2 finds its input in L1)
;; absmax (../absmax.ts) has the same three steps in the same regions (absmax_token / absmax_channel, absmax_meta,
;; absmax_quant_token / absmax_quant_channel; fq_absmax_token chunk by chunk): see the absmax section at the end.
;;
;; Pass 2 exactness. The JS path computes in float64:
;;   v = (x − zero)·inv;  v = clamp(v, 0, qmax);  q = roundHalfEven(v);  y = q·scale + zero;  x̂ = f32(clamp(y, ±F32_MAX))
;; Fast path (4 lanes of f32): v32 = (x − zero)·f32(inv) carries three f32 roundings (f32(inv), the subtraction,
;; the product), so |v32 − v| ≤ |v|·3.01·2^-24, and only |v| ≤ qmax + 0.5 matters (q changes only at half-integers
;; inside [0, qmax]; the clamp points are integers). The caller passes thr = 0.5 − (qmax + 1)·2^-22: when every
;; lane of a group has |v32 − round(v32)| < thr, no float64 v can sit on the other side of a half-integer, so f32
;; rounding gives the float64 q. Otherwise (or always, when thr < 0) the group is redone from the intact x by
;; $exact4/$exact1, a literal f64x2 transcription of the JS arithmetic. For y the fast path needs q·scale exact in
;; f32 (true for fp16 scales: 8 + 11 significant bits) — then f32(q·scale + zero) computed in f32 equals
;; f32(f64(q·scale + zero)) (double rounding 64→32 is innocuous for one addition: 53 ≥ 2·24 + 2) — and no overflow
;; (fp16 meta: |y| < 2^24). For fp32 metadata the caller passes thr = −1 (always exact).
;;
;; Comparisons use pmin/pmax (b < a ? b : a / a < b ? b : a), which are exactly the JS ternaries and compile to
;; single minps/maxps instructions.
(module
  (import "env" "memory" (memory 1))

  ;; High two f32 lanes moved to the low half (for promote_low).
  ;; (inlined as i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7)

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Pass 1, token axis: groups of G contiguous f32 at src. Writes min[g], max[g] (f32 at minp, maxp).
  ;; min/max follow the JS `x < mn ? x : mn` (pmin) so values are identical; which of ±0 ends up in a lane may
  ;; differ from the JS scan order, which JS fixes up (only when min == 0). Returns bit 0 = some element is NaN/±Inf
  ;; (bits of x − x are all zero exactly for finite x), bit 1 = some group's min is ±0 (JS must fix its sign).
  (func $minmax_token (export "minmax_token") (param $src i32) (param $n i32) (param $G i32) (param $minp i32) (param $maxp i32)
    (result i32)
    (local $base i32) (local $p i32) (local $vend i32) (local $end i32) (local $g i32) (local $gs i32) (local $quadEnd i32)
    (local $x v128) (local $mn v128) (local $mx v128) (local $bad v128) (local $zv v128)
    (local $n0 v128) (local $n1 v128) (local $n2 v128) (local $n3 v128) (local $m0 v128) (local $m1 v128) (local $m2 v128)
    (local $m3 v128)
    (local $xs f32) (local $smn f32) (local $smx f32) (local $sbad i32) (local $zmin i32)
    ;; When G is a multiple of 4: four groups at a time, one accumulator pair per group, then a 4×4 transpose-reduce
    ;; gives the four minima (maxima) in one vector: far fewer horizontal steps than one group at a time.
    (if (i32.and (i32.eqz (i32.and (local.get $G) (i32.const 3))) (i32.ge_u (local.get $G) (i32.const 4)))
      (then
        (local.set $gs (i32.shl (local.get $G) (i32.const 2)))
        (local.set $quadEnd (i32.mul (i32.and (i32.div_u (local.get $n) (local.get $G)) (i32.const -4)) (local.get $G)))
        (block $qd
          (loop $ql
            (br_if $qd (i32.ge_u (local.get $base) (local.get $quadEnd)))
            (local.set $p (i32.add (local.get $src) (i32.shl (local.get $base) (i32.const 2))))
            (local.set $vend (i32.add (local.get $p) (local.get $gs)))
            (local.set $x (v128.load (local.get $p)))
            (local.set $n0 (local.get $x))
            (local.set $m0 (local.get $x))
            (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
            (local.set $x (v128.load (i32.add (local.get $p) (i32.mul (local.get $gs) (i32.const 1)))))
            (local.set $n1 (local.get $x))
            (local.set $m1 (local.get $x))
            (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
            (local.set $x (v128.load (i32.add (local.get $p) (i32.mul (local.get $gs) (i32.const 2)))))
            (local.set $n2 (local.get $x))
            (local.set $m2 (local.get $x))
            (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
            (local.set $x (v128.load (i32.add (local.get $p) (i32.mul (local.get $gs) (i32.const 3)))))
            (local.set $n3 (local.get $x))
            (local.set $m3 (local.get $x))
            (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (block $vb
              (loop $vl
                (br_if $vb (i32.ge_u (local.get $p) (local.get $vend)))
                (local.set $x (v128.load (local.get $p)))
                (local.set $n0 (f32x4.pmin (local.get $n0) (local.get $x)))
                (local.set $m0 (f32x4.pmax (local.get $m0) (local.get $x)))
                (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
                (local.set $x (v128.load (i32.add (local.get $p) (i32.mul (local.get $gs) (i32.const 1)))))
                (local.set $n1 (f32x4.pmin (local.get $n1) (local.get $x)))
                (local.set $m1 (f32x4.pmax (local.get $m1) (local.get $x)))
                (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
                (local.set $x (v128.load (i32.add (local.get $p) (i32.mul (local.get $gs) (i32.const 2)))))
                (local.set $n2 (f32x4.pmin (local.get $n2) (local.get $x)))
                (local.set $m2 (f32x4.pmax (local.get $m2) (local.get $x)))
                (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
                (local.set $x (v128.load (i32.add (local.get $p) (i32.mul (local.get $gs) (i32.const 3)))))
                (local.set $n3 (f32x4.pmin (local.get $n3) (local.get $x)))
                (local.set $m3 (f32x4.pmax (local.get $m3) (local.get $x)))
                (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (br $vl)))
            (local.set $mn (f32x4.pmin
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.pmin (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $n0) (local.get $n1))
                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $n0) (local.get $n1)))
                (f32x4.pmin (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $n2) (local.get $n3))
                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $n2) (local.get $n3))))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
                (f32x4.pmin (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $n0) (local.get $n1))
                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $n0) (local.get $n1)))
                (f32x4.pmin (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $n2) (local.get $n3))
                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $n2) (local.get $n3))))))
            (local.set $mx (f32x4.pmax
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.pmax (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m0) (local.get $m1))
                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m0) (local.get $m1)))
                (f32x4.pmax (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m2) (local.get $m3))
                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m2) (local.get $m3))))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
                (f32x4.pmax (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m0) (local.get $m1))
                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m0) (local.get $m1)))
                (f32x4.pmax (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m2) (local.get $m3))
                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m2) (local.get $m3))))))
            (v128.store (i32.add (local.get $minp) (i32.shl (local.get $g) (i32.const 2))) (local.get $mn))
            (v128.store (i32.add (local.get $maxp) (i32.shl (local.get $g) (i32.const 2))) (local.get $mx))
            (local.set $zv (v128.or (local.get $zv) (f32x4.eq (local.get $mn) (f32x4.splat (f32.const 0)))))
            (local.set $g (i32.add (local.get $g) (i32.const 4)))
            (local.set $base (i32.add (local.get $base) (i32.shl (local.get $G) (i32.const 2))))
            (br $ql)))))
    ;; the remaining groups (all of them when G is not a multiple of 4), one at a time
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $base) (local.get $n)))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $base) (i32.const 2))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $G) (i32.const 2))))
        (if (i32.ge_u (local.get $G) (i32.const 4))
          (then
            ;; vector part: lanes accumulate independently, then reduce horizontally.
            (local.set $vend (i32.add (local.get $p) (i32.shl (i32.and (local.get $G) (i32.const -4)) (i32.const 2))))
            (local.set $x (v128.load (local.get $p)))
            (local.set $mn (local.get $x))
            (local.set $mx (local.get $x))
            (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (block $vb
              (loop $vl
                (br_if $vb (i32.ge_u (local.get $p) (local.get $vend)))
                (local.set $x (v128.load (local.get $p)))
                (local.set $mn (f32x4.pmin (local.get $mn) (local.get $x)))
                (local.set $mx (f32x4.pmax (local.get $mx) (local.get $x)))
                (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (br $vl)))
            ;; horizontal: lanes (0,2),(1,3) then (0,1)
            (local.set $mn (f32x4.pmin (local.get $mn)
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mn) (local.get $mn))))
            (local.set $mn (f32x4.pmin (local.get $mn)
              (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $mn) (local.get $mn))))
            (local.set $mx (f32x4.pmax (local.get $mx)
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mx) (local.get $mx))))
            (local.set $mx (f32x4.pmax (local.get $mx)
              (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $mx) (local.get $mx))))
            (local.set $smn (f32x4.extract_lane 0 (local.get $mn)))
            (local.set $smx (f32x4.extract_lane 0 (local.get $mx))))
          (else
            (local.set $smn (f32.load (local.get $p)))
            (local.set $smx (local.get $smn))))
        ;; scalar tail (G mod 4 elements, or all of them when G < 4; re-reading the first is harmless)
        (block $sb
          (loop $sl
            (br_if $sb (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $xs (f32.load (local.get $p)))
            (local.set $smn (select (local.get $xs) (local.get $smn) (f32.lt (local.get $xs) (local.get $smn))))
            (local.set $smx (select (local.get $xs) (local.get $smx) (f32.gt (local.get $xs) (local.get $smx))))
            (local.set $sbad (i32.or (local.get $sbad)
              (i32.eqz (f32.eq (f32.sub (local.get $xs) (local.get $xs)) (f32.const 0)))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $sl)))
        (f32.store (i32.add (local.get $minp) (i32.shl (local.get $g) (i32.const 2))) (local.get $smn))
        (f32.store (i32.add (local.get $maxp) (i32.shl (local.get $g) (i32.const 2))) (local.get $smx))
        (local.set $zmin (i32.or (local.get $zmin) (f32.eq (local.get $smn) (f32.const 0))))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (local.set $base (i32.add (local.get $base) (local.get $G)))
        (br $groups)))
    (i32.or (i32.or (local.get $sbad) (v128.any_true (local.get $bad)))
      (i32.shl (i32.or (local.get $zmin) (v128.any_true (local.get $zv))) (i32.const 1))))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Pass 1, channel axis (KIVI): for each head h and token block tg (G tokens, the last one possibly shorter),
  ;; per-channel min/max over the block's rows, written at group index (h·tgs + tg)·D + d. Channels are taken 8
  ;; (then 4, then 1) at a time and the block's rows walked top to bottom, so each access is sequential within a
  ;; cache line and the whole block (≤ G·D·4 bytes) stays in L1 across the channel chunks. Returns flags as
  ;; minmax_token.
  (func (export "minmax_channel") (param $src i32) (param $heads i32) (param $tokens i32) (param $D i32) (param $G i32)
    (param $minp i32) (param $maxp i32) (result i32)
    (local $tgs i32) (local $h i32) (local $tg i32) (local $t0 i32) (local $len i32) (local $row0 i32)
    (local $rowEnd i32) (local $stride i32) (local $gOff i32) (local $d i32) (local $p i32)
    (local $x v128) (local $y v128) (local $mn0 v128) (local $mx0 v128) (local $mn1 v128) (local $mx1 v128) (local $bad v128)
    (local $xs f32) (local $smn f32) (local $smx f32) (local $sbad i32) (local $zmin i32) (local $zv v128)
    (local.set $tgs (i32.div_u (i32.sub (i32.add (local.get $tokens) (local.get $G)) (i32.const 1)) (local.get $G)))
    (local.set $stride (i32.shl (local.get $D) (i32.const 2)))
    (loop $hl
      (local.set $tg (i32.const 0))
      (loop $tgl
        (local.set $t0 (i32.mul (local.get $tg) (local.get $G)))
        (local.set $len (select (local.get $G) (i32.sub (local.get $tokens) (local.get $t0))
          (i32.le_u (i32.add (local.get $t0) (local.get $G)) (local.get $tokens))))
        ;; byte address of the block's first row, and one past its last row
        (local.set $row0 (i32.add (local.get $src)
          (i32.shl (i32.mul (i32.add (i32.mul (local.get $h) (local.get $tokens)) (local.get $t0)) (local.get $D)) (i32.const 2))))
        (local.set $rowEnd (i32.add (local.get $row0) (i32.mul (local.get $len) (local.get $stride))))
        ;; byte offset of this block's first group in the min/max arrays
        (local.set $gOff (i32.shl (i32.mul (i32.add (i32.mul (local.get $h) (local.get $tgs)) (local.get $tg)) (local.get $D))
          (i32.const 2)))
        (local.set $d (i32.const 0))
        ;; 8 channels at a time
        (block $c8b
          (loop $c8l
            (br_if $c8b (i32.gt_u (i32.add (local.get $d) (i32.const 8)) (local.get $D)))
            (local.set $p (i32.add (local.get $row0) (i32.shl (local.get $d) (i32.const 2))))
            (local.set $x (v128.load (local.get $p)))
            (local.set $y (v128.load offset=16 (local.get $p)))
            (local.set $mn0 (local.get $x)) (local.set $mx0 (local.get $x))
            (local.set $mn1 (local.get $y)) (local.set $mx1 (local.get $y))
            (local.set $bad (v128.or (local.get $bad)
              (v128.or (f32x4.sub (local.get $x) (local.get $x)) (f32x4.sub (local.get $y) (local.get $y)))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (block $rb
              (loop $rl
                (br_if $rb (i32.ge_u (local.get $p) (local.get $rowEnd)))
                (local.set $x (v128.load (local.get $p)))
                (local.set $y (v128.load offset=16 (local.get $p)))
                (local.set $mn0 (f32x4.pmin (local.get $mn0) (local.get $x)))
                (local.set $mx0 (f32x4.pmax (local.get $mx0) (local.get $x)))
                (local.set $mn1 (f32x4.pmin (local.get $mn1) (local.get $y)))
                (local.set $mx1 (f32x4.pmax (local.get $mx1) (local.get $y)))
                (local.set $bad (v128.or (local.get $bad)
                  (v128.or (f32x4.sub (local.get $x) (local.get $x)) (f32x4.sub (local.get $y) (local.get $y)))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (br $rl)))
            (local.set $p (i32.add (local.get $gOff) (i32.shl (local.get $d) (i32.const 2))))
            (v128.store (i32.add (local.get $minp) (local.get $p)) (local.get $mn0))
            (v128.store offset=16 (i32.add (local.get $minp) (local.get $p)) (local.get $mn1))
            (local.set $zv (v128.or (local.get $zv) (v128.or (f32x4.eq (local.get $mn0) (f32x4.splat (f32.const 0)))
              (f32x4.eq (local.get $mn1) (f32x4.splat (f32.const 0))))))
            (v128.store (i32.add (local.get $maxp) (local.get $p)) (local.get $mx0))
            (v128.store offset=16 (i32.add (local.get $maxp) (local.get $p)) (local.get $mx1))
            (local.set $d (i32.add (local.get $d) (i32.const 8)))
            (br $c8l)))
        ;; 4 channels at a time
        (block $c4b
          (loop $c4l
            (br_if $c4b (i32.gt_u (i32.add (local.get $d) (i32.const 4)) (local.get $D)))
            (local.set $p (i32.add (local.get $row0) (i32.shl (local.get $d) (i32.const 2))))
            (local.set $x (v128.load (local.get $p)))
            (local.set $mn0 (local.get $x)) (local.set $mx0 (local.get $x))
            (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (block $rb4
              (loop $rl4
                (br_if $rb4 (i32.ge_u (local.get $p) (local.get $rowEnd)))
                (local.set $x (v128.load (local.get $p)))
                (local.set $mn0 (f32x4.pmin (local.get $mn0) (local.get $x)))
                (local.set $mx0 (f32x4.pmax (local.get $mx0) (local.get $x)))
                (local.set $bad (v128.or (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (br $rl4)))
            (local.set $p (i32.add (local.get $gOff) (i32.shl (local.get $d) (i32.const 2))))
            (v128.store (i32.add (local.get $minp) (local.get $p)) (local.get $mn0))
            (v128.store (i32.add (local.get $maxp) (local.get $p)) (local.get $mx0))
            (local.set $zv (v128.or (local.get $zv) (f32x4.eq (local.get $mn0) (f32x4.splat (f32.const 0)))))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $c4l)))
        ;; remaining channels one at a time
        (block $c1b
          (loop $c1l
            (br_if $c1b (i32.ge_u (local.get $d) (local.get $D)))
            (local.set $p (i32.add (local.get $row0) (i32.shl (local.get $d) (i32.const 2))))
            (local.set $smn (f32.load (local.get $p)))
            (local.set $smx (local.get $smn))
            (block $rb1
              (loop $rl1
                (br_if $rb1 (i32.ge_u (local.get $p) (local.get $rowEnd)))
                (local.set $xs (f32.load (local.get $p)))
                (local.set $smn (select (local.get $xs) (local.get $smn) (f32.lt (local.get $xs) (local.get $smn))))
                (local.set $smx (select (local.get $xs) (local.get $smx) (f32.gt (local.get $xs) (local.get $smx))))
                (local.set $sbad (i32.or (local.get $sbad)
                  (i32.eqz (f32.eq (f32.sub (local.get $xs) (local.get $xs)) (f32.const 0)))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (br $rl1)))
            (local.set $p (i32.add (local.get $gOff) (i32.shl (local.get $d) (i32.const 2))))
            (f32.store (i32.add (local.get $minp) (local.get $p)) (local.get $smn))
            (f32.store (i32.add (local.get $maxp) (local.get $p)) (local.get $smx))
            (local.set $zmin (i32.or (local.get $zmin) (f32.eq (local.get $smn) (f32.const 0))))
            (local.set $d (i32.add (local.get $d) (i32.const 1)))
            (br $c1l)))
        (local.set $tg (i32.add (local.get $tg) (i32.const 1)))
        (br_if $tgl (i32.lt_u (local.get $tg) (local.get $tgs))))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br_if $hl (i32.lt_u (local.get $h) (local.get $heads))))
    (i32.or (i32.or (local.get $sbad) (v128.any_true (local.get $bad)))
      (i32.shl (i32.or (local.get $zmin) (v128.any_true (local.get $zv))) (i32.const 1))))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Metadata rounding, two float64 lanes at a time: the exact transcription of ../fp16.ts.
  ;; $fp16: roundToFp16Saturating. For a = |x|: the spacing of halves around a is q = 2^(max(e, −14) − 10) with
  ;; e = floor(log2 a) (so 2^-24 in the subnormal range, where JS computes (a·2^24 + M − M)/2^24 — the same
  ;; numbers, since scaling by a power of two is exact); r = round(a/q)·q with round-half-even (the JS
  ;; `+ M − M`; a/q < 2^12); |x| ≥ 65520 saturates to 65504; the sign of x (also of ±0) is put back.
  ;; Inputs are finite (non-finite data never reaches this point).
  (func $fp16 (param $x v128) (result v128)
    (local $a v128) (local $e v128) (local $q v128) (local $r v128)
    (local.set $a (f64x2.abs (local.get $x)))
    ;; biased exponent, at least 1023 − 14
    (local.set $e (i64x2.shr_u (local.get $a) (i32.const 52)))
    (local.set $e (v128.bitselect (local.get $e) (i64x2.splat (i64.const 1009))
      (i64x2.gt_s (local.get $e) (i64x2.splat (i64.const 1009)))))
    (local.set $q (i64x2.shl (i64x2.sub (local.get $e) (i64x2.splat (i64.const 10))) (i32.const 52)))
    ;; a/q computed as a·(1/q): q's biased exponent is E = e − 10 ∈ [999, 2036], 1/q's is 2046 − E = 2056 − e
    ;; (a normal number), so both are the same exact scaling (and a multiply is much cheaper than a divide)
    (local.set $r (f64x2.mul (f64x2.sub (f64x2.add (f64x2.mul (local.get $a)
      (i64x2.shl (i64x2.sub (i64x2.splat (i64.const 2056)) (local.get $e)) (i32.const 52)))
      (f64x2.splat (f64.const 6755399441055744))) (f64x2.splat (f64.const 6755399441055744))) (local.get $q)))
    (local.set $r (v128.bitselect (f64x2.splat (f64.const 65504)) (local.get $r)
      (f64x2.ge (local.get $a) (f64x2.splat (f64.const 65520)))))
    (v128.or (local.get $r) (v128.and (local.get $x) (v128.const i64x2 0x8000000000000000 0x8000000000000000))))

;; $fp16 on four f32 lanes: the same steps in f32 for an input that is already an f32 (a group minimum). The
  ;; scalings by 2^(10−e) and 2^(e−10) are exact in f32 too (e ≥ −14 keeps a·2^(10−e) normal, and a/q < 2^12 has at
  ;; most 24 significant bits), and the single rounding happens at `+ M` with M = 1.5·2^23 (exact for |v| < 2^22),
  ;; so the result is the float64 path's bit for bit (wasm.test.ts compares every zero with the JS path's, on any f32).
  (func $fp16x4 (param $x v128) (result v128)
    (local $a v128) (local $e v128) (local $r v128)
    (local.set $a (f32x4.abs (local.get $x)))
    ;; biased exponent, at least 127 − 14
    (local.set $e (i32x4.max_s (i32x4.shr_u (local.get $a) (i32.const 23)) (i32x4.splat (i32.const 113))))
    (local.set $r (f32x4.mul (f32x4.sub (f32x4.add (f32x4.mul (local.get $a)
      (i32x4.shl (i32x4.sub (i32x4.splat (i32.const 264)) (local.get $e)) (i32.const 23)))
      (f32x4.splat (f32.const 12582912))) (f32x4.splat (f32.const 12582912)))
      (i32x4.shl (i32x4.sub (local.get $e) (i32x4.splat (i32.const 10))) (i32.const 23))))
    (local.set $r (v128.bitselect (f32x4.splat (f32.const 65504)) (local.get $r)
      (f32x4.ge (local.get $a) (f32x4.splat (f32.const 65520)))))
    (v128.or (local.get $r) (v128.and (local.get $x) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))

    ;; roundToFp32Saturating: Math.fround (f32 demote, ties to even), ±Infinity → ±F32_MAX.
  (func $fp32 (param $x v128) (result v128)
    (local $r v128)
    (local.set $r (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (local.get $x))))
    (v128.bitselect
      (v128.or (f64x2.splat (f64.const 0x1.fffffep+127))
        (v128.and (local.get $x) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))
      (local.get $r)
      (f64x2.eq (f64x2.abs (local.get $r)) (f64x2.splat (f64.const inf)))))

  ;; Test hook: rounds $count float64 at $src to $dst with $fp16 ($fp32 when $is32).
  (func (export "round_meta") (param $src i32) (param $dst i32) (param $count i32) (param $is32 i32)
    (local $i i32)
    (block $b
      (loop $l
        (br_if $b (i32.ge_u (local.get $i) (local.get $count)))
        (v128.store64_lane 0 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3)))
          (if (result v128) (local.get $is32)
            (then (call $fp32 (v128.load64_zero (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))))
            (else (call $fp16 (v128.load64_zero (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))

  ;; Per-group parameters, the JS expressions of minmax.ts in float64, four groups per iteration (plus pass 2's
  ;; clamp-free flag per group at $flp):
  ;;   scale = R((mx − mn) / qmax)  (a zero range as +0),  zero = R(mn),  f32(inv) with inv = scale > 0 ? 1/scale : 0
  ;; with R the metadata rounding ($is32: fp32, else fp16). Reads min/max (f32) at $minp/$maxp; writes scale and
  ;; zero (f32, exact) at $sp/$zp and f32(inv) at $i32p. f32(inv) is computed as an f32 division of the f32 scale:
  ;; for fp16 scales (m·2^j, m odd < 2^11) this equals rounding the float64 1/scale to f32, because the binary
  ;; expansion of 1/m has no run of 28 equal bits (a run of L zeros after remainder r needs r·2^L < m), so the float64
  ;; quotient never sits on an f32 rounding midpoint. (fp32 scales only reach the exact path, which divides in
  ;; float64 itself.) The float64 inverse is computed by the exact paths when they need it ($invOf / $inv2).
  ;; Processes ceil(groups/4) quads: the arrays have room for three extra entries (the caller restores any of the
  ;; caller's entries they overlap).
  (func $minmax_meta (export "minmax_meta") (param $minp i32) (param $maxp i32) (param $groups i32) (param $qmax f64)
    (param $is32 i32) (param $zp i32) (param $sp i32) (param $i32p i32) (param $flp i32)
    (local $o i32) (local $end i32) (local $mn4 v128) (local $mx4 v128) (local $mnl v128) (local $mnh v128)
    (local $mxl v128) (local $mxh v128) (local $scl v128) (local $sch v128)
    (local $s4 v128) (local $z4 v128) (local $iv v128) (local $qq v128)
    (local.set $end (i32.shl (local.get $groups) (i32.const 2)))
    (local.set $qq (f64x2.splat (local.get $qmax)))
    (block $b
      (loop $l
        (br_if $b (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $mn4 (v128.load (i32.add (local.get $minp) (local.get $o))))
        (local.set $mx4 (v128.load (i32.add (local.get $maxp) (local.get $o))))
        (local.set $mnl (f64x2.promote_low_f32x4 (local.get $mn4)))
        (local.set $mnh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mn4) (local.get $mn4))))
        (local.set $mxl (f64x2.promote_low_f32x4 (local.get $mx4)))
        (local.set $mxh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mx4) (local.get $mx4))))
        (local.set $scl (f64x2.div (v128.andnot (f64x2.sub (local.get $mxl) (local.get $mnl)) (f64x2.eq (local.get $mxl) (local.get $mnl)))
          (local.get $qq)))
        (local.set $sch (f64x2.div (v128.andnot (f64x2.sub (local.get $mxh) (local.get $mnh)) (f64x2.eq (local.get $mxh) (local.get $mnh)))
          (local.get $qq)))
        (if (local.get $is32)
          (then
            (local.set $scl (call $fp32 (local.get $scl)))
            (local.set $sch (call $fp32 (local.get $sch)))
            (local.set $z4 (local.get $mn4))) ;; an f32 minimum is its own fp32 rounding
          (else
            (local.set $scl (call $fp16 (local.get $scl)))
            (local.set $sch (call $fp16 (local.get $sch)))
            (local.set $z4 (call $fp16x4 (local.get $mn4)))))
        (local.set $s4 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $scl)) (f32x4.demote_f64x2_zero (local.get $sch))))
        (local.set $iv (v128.and (f32x4.div (f32x4.splat (f32.const 1)) (local.get $s4))
          (f32x4.gt (local.get $s4) (f32x4.splat (f32.const 0)))))
        (v128.store (i32.add (local.get $sp) (local.get $o)) (local.get $s4))
        (v128.store (i32.add (local.get $zp) (local.get $o)) (local.get $z4))
        (v128.store (i32.add (local.get $i32p) (local.get $o)) (local.get $iv))
        ;; clamp-free flag (i32 −1/0) for pass 2: v(min) = (min − zero)·inv ≥ −0.2 and v(max) ≤ qmax + 0.4 (see
        ;; quant_token), computed in f32 with f32(inv): three roundings move v by ≤ |v|·3·2^-24 (< 1e-4 where
        ;; |v| < 500; beyond, the comparison cannot flip), far inside the margins (round(v) needs v ≥ −0.25 and
        ;; v < qmax + 0.5). Overflow to ±Infinity only happens far outside [−0.2, qmax + 0.4] and compares correctly.
        (v128.store (i32.add (local.get $flp) (local.get $o)) (v128.and
          (f32x4.ge (f32x4.mul (f32x4.sub (local.get $mn4) (local.get $z4)) (local.get $iv)) (f32x4.splat (f32.const -0.2)))
          (f32x4.le (f32x4.mul (f32x4.sub (local.get $mx4) (local.get $z4)) (local.get $iv))
            (f32x4.splat (f32.add (f32.demote_f64 (local.get $qmax)) (f32.const 0.4))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $l))))

  ;; inv = scale > 0 ? 1/scale : 0 in float64 (the JS expression), for the exact paths.
  (func $invOf (param $s f32) (result f64)
    (select (f64.div (f64.const 1) (f64.promote_f32 (local.get $s))) (f64.const 0) (f32.gt (local.get $s) (f32.const 0))))
  ;; The same for two scales (f64 lanes).
  (func $inv2 (param $s v128) (result v128)
    (v128.and (f64x2.div (f64x2.splat (f64.const 1)) (local.get $s)) (f64x2.gt (local.get $s) (f64x2.splat (f64.const 0)))))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Exact float64 quantize + dequantize of the 4 elements at $p (x̂ written at $o, which may be $p; codes at $c): the JS formula
  ;; operation for operation. $z, $s: the 4 lanes' zero and scale (f32 values, exact in f64); $ilo, $ihi: their
  ;; float64 inverse scales (lanes 0–1, 2–3). Clamps: pmax(0, v) = (0 < v ? v : 0) and pmin(qmax, v) = (v < qmax ?
  ;; v : qmax) agree with JS `v < 0 ? 0 : v > qmax ? qmax : v` except that −0 becomes +0, which the JS rounding
  ;; (v + 2^52·1.5 − 2^52·1.5) also does; on [+0, qmax] f64x2.nearest is that same round-half-even.
  (func $exact4 (param $p i32) (param $o i32) (param $c i32) (param $z v128) (param $s v128) (param $ilo v128) (param $ihi v128)
    (param $qmax f64)
    (local $x v128) (local $qm v128) (local $vl v128) (local $vh v128) (local $zl v128) (local $zh v128)
    (local $yl v128) (local $yh v128)
    (local.set $x (v128.load (local.get $p)))
    (local.set $qm (f64x2.splat (local.get $qmax)))
    (local.set $zl (f64x2.promote_low_f32x4 (local.get $z)))
    (local.set $zh (f64x2.promote_low_f32x4
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $z) (local.get $z))))
    ;; v = clamp((x − zero) · inv, 0, qmax); q = round(v)
    (local.set $vl (f64x2.nearest (f64x2.pmin (local.get $qm) (f64x2.pmax (f64x2.splat (f64.const 0))
      (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $x)) (local.get $zl)) (local.get $ilo))))))
    (local.set $vh (f64x2.nearest (f64x2.pmin (local.get $qm) (f64x2.pmax (f64x2.splat (f64.const 0))
      (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))) (local.get $zh))
        (local.get $ihi))))))
    ;; y = clamp(q · scale + zero, ±F32_MAX), then rounded to f32
    (local.set $yl (f64x2.pmax (f64x2.splat (f64.const -0x1.fffffep+127)) (f64x2.pmin (f64x2.splat (f64.const 0x1.fffffep+127))
      (f64x2.add (f64x2.mul (local.get $vl) (f64x2.promote_low_f32x4 (local.get $s))) (local.get $zl)))))
    (local.set $yh (f64x2.pmax (f64x2.splat (f64.const -0x1.fffffep+127)) (f64x2.pmin (f64x2.splat (f64.const 0x1.fffffep+127))
      (f64x2.add (f64x2.mul (local.get $vh) (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))) (local.get $zh)))))
    (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $yl)) (f32x4.demote_f64x2_zero (local.get $yh))))
    (local.set $x (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (i32x4.trunc_sat_f64x2_u_zero (local.get $vl)) (i32x4.trunc_sat_f64x2_u_zero (local.get $vh))))
    (local.set $x (i16x8.narrow_i32x4_u (local.get $x) (local.get $x)))
    (v128.store32_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $x) (local.get $x))))

  ;; Exact float64 quantize + dequantize of one element (tails): the same arithmetic as $exact4, scalar.
  (func $exact1 (param $p i32) (param $o i32) (param $c i32) (param $z f64) (param $s f64) (param $inv f64) (param $qmax f64)
    (local $v f64)
    (local.set $v (f64.mul (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (local.get $z)) (local.get $inv)))
    (local.set $v (select (local.get $v) (f64.const 0) (f64.gt (local.get $v) (f64.const 0))))
    (local.set $v (select (local.get $v) (local.get $qmax) (f64.lt (local.get $v) (local.get $qmax))))
    (local.set $v (f64.nearest (local.get $v)))
    (i32.store8 (local.get $c) (i32.trunc_f64_u (local.get $v)))
    (local.set $v (f64.add (f64.mul (local.get $v) (local.get $s)) (local.get $z)))
    (local.set $v (select (local.get $v) (f64.const 0x1.fffffep+127) (f64.lt (local.get $v) (f64.const 0x1.fffffep+127))))
    (local.set $v (select (local.get $v) (f64.const -0x1.fffffep+127) (f64.gt (local.get $v) (f64.const -0x1.fffffep+127))))
    (f32.store (local.get $o) (f32.demote_f64 (local.get $v))))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Pass 2, token axis. Per group g (G contiguous elements): reads x at $src, writes x̂ at $dst (a separate
  ;; region: a group whose fast result is in doubt is redone from the intact x) and codes at $codes. Zero, scale,
  ;; f32(inv) as f32 at $zp, $sp, $i32p (the float64 inverse, for exact redos, from $invOf); minmax_meta's
  ;; clamp-free flags (i32) at $flp.
  ;; $thr: the fast path's tie threshold (caller: 0.5 − (qmax + 1)·2^-22), or −1 to make every group exact.
  ;; Per group, the fast loop tracks the largest |v − q| (as max and min of v − q over the lanes) and the group is
  ;; redone with $exact4/$exact1 when it reaches $thr: no branch in the inner loop.
  ;; "Safe" groups (flag from minmax_meta) skip the clamp: v = (x − zero)·inv is monotone in x, so v(min) ≥ −0.2
  ;; and v(max) ≤ qmax + 0.4 (float64, as JS computes v) bound every v of the group; there round(v) = round(clamp(v, 0, qmax)) (for v in
  ;; (−0.5, 0) both give +0), and the magic-number rounding is exact (v + 2^23 with v ≥ −0.25 rounds to an integer:
  ;; below 2^23 the f32 spacing is 1/2, so v ≥ −0.25 is needed, hence −0.2).
  (func $quant_token (export "quant_token") (param $src i32) (param $dst i32) (param $codes i32) (param $n i32) (param $G i32)
    (param $flp i32) (param $zp i32) (param $sp i32) (param $i32p i32)
    (param $qmax f32) (param $thr f32)
    (local $base i32) (local $p i32) (local $o i32) (local $c i32) (local $vend i32) (local $end i32) (local $g4 i32)
    (local $p0 i32) (local $o0 i32) (local $c0 i32) (local $safe i32) (local $exact i32)
    (local $z v128) (local $s v128) (local $iv v128) (local $i64 v128) (local $qm v128) (local $th v128) (local $nth v128)
    (local $mg v128) (local $z4 v128) (local $dmax v128) (local $dmin v128)
    (local $v0 v128) (local $v1 v128) (local $t0 v128) (local $t1 v128) (local $q0 v128) (local $q1 v128)
    (local $zf f32) (local $sf f32) (local $qm64 f64)
    (local.set $mg (f32x4.splat (f32.const 0x1p23)))
    (local.set $qm (f32x4.splat (local.get $qmax)))
    (local.set $th (f32x4.splat (local.get $thr)))
    (local.set $nth (f32x4.neg (local.get $th)))
    (local.set $qm64 (f64.promote_f32 (local.get $qmax)))
    (local.set $exact (f32.lt (local.get $thr) (f32.const 0)))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $base) (local.get $n)))
        (local.set $p0 (i32.add (local.get $src) (i32.shl (local.get $base) (i32.const 2))))
        (local.set $o0 (i32.add (local.get $dst) (i32.shl (local.get $base) (i32.const 2))))
        (local.set $c0 (i32.add (local.get $codes) (local.get $base)))
        (local.set $end (i32.add (local.get $p0) (i32.shl (local.get $G) (i32.const 2))))
        (local.set $vend (i32.add (local.get $p0) (i32.shl (i32.and (local.get $G) (i32.const -4)) (i32.const 2))))
        (local.set $zf (f32.load (i32.add (local.get $zp) (local.get $g4))))
        (local.set $sf (f32.load (i32.add (local.get $sp) (local.get $g4))))
        (local.set $z (f32x4.splat (local.get $zf)))
        (local.set $s (f32x4.splat (local.get $sf)))
        (local.set $iv (v128.load32_splat (i32.add (local.get $i32p) (local.get $g4))))
        (local.set $dmax (local.get $z4))
        (local.set $dmin (local.get $z4))
        (local.set $p (local.get $p0))
        (local.set $o (local.get $o0))
        (local.set $c (local.get $c0))
        (local.set $safe (i32.load (i32.add (local.get $flp) (local.get $g4))))
        (if (i32.eqz (local.get $exact))
          (then
            (if (local.get $safe)
              (then
                ;; 8 elements per iteration, no clamp
                (block $wb
                  (loop $wl
                    (br_if $wb (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $vend)))
                    (local.set $v0 (f32x4.mul (f32x4.sub (v128.load (local.get $p)) (local.get $z)) (local.get $iv)))
                    (local.set $v1 (f32x4.mul (f32x4.sub (v128.load offset=16 (local.get $p)) (local.get $z)) (local.get $iv)))
                    (local.set $t0 (f32x4.add (local.get $v0) (local.get $mg)))
                    (local.set $t1 (f32x4.add (local.get $v1) (local.get $mg)))
                    (local.set $q0 (f32x4.sub (local.get $t0) (local.get $mg)))
                    (local.set $q1 (f32x4.sub (local.get $t1) (local.get $mg)))
                    (local.set $v0 (f32x4.sub (local.get $v0) (local.get $q0)))
                    (local.set $v1 (f32x4.sub (local.get $v1) (local.get $q1)))
                    (local.set $dmax (f32x4.pmax (local.get $dmax) (f32x4.pmax (local.get $v0) (local.get $v1))))
                    (local.set $dmin (f32x4.pmin (local.get $dmin) (f32x4.pmin (local.get $v0) (local.get $v1))))
                    (v128.store (local.get $o) (f32x4.add (f32x4.mul (local.get $q0) (local.get $s)) (local.get $z)))
                    (v128.store offset=16 (local.get $o) (f32x4.add (f32x4.mul (local.get $q1) (local.get $s)) (local.get $z)))
                    (local.set $t0 (i16x8.narrow_i32x4_u (i32x4.sub (local.get $t0) (local.get $mg)) (i32x4.sub (local.get $t1) (local.get $mg))))
                    (v128.store64_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $t0) (local.get $t0)))
                    (local.set $p (i32.add (local.get $p) (i32.const 32)))
                    (local.set $o (i32.add (local.get $o) (i32.const 32)))
                    (local.set $c (i32.add (local.get $c) (i32.const 8)))
                    (br $wl))))
              (else
                ;; 8 elements per iteration, v clamped to [0, qmax]
                (block $cb
                  (loop $cl
                    (br_if $cb (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $vend)))
                    (local.set $v0 (f32x4.pmin (local.get $qm) (f32x4.pmax (local.get $z4)
                      (f32x4.mul (f32x4.sub (v128.load (local.get $p)) (local.get $z)) (local.get $iv)))))
                    (local.set $v1 (f32x4.pmin (local.get $qm) (f32x4.pmax (local.get $z4)
                      (f32x4.mul (f32x4.sub (v128.load offset=16 (local.get $p)) (local.get $z)) (local.get $iv)))))
                    (local.set $t0 (f32x4.add (local.get $v0) (local.get $mg)))
                    (local.set $t1 (f32x4.add (local.get $v1) (local.get $mg)))
                    (local.set $q0 (f32x4.sub (local.get $t0) (local.get $mg)))
                    (local.set $q1 (f32x4.sub (local.get $t1) (local.get $mg)))
                    (local.set $v0 (f32x4.sub (local.get $v0) (local.get $q0)))
                    (local.set $v1 (f32x4.sub (local.get $v1) (local.get $q1)))
                    (local.set $dmax (f32x4.pmax (local.get $dmax) (f32x4.pmax (local.get $v0) (local.get $v1))))
                    (local.set $dmin (f32x4.pmin (local.get $dmin) (f32x4.pmin (local.get $v0) (local.get $v1))))
                    (v128.store (local.get $o) (f32x4.add (f32x4.mul (local.get $q0) (local.get $s)) (local.get $z)))
                    (v128.store offset=16 (local.get $o) (f32x4.add (f32x4.mul (local.get $q1) (local.get $s)) (local.get $z)))
                    (local.set $t0 (i16x8.narrow_i32x4_u (i32x4.sub (local.get $t0) (local.get $mg)) (i32x4.sub (local.get $t1) (local.get $mg))))
                    (v128.store64_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $t0) (local.get $t0)))
                    (local.set $p (i32.add (local.get $p) (i32.const 32)))
                    (local.set $o (i32.add (local.get $o) (i32.const 32)))
                    (local.set $c (i32.add (local.get $c) (i32.const 8)))
                    (br $cl)))))
            ;; the remaining whole vector (G mod 8 ≥ 4), always clamped (also fine for safe groups)
            (if (i32.le_u (i32.add (local.get $p) (i32.const 16)) (local.get $vend))
              (then
                (local.set $v0 (f32x4.pmin (local.get $qm) (f32x4.pmax (local.get $z4)
                  (f32x4.mul (f32x4.sub (v128.load (local.get $p)) (local.get $z)) (local.get $iv)))))
                (local.set $t0 (f32x4.add (local.get $v0) (local.get $mg)))
                (local.set $q0 (f32x4.sub (local.get $t0) (local.get $mg)))
                (local.set $v0 (f32x4.sub (local.get $v0) (local.get $q0)))
                (local.set $dmax (f32x4.pmax (local.get $dmax) (local.get $v0)))
                (local.set $dmin (f32x4.pmin (local.get $dmin) (local.get $v0)))
                (v128.store (local.get $o) (f32x4.add (f32x4.mul (local.get $q0) (local.get $s)) (local.get $z)))
                (local.set $t0 (i32x4.sub (local.get $t0) (local.get $mg)))
                (local.set $t0 (i16x8.narrow_i32x4_u (local.get $t0) (local.get $t0)))
                (v128.store32_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $t0) (local.get $t0)))))))
        ;; exact redo of the group's whole vectors when forced or when some lane came within $thr of a tie
        (if (i32.or (local.get $exact) (v128.any_true (v128.or (f32x4.ge (local.get $dmax) (local.get $th))
              (f32x4.le (local.get $dmin) (local.get $nth)))))
          (then
            (local.set $p (local.get $p0))
            (local.set $o (local.get $o0))
            (local.set $c (local.get $c0))
            (local.set $i64 (f64x2.splat (call $invOf (local.get $sf))))
            (block $xb
              (loop $xl
                (br_if $xb (i32.ge_u (local.get $p) (local.get $vend)))
                (call $exact4 (local.get $p) (local.get $o) (local.get $c) (local.get $z) (local.get $s) (local.get $i64)
                  (local.get $i64) (local.get $qm64))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br $xl))))
          ;; otherwise the fast loops have left p, o and c at the end of the group's whole vectors
          )
        ;; scalar tail (G mod 4), always exact
        (block $sb
          (loop $sl
            (br_if $sb (i32.ge_u (local.get $p) (local.get $end)))
            (call $exact1 (local.get $p) (local.get $o) (local.get $c) (f64.promote_f32 (local.get $zf))
              (f64.promote_f32 (local.get $sf)) (call $invOf (local.get $sf)) (local.get $qm64))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $sl)))
        (local.set $g4 (i32.add (local.get $g4) (i32.const 4)))
        (local.set $base (i32.add (local.get $base) (local.get $G)))
        (br $groups))))

      ;; ---------------------------------------------------------------------------------------------------------
  ;; Token axis, all three steps chunk by chunk: pass 1, the ±0 fix, the metadata and pass 2 on $chunkGroups groups
  ;; (a multiple of 4, so minmax_meta's quads never spill into the next chunk) before moving on, so pass 2 reads x
  ;; from L1 where pass 1 just left it (~8 % faster at G = 32 than three whole-tensor passes). Same arrays as the
  ;; three functions. Returns 1 as soon as a chunk holds a NaN/±Infinity (outputs of earlier chunks are written,
  ;; identical to what the JS path writes for those groups before it throws), else 0.
  (func (export "fq_token") (param $src i32) (param $dst i32) (param $codes i32) (param $n i32) (param $G i32)
    (param $minp i32) (param $maxp i32) (param $flp i32) (param $zp i32) (param $sp i32) (param $i32p i32)
    (param $qmax f32) (param $thr f32) (param $is32 i32) (param $chunkGroups i32) (result i32)
    (local $o i32) (local $ce i32) (local $g4 i32) (local $f i32) (local $cg i32)
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $o) (local.get $n)))
        (local.set $ce (i32.mul (local.get $chunkGroups) (local.get $G)))
        (local.set $ce (select (local.get $ce) (i32.sub (local.get $n) (local.get $o))
          (i32.le_u (local.get $ce) (i32.sub (local.get $n) (local.get $o)))))
        (local.set $cg (i32.div_u (local.get $ce) (local.get $G)))
        (local.set $f (call $minmax_token (i32.add (local.get $src) (i32.shl (local.get $o) (i32.const 2))) (local.get $ce)
          (local.get $G) (i32.add (local.get $minp) (local.get $g4)) (i32.add (local.get $maxp) (local.get $g4))))
        (if (i32.and (local.get $f) (i32.const 1)) (then (return (i32.const 1))))
        (if (i32.and (local.get $f) (i32.const 2))
          (then (call $zeroSigns (i32.add (local.get $src) (i32.shl (local.get $o) (i32.const 2))) (local.get $G)
            (i32.add (local.get $minp) (local.get $g4)) (local.get $cg))))
        (call $minmax_meta (i32.add (local.get $minp) (local.get $g4)) (i32.add (local.get $maxp) (local.get $g4))
          (local.get $cg) (f64.promote_f32 (local.get $qmax)) (local.get $is32) (i32.add (local.get $zp) (local.get $g4))
          (i32.add (local.get $sp) (local.get $g4)) (i32.add (local.get $i32p) (local.get $g4)) (i32.add (local.get $flp) (local.get $g4)))
        (call $quant_token (i32.add (local.get $src) (i32.shl (local.get $o) (i32.const 2)))
          (i32.add (local.get $dst) (i32.shl (local.get $o) (i32.const 2))) (i32.add (local.get $codes) (local.get $o))
          (local.get $ce) (local.get $G) (i32.add (local.get $flp) (local.get $g4)) (i32.add (local.get $zp) (local.get $g4))
          (i32.add (local.get $sp) (local.get $g4)) (i32.add (local.get $i32p) (local.get $g4)) (local.get $qmax) (local.get $thr))
        (local.set $o (i32.add (local.get $o) (local.get $ce)))
        (local.set $g4 (i32.add (local.get $g4) (i32.shl (local.get $cg) (i32.const 2))))
        (br $chunks)))
    (i32.const 0))

  ;; Token axis: a group whose minimum is ±0 gets the first element equal to 0 in scan order as its minimum (the
  ;; ±0 the JS scan keeps; pmin may have kept the other sign). $groups groups of $G from $src, minima at $minp.
  (func $zeroSigns (param $src i32) (param $G i32) (param $minp i32) (param $groups i32)
    (local $g i32) (local $p i32) (local $end i32) (local $m i32)
    (block $gd
      (loop $gl
        (br_if $gd (i32.ge_u (local.get $g) (local.get $groups)))
        (local.set $m (i32.add (local.get $minp) (i32.shl (local.get $g) (i32.const 2))))
        (if (f32.eq (f32.load (local.get $m)) (f32.const 0))
          (then
            (local.set $p (i32.add (local.get $src) (i32.shl (i32.mul (local.get $g) (local.get $G)) (i32.const 2))))
            (local.set $end (i32.add (local.get $p) (i32.shl (local.get $G) (i32.const 2))))
            (block $fd
              (loop $fl
                (br_if $fd (i32.ge_u (local.get $p) (local.get $end)))
                (if (f32.eq (f32.load (local.get $p)) (f32.const 0))
                  (then
                    (i32.store (local.get $m) (i32.load (local.get $p)))
                    (br $fd)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $fl)))))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $gl))))

  ;; ---------------------------------------------------------------------------------------------------------
  ;; Pass 2, channel axis. For each head h and token block tg (G rows, the last possibly fewer), in tiles of 16
  ;; rows (a tile's x, x̂ and codes stay in L1; a whole block of 128 rows would not), 4 channels at a time: the 4
  ;; groups' parameters (group (h·tgs + tg)·D + d) sit in registers while the tile's rows are walked (8 channels at
  ;; a time measured slower: too many live vectors for 16 registers). Each 4-channel column keeps the largest
  ;; |v − q| of the block in a scratch vector at $accp (D/4 vectors, carried across tiles); after the block, a column
  ;; that reached $thr is redone exactly from the intact x (as quant_token). Columns whose 4 groups are all flagged
  ;; clamp-free by minmax_meta skip the clamp. Channels beyond the last multiple of 4 go through $exact1. x at $src,
  ;; x̂ at $dst (separate region), codes at $codes; other arrays and $thr as quant_token.
  (func (export "quant_channel") (param $src i32) (param $dst i32) (param $codes i32) (param $heads i32)
    (param $tokens i32) (param $D i32) (param $G i32) (param $flp i32) (param $zp i32) (param $sp i32) (param $i32p i32)
    (param $accp i32) (param $qmax f32) (param $thr f32)
    (local $tgs i32) (local $h i32) (local $tg i32) (local $tb0 i32) (local $len i32) (local $e0 i32) (local $r0 i32)
    (local $rows i32) (local $gOff i32) (local $d i32) (local $D4 i32) (local $stride i32) (local $r i32) (local $go i32)
    (local $p i32) (local $o i32) (local $c i32) (local $exact i32) (local $e i32)
    (local $z0 v128) (local $s0 v128) (local $iv0 v128) (local $a0 v128) (local $qm v128) (local $th v128) (local $mg v128)
    (local $z4 v128) (local $v0 v128) (local $v1 v128) (local $t0 v128) (local $q0 v128)
    (local $qm64 f64)
    (local.set $mg (f32x4.splat (f32.const 0x1p23)))
    (local.set $qm (f32x4.splat (local.get $qmax)))
    (local.set $th (f32x4.splat (local.get $thr)))
    (local.set $qm64 (f64.promote_f32 (local.get $qmax)))
    (local.set $exact (f32.lt (local.get $thr) (f32.const 0)))
    (local.set $tgs (i32.div_u (i32.sub (i32.add (local.get $tokens) (local.get $G)) (i32.const 1)) (local.get $G)))
    (local.set $D4 (i32.and (local.get $D) (i32.const -4)))
    (local.set $stride (i32.shl (local.get $D) (i32.const 2)))
    (loop $hl
      (local.set $tg (i32.const 0))
      (loop $tgl
        (local.set $tb0 (i32.mul (local.get $tg) (local.get $G)))
        (local.set $len (select (local.get $G) (i32.sub (local.get $tokens) (local.get $tb0))
          (i32.le_u (i32.add (local.get $tb0) (local.get $G)) (local.get $tokens))))
        ;; element index of the block's first row; first group index of the block
        (local.set $e0 (i32.mul (i32.add (i32.mul (local.get $h) (local.get $tokens)) (local.get $tb0)) (local.get $D)))
        (local.set $gOff (i32.mul (i32.add (i32.mul (local.get $h) (local.get $tgs)) (local.get $tg)) (local.get $D)))
        ;; clear the column accumulators
        (local.set $d (i32.const 0))
        (block $zb
          (loop $zl
            (br_if $zb (i32.ge_u (local.get $d) (local.get $D4)))
            (v128.store (i32.add (local.get $accp) (i32.shl (local.get $d) (i32.const 2))) (local.get $z4))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $zl)))
        (if (i32.eqz (local.get $exact))
          (then
            (local.set $r0 (i32.const 0))
            (block $tb
              (loop $tl
                (br_if $tb (i32.ge_u (local.get $r0) (local.get $len)))
                (local.set $rows (select (i32.const 16) (i32.sub (local.get $len) (local.get $r0))
                  (i32.le_u (i32.add (local.get $r0) (i32.const 16)) (local.get $len))))
                ;; element index of the tile's first row
                (local.set $e (i32.add (local.get $e0) (i32.mul (local.get $r0) (local.get $D))))
                (local.set $d (i32.const 0))
                (block $cb
                  (loop $cl
                    (br_if $cb (i32.ge_u (local.get $d) (local.get $D4)))
                    (local.set $go (i32.shl (i32.add (local.get $gOff) (local.get $d)) (i32.const 2)))
                    (local.set $z0 (v128.load (i32.add (local.get $zp) (local.get $go))))
                    (local.set $s0 (v128.load (i32.add (local.get $sp) (local.get $go))))
                    (local.set $iv0 (v128.load (i32.add (local.get $i32p) (local.get $go))))
                    (local.set $a0 (v128.load (i32.add (local.get $accp) (i32.shl (local.get $d) (i32.const 2)))))
                    (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (local.get $e) (local.get $d)) (i32.const 2))))
                    (local.set $o (i32.add (local.get $dst) (i32.shl (i32.add (local.get $e) (local.get $d)) (i32.const 2))))
                    (local.set $c (i32.add (local.get $codes) (i32.add (local.get $e) (local.get $d))))
                    (local.set $r (local.get $rows))
                    (if (i32x4.all_true (v128.load (i32.add (local.get $flp) (local.get $go))))
                      (then
                        (loop $rs
                          (local.set $v0 (f32x4.mul (f32x4.sub (v128.load (local.get $p)) (local.get $z0)) (local.get $iv0)))
                          (local.set $t0 (f32x4.add (local.get $v0) (local.get $mg)))
                          (local.set $q0 (f32x4.sub (local.get $t0) (local.get $mg)))
                          (local.set $a0 (f32x4.pmax (local.get $a0) (f32x4.abs (f32x4.sub (local.get $v0) (local.get $q0)))))
                          (v128.store (local.get $o) (f32x4.add (f32x4.mul (local.get $q0) (local.get $s0)) (local.get $z0)))
                          (local.set $t0 (i32x4.sub (local.get $t0) (local.get $mg)))
                          (local.set $t0 (i16x8.narrow_i32x4_u (local.get $t0) (local.get $t0)))
                          (v128.store32_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $t0) (local.get $t0)))
                          (local.set $p (i32.add (local.get $p) (local.get $stride)))
                          (local.set $o (i32.add (local.get $o) (local.get $stride)))
                          (local.set $c (i32.add (local.get $c) (local.get $D)))
                          (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                          (br_if $rs (local.get $r))))
                      (else
                        (loop $rc
                          (local.set $v0 (f32x4.pmin (local.get $qm) (f32x4.pmax (local.get $z4) (f32x4.mul (f32x4.sub (v128.load (local.get $p)) (local.get $z0)) (local.get $iv0)))))
                          (local.set $t0 (f32x4.add (local.get $v0) (local.get $mg)))
                          (local.set $q0 (f32x4.sub (local.get $t0) (local.get $mg)))
                          (local.set $a0 (f32x4.pmax (local.get $a0) (f32x4.abs (f32x4.sub (local.get $v0) (local.get $q0)))))
                          (v128.store (local.get $o) (f32x4.add (f32x4.mul (local.get $q0) (local.get $s0)) (local.get $z0)))
                          (local.set $t0 (i32x4.sub (local.get $t0) (local.get $mg)))
                          (local.set $t0 (i16x8.narrow_i32x4_u (local.get $t0) (local.get $t0)))
                          (v128.store32_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $t0) (local.get $t0)))
                          (local.set $p (i32.add (local.get $p) (local.get $stride)))
                          (local.set $o (i32.add (local.get $o) (local.get $stride)))
                          (local.set $c (i32.add (local.get $c) (local.get $D)))
                          (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                          (br_if $rc (local.get $r)))))
                    (v128.store (i32.add (local.get $accp) (i32.shl (local.get $d) (i32.const 2))) (local.get $a0))
                    (local.set $d (i32.add (local.get $d) (i32.const 4)))
                    (br $cl)))
                (local.set $r0 (i32.add (local.get $r0) (i32.const 16)))
                (br $tl)))))
        ;; exact redo of the 4-channel columns in doubt (all of them when forced)
        (local.set $d (i32.const 0))
        (block $xb
          (loop $xl
            (br_if $xb (i32.ge_u (local.get $d) (local.get $D4)))
            (if (i32.or (local.get $exact) (v128.any_true (f32x4.ge
                  (v128.load (i32.add (local.get $accp) (i32.shl (local.get $d) (i32.const 2)))) (local.get $th))))
              (then
                (local.set $go (i32.shl (i32.add (local.get $gOff) (local.get $d)) (i32.const 2)))
                (local.set $z0 (v128.load (i32.add (local.get $zp) (local.get $go))))
                (local.set $s0 (v128.load (i32.add (local.get $sp) (local.get $go))))
                (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (local.get $e0) (local.get $d)) (i32.const 2))))
                (local.set $o (i32.add (local.get $dst) (i32.shl (i32.add (local.get $e0) (local.get $d)) (i32.const 2))))
                (local.set $c (i32.add (local.get $codes) (i32.add (local.get $e0) (local.get $d))))
                (local.set $r (local.get $len))
                (local.set $v0 (call $inv2 (f64x2.promote_low_f32x4 (local.get $s0))))
                (local.set $v1 (call $inv2 (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s0) (local.get $s0)))))
                (loop $xr
                  (call $exact4 (local.get $p) (local.get $o) (local.get $c) (local.get $z0) (local.get $s0)
                    (local.get $v0) (local.get $v1) (local.get $qm64))
                  (local.set $p (i32.add (local.get $p) (local.get $stride)))
                  (local.set $o (i32.add (local.get $o) (local.get $stride)))
                  (local.set $c (i32.add (local.get $c) (local.get $D)))
                  (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                  (br_if $xr (local.get $r)))))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $xl)))
        ;; remaining channels (D mod 4), exact, one column at a time
        (block $sb
          (loop $sl
            (br_if $sb (i32.ge_u (local.get $d) (local.get $D)))
            (local.set $go (i32.shl (i32.add (local.get $gOff) (local.get $d)) (i32.const 2)))
            (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (local.get $e0) (local.get $d)) (i32.const 2))))
            (local.set $o (i32.add (local.get $dst) (i32.shl (i32.add (local.get $e0) (local.get $d)) (i32.const 2))))
            (local.set $c (i32.add (local.get $codes) (i32.add (local.get $e0) (local.get $d))))
            (local.set $r (local.get $len))
            (loop $s1l
              (call $exact1 (local.get $p) (local.get $o) (local.get $c)
                (f64.promote_f32 (f32.load (i32.add (local.get $zp) (local.get $go))))
                (f64.promote_f32 (f32.load (i32.add (local.get $sp) (local.get $go))))
                (call $invOf (f32.load (i32.add (local.get $sp) (local.get $go))))
                (local.get $qm64))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (local.set $o (i32.add (local.get $o) (local.get $stride)))
              (local.set $c (i32.add (local.get $c) (local.get $D)))
              (local.set $r (i32.sub (local.get $r) (i32.const 1)))
              (br_if $s1l (local.get $r)))
            (local.set $d (i32.add (local.get $d) (i32.const 1)))
            (br $sl)))
        (local.set $tg (i32.add (local.get $tg) (i32.const 1)))
        (br_if $tgl (i32.lt_u (local.get $tg) (local.get $tgs))))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br_if $hl (i32.lt_u (local.get $h) (local.get $heads)))))

  ;; =========================================================================================================
  ;; absmax (../absmax.ts, symmetric): per group scale = R(max|x| / qmax) with qmax = 2^(b−1) − 1 and R the fp16/fp32
  ;; metadata rounding, inv = scale > 0 ? 1/scale : 0, q = roundHalfEven(clamp(x·inv, −qmax, qmax)) (JS: `v + M − M`
  ;; with M = 1.5·2^52, which gives +0, never −0, for v ∈ [−0.5, 0.5]), code = q + 2^(b−1), zero = +0,
  ;; x̂ = f32(clamp(q·scale, ±F32_MAX)). Same memory layout as min-max: max|x| per group in the `max` region, scale,
  ;; zero, f32(inv) and a clamp-free flag per group, per-column scratch for the channel axis.
  ;; The JS path has a clamp-free branch (taken when max|x|·inv < qmax + 0.5 and max|x| < 1e38) and a clamped one;
  ;; both compute the clamped formula above (no lane of a clamp-free group has |v| ≥ qmax + 0.5, where alone the
  ;; clamp changes round(v); its y never reaches F32_MAX), so the kernels only implement the clamped formula.
  ;;
  ;; Fast path exactness (fp16 scales). v32 = x ⊗ f32(inv) carries two f32 roundings (f32(inv) — the f32 division
  ;; 1/s equals f32 of the float64 1/s for fp16 s, see minmax_meta — and the product; no subtraction, unlike
  ;; min-max), JS's v one float64 rounding, so |v32 − v| ≤ |v|·(2·2^-24 + 2^-48 + 2^-53) where the products are
  ;; normal (near a half-integer they are: |v| ≥ 0.5; f32(inv) ∈ [2^-16, 2^24] is normal). round(clamp(v)) only
  ;; jumps at half-integers h with |h| ≤ qmax − 0.5 (the clamp points ±qmax are integers), so if v32 and v round
  ;; differently some such h lies between them, |v| < qmax, and v32 is within qmax·2.0001·2^-24 < (qmax + 1)·2^-22
  ;; of h: |v32 − round(v32)| > 0.5 − (qmax + 1)·2^-22. The caller passes thr = 0.5 − (qmax + 1)·2^-22 (exact in f32:
  ;; qmax + 1 is a power of two); a group (token) or 4-channel column (channel) in which some lane reaches it is
  ;; redone from the intact x by $abx4/$abx1, a literal f64 transcription of the JS arithmetic. (Where the tests
  ;; make the two roundings part, v32 sits exactly on a half-integer, |v32 − round(v32)| = 0.5: (k + 0.5)·scale is
  ;; itself an f32; the margin below 0.5 is what the bound needs.) The f32 rounding is the magic-number one,
  ;; t = v32 + 1.5·2^23, q = t − 1.5·2^23: exact ties-to-even for |v32| < 2^22, negatives
  ;; included, and +0 for v32 ∈ [−0.5, 0.5] like the JS; |v32 − q| is exact. The code is read off t's bits
  ;; (bits(1.5·2^23 + q) = 0x4B400000 + q). x̂ = q ⊗ scale is exact in f32 (|q| ≤ 127, 11 significant bits of
  ;; scale, no under/overflow: fp16 scales lie in [2^-24, 65504]), as JS's float64 product is, so both round to
  ;; the same f32; q = +0 gives +0 (JS: +0·scale). Groups flagged clamp-free (max|x| ⊗ f32(inv) ≤ qmax + 0.25:
  ;; every |v32| is at most that, rounding is monotone) skip the clamp; it only matters when the fp16 scale was
  ;; rounded well below max|x|/qmax (subnormal scales) or saturated at 65504. fp32 metadata: thr = −1, all exact.
  ;; Non-finite data: max|x| is taken on the bit patterns of |x| (i32 max: for non-negative floats integer order
  ;; is float order), and NaN/±Infinity are exactly the patterns ≥ 0x7f800000, so pass 1 needs no extra work to
  ;; flag them; the caller then runs the JS path, which throws.

  ;; Pass 1, token axis: max|x| (as f32) of each group of G contiguous f32 at $src, written at $amp. Returns 1 when
  ;; some element is NaN/±Infinity, else 0. Four groups at a time when G is a multiple of 4 (as minmax_token).
  (func $absmax_token (export "absmax_token") (param $src i32) (param $n i32) (param $G i32) (param $amp i32) (result i32)
    (local $base i32) (local $p i32) (local $vend i32) (local $end i32) (local $g i32) (local $gs i32) (local $quadEnd i32)
    (local $ab v128) (local $all v128) (local $m v128) (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $sm i32) (local $xs i32) (local $sall i32)
    (local.set $ab (i32x4.splat (i32.const 0x7fffffff)))
    (if (i32.and (i32.eqz (i32.and (local.get $G) (i32.const 3))) (i32.ge_u (local.get $G) (i32.const 4)))
      (then
        (local.set $gs (i32.shl (local.get $G) (i32.const 2)))
        (local.set $quadEnd (i32.mul (i32.and (i32.div_u (local.get $n) (local.get $G)) (i32.const -4)) (local.get $G)))
        (block $qd
          (loop $ql
            (br_if $qd (i32.ge_u (local.get $base) (local.get $quadEnd)))
            (local.set $p (i32.add (local.get $src) (i32.shl (local.get $base) (i32.const 2))))
            (local.set $vend (i32.add (local.get $p) (local.get $gs)))
            (local.set $m0 (v128.const i32x4 0 0 0 0))
            (local.set $m1 (v128.const i32x4 0 0 0 0))
            (local.set $m2 (v128.const i32x4 0 0 0 0))
            (local.set $m3 (v128.const i32x4 0 0 0 0))
            (loop $vl
              (local.set $m0 (i32x4.max_s (local.get $m0) (v128.and (v128.load (local.get $p)) (local.get $ab))))
              (local.set $m1 (i32x4.max_s (local.get $m1)
                (v128.and (v128.load (i32.add (local.get $p) (local.get $gs))) (local.get $ab))))
              (local.set $m2 (i32x4.max_s (local.get $m2)
                (v128.and (v128.load (i32.add (local.get $p) (i32.shl (local.get $gs) (i32.const 1)))) (local.get $ab))))
              (local.set $m3 (i32x4.max_s (local.get $m3)
                (v128.and (v128.load (i32.add (local.get $p) (i32.mul (local.get $gs) (i32.const 3)))) (local.get $ab))))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (br_if $vl (i32.lt_u (local.get $p) (local.get $vend))))
            ;; 4×4 transpose-reduce: lane k of the result is group k's maximum
            (local.set $m0 (i32x4.max_s (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m0) (local.get $m1))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m0) (local.get $m1))))
            (local.set $m2 (i32x4.max_s (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m2) (local.get $m3))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m2) (local.get $m3))))
            (local.set $m (i32x4.max_s
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $m0) (local.get $m2))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $m0) (local.get $m2))))
            (v128.store (i32.add (local.get $amp) (i32.shl (local.get $g) (i32.const 2))) (local.get $m))
            (local.set $all (i32x4.max_s (local.get $all) (local.get $m)))
            (local.set $g (i32.add (local.get $g) (i32.const 4)))
            (local.set $base (i32.add (local.get $base) (i32.shl (local.get $G) (i32.const 2))))
            (br $ql)))))
    ;; the remaining groups (all of them when G is not a multiple of 4), one at a time
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $base) (local.get $n)))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $base) (i32.const 2))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $G) (i32.const 2))))
        (local.set $vend (i32.add (local.get $p) (i32.shl (i32.and (local.get $G) (i32.const -4)) (i32.const 2))))
        (local.set $m (v128.const i32x4 0 0 0 0))
        (block $vb
          (loop $vl2
            (br_if $vb (i32.ge_u (local.get $p) (local.get $vend)))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (v128.load (local.get $p)) (local.get $ab))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $vl2)))
        (local.set $m (i32x4.max_s (local.get $m)
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
        (local.set $m (i32x4.max_s (local.get $m)
          (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $m) (local.get $m))))
        (local.set $sm (i32x4.extract_lane 0 (local.get $m)))
        (block $sb
          (loop $sl
            (br_if $sb (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $xs (i32.and (i32.load (local.get $p)) (i32.const 0x7fffffff)))
            (local.set $sm (select (local.get $xs) (local.get $sm) (i32.gt_s (local.get $xs) (local.get $sm))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $sl)))
        (i32.store (i32.add (local.get $amp) (i32.shl (local.get $g) (i32.const 2))) (local.get $sm))
        (local.set $sall (select (local.get $sm) (local.get $sall) (i32.gt_s (local.get $sm) (local.get $sall))))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (local.set $base (i32.add (local.get $base) (local.get $G)))
        (br $groups)))
    (i32.or (v128.any_true (i32x4.ge_s (local.get $all) (i32x4.splat (i32.const 0x7f800000))))
      (i32.ge_s (local.get $sall) (i32.const 0x7f800000))))

  ;; Pass 1, channel axis: max|x| per channel of each token block (group (h·tgs + tg)·D + d, as minmax_channel),
  ;; 8, then 4, then 1 channel at a time, rows walked top to bottom. Returns 1 on a NaN/±Infinity, else 0.
  (func (export "absmax_channel") (param $src i32) (param $heads i32) (param $tokens i32) (param $D i32) (param $G i32)
    (param $amp i32) (result i32)
    (local $tgs i32) (local $h i32) (local $tg i32) (local $t0 i32) (local $len i32) (local $row0 i32)
    (local $rowEnd i32) (local $stride i32) (local $gOff i32) (local $d i32) (local $p i32) (local $sm i32) (local $xs i32)
    (local $sall i32) (local $ab v128) (local $all v128) (local $m0 v128) (local $m1 v128)
    (local.set $ab (i32x4.splat (i32.const 0x7fffffff)))
    (local.set $tgs (i32.div_u (i32.sub (i32.add (local.get $tokens) (local.get $G)) (i32.const 1)) (local.get $G)))
    (local.set $stride (i32.shl (local.get $D) (i32.const 2)))
    (loop $hl
      (local.set $tg (i32.const 0))
      (loop $tgl
        (local.set $t0 (i32.mul (local.get $tg) (local.get $G)))
        (local.set $len (select (local.get $G) (i32.sub (local.get $tokens) (local.get $t0))
          (i32.le_u (i32.add (local.get $t0) (local.get $G)) (local.get $tokens))))
        (local.set $row0 (i32.add (local.get $src)
          (i32.shl (i32.mul (i32.add (i32.mul (local.get $h) (local.get $tokens)) (local.get $t0)) (local.get $D)) (i32.const 2))))
        (local.set $rowEnd (i32.add (local.get $row0) (i32.mul (local.get $len) (local.get $stride))))
        (local.set $gOff (i32.add (local.get $amp) (i32.shl (i32.mul (i32.add (i32.mul (local.get $h) (local.get $tgs))
          (local.get $tg)) (local.get $D)) (i32.const 2))))
        (local.set $d (i32.const 0))
        (block $c8b
          (loop $c8l
            (br_if $c8b (i32.gt_u (i32.add (local.get $d) (i32.const 8)) (local.get $D)))
            (local.set $p (i32.add (local.get $row0) (i32.shl (local.get $d) (i32.const 2))))
            (local.set $m0 (v128.const i32x4 0 0 0 0))
            (local.set $m1 (v128.const i32x4 0 0 0 0))
            (loop $rl
              (local.set $m0 (i32x4.max_s (local.get $m0) (v128.and (v128.load (local.get $p)) (local.get $ab))))
              (local.set $m1 (i32x4.max_s (local.get $m1) (v128.and (v128.load offset=16 (local.get $p)) (local.get $ab))))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (br_if $rl (i32.lt_u (local.get $p) (local.get $rowEnd))))
            (local.set $p (i32.add (local.get $gOff) (i32.shl (local.get $d) (i32.const 2))))
            (v128.store (local.get $p) (local.get $m0))
            (v128.store offset=16 (local.get $p) (local.get $m1))
            (local.set $all (i32x4.max_s (local.get $all) (i32x4.max_s (local.get $m0) (local.get $m1))))
            (local.set $d (i32.add (local.get $d) (i32.const 8)))
            (br $c8l)))
        (if (i32.le_u (i32.add (local.get $d) (i32.const 4)) (local.get $D))
          (then
            (local.set $p (i32.add (local.get $row0) (i32.shl (local.get $d) (i32.const 2))))
            (local.set $m0 (v128.const i32x4 0 0 0 0))
            (loop $rl4
              (local.set $m0 (i32x4.max_s (local.get $m0) (v128.and (v128.load (local.get $p)) (local.get $ab))))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (br_if $rl4 (i32.lt_u (local.get $p) (local.get $rowEnd))))
            (v128.store (i32.add (local.get $gOff) (i32.shl (local.get $d) (i32.const 2))) (local.get $m0))
            (local.set $all (i32x4.max_s (local.get $all) (local.get $m0)))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))))
        (block $c1b
          (loop $c1l
            (br_if $c1b (i32.ge_u (local.get $d) (local.get $D)))
            (local.set $p (i32.add (local.get $row0) (i32.shl (local.get $d) (i32.const 2))))
            (local.set $sm (i32.const 0))
            (loop $rl1
              (local.set $xs (i32.and (i32.load (local.get $p)) (i32.const 0x7fffffff)))
              (local.set $sm (select (local.get $xs) (local.get $sm) (i32.gt_s (local.get $xs) (local.get $sm))))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (br_if $rl1 (i32.lt_u (local.get $p) (local.get $rowEnd))))
            (i32.store (i32.add (local.get $gOff) (i32.shl (local.get $d) (i32.const 2))) (local.get $sm))
            (local.set $sall (select (local.get $sm) (local.get $sall) (i32.gt_s (local.get $sm) (local.get $sall))))
            (local.set $d (i32.add (local.get $d) (i32.const 1)))
            (br $c1l)))
        (local.set $tg (i32.add (local.get $tg) (i32.const 1)))
        (br_if $tgl (i32.lt_u (local.get $tg) (local.get $tgs))))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br_if $hl (i32.lt_u (local.get $h) (local.get $heads))))
    (i32.or (v128.any_true (i32x4.ge_s (local.get $all) (i32x4.splat (i32.const 0x7f800000))))
      (i32.ge_s (local.get $sall) (i32.const 0x7f800000))))

  ;; Per-group parameters, four groups per iteration (ceil(groups/4) quads, as minmax_meta): from max|x| (f32 at $amp)
  ;; scale = R(max|x| / qmax) in float64 ($fp16, or $fp32 when $is32), zero = +0, f32(inv) (f32 division, see
  ;; minmax_meta) and the clamp-free flag max|x| ⊗ f32(inv) ≤ qmax + 0.25 (i32 −1/0).
  (func $absmax_meta (export "absmax_meta") (param $amp i32) (param $groups i32) (param $qmax f64) (param $is32 i32)
    (param $zp i32) (param $sp i32) (param $i32p i32) (param $flp i32)
    (local $o i32) (local $end i32) (local $am v128) (local $scl v128) (local $sch v128) (local $s4 v128) (local $iv v128)
    (local $qq v128) (local $lim v128)
    (local.set $end (i32.shl (local.get $groups) (i32.const 2)))
    (local.set $qq (f64x2.splat (local.get $qmax)))
    (local.set $lim (f32x4.splat (f32.add (f32.demote_f64 (local.get $qmax)) (f32.const 0.25))))
    (block $b
      (loop $l
        (br_if $b (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $am (v128.load (i32.add (local.get $amp) (local.get $o))))
        (local.set $scl (f64x2.div (f64x2.promote_low_f32x4 (local.get $am)) (local.get $qq)))
        (local.set $sch (f64x2.div (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $am) (local.get $am))) (local.get $qq)))
        (if (local.get $is32)
          (then
            (local.set $scl (call $fp32 (local.get $scl)))
            (local.set $sch (call $fp32 (local.get $sch))))
          (else
            (local.set $scl (call $fp16 (local.get $scl)))
            (local.set $sch (call $fp16 (local.get $sch)))))
        (local.set $s4 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $scl)) (f32x4.demote_f64x2_zero (local.get $sch))))
        (local.set $iv (v128.and (f32x4.div (f32x4.splat (f32.const 1)) (local.get $s4))
          (f32x4.gt (local.get $s4) (f32x4.splat (f32.const 0)))))
        (v128.store (i32.add (local.get $sp) (local.get $o)) (local.get $s4))
        (v128.store (i32.add (local.get $zp) (local.get $o)) (v128.const i32x4 0 0 0 0))
        (v128.store (i32.add (local.get $i32p) (local.get $o)) (local.get $iv))
        (v128.store (i32.add (local.get $flp) (local.get $o))
          (f32x4.le (f32x4.mul (local.get $am) (local.get $iv)) (local.get $lim)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $l))))

  ;; Exact float64 absmax quantize + dequantize of the 4 elements at $p (x̂ at $o, codes at $c): the JS arithmetic
  ;; operation for operation. $s: the lanes' scales (f32, exact in f64); $ilo, $ihi: their float64 inverses (lanes
  ;; 0–1, 2–3); $off = 2^(b−1). pmax(−qmax, v) / pmin(qmax, v) are the JS ternaries' values (v = ±qmax gives the
  ;; same number either way); `+ M − M` is the JS rounding itself (so −0 and (−0.5, 0) give +0).
  (func $abx4 (param $p i32) (param $o i32) (param $c i32) (param $s v128) (param $ilo v128) (param $ihi v128)
    (param $qmax f64) (param $off f64)
    (local $x v128) (local $qm v128) (local $nq v128) (local $mg v128) (local $vl v128) (local $vh v128)
    (local $yl v128) (local $yh v128) (local $fm v128) (local $nfm v128)
    (local.set $x (v128.load (local.get $p)))
    (local.set $qm (f64x2.splat (local.get $qmax)))
    (local.set $nq (f64x2.neg (local.get $qm)))
    (local.set $mg (f64x2.splat (f64.const 6755399441055744)))
    (local.set $fm (f64x2.splat (f64.const 0x1.fffffep+127)))
    (local.set $nfm (f64x2.neg (local.get $fm)))
    (local.set $vl (f64x2.sub (f64x2.add (f64x2.pmin (local.get $qm) (f64x2.pmax (local.get $nq)
      (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (local.get $ilo)))) (local.get $mg)) (local.get $mg)))
    (local.set $vh (f64x2.sub (f64x2.add (f64x2.pmin (local.get $qm) (f64x2.pmax (local.get $nq)
      (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
        (local.get $ihi)))) (local.get $mg)) (local.get $mg)))
    (local.set $yl (f64x2.pmax (local.get $nfm) (f64x2.pmin (local.get $fm)
      (f64x2.mul (local.get $vl) (f64x2.promote_low_f32x4 (local.get $s))))))
    (local.set $yh (f64x2.pmax (local.get $nfm) (f64x2.pmin (local.get $fm)
      (f64x2.mul (local.get $vh) (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))))
    (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $yl)) (f32x4.demote_f64x2_zero (local.get $yh))))
    (local.set $x (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (i32x4.trunc_sat_f64x2_u_zero (f64x2.add (local.get $vl) (f64x2.splat (local.get $off))))
      (i32x4.trunc_sat_f64x2_u_zero (f64x2.add (local.get $vh) (f64x2.splat (local.get $off))))))
    (local.set $x (i16x8.narrow_i32x4_u (local.get $x) (local.get $x)))
    (v128.store32_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $x) (local.get $x))))

  ;; The same for one element (tails).
  (func $abx1 (param $p i32) (param $o i32) (param $c i32) (param $s f64) (param $inv f64) (param $qmax f64) (param $off f64)
    (local $v f64)
    (local.set $v (f64.mul (f64.promote_f32 (f32.load (local.get $p))) (local.get $inv)))
    (local.set $v (select (f64.neg (local.get $qmax)) (local.get $v) (f64.lt (local.get $v) (f64.neg (local.get $qmax)))))
    (local.set $v (select (local.get $qmax) (local.get $v) (f64.gt (local.get $v) (local.get $qmax))))
    (local.set $v (f64.sub (f64.add (local.get $v) (f64.const 6755399441055744)) (f64.const 6755399441055744)))
    (i32.store8 (local.get $c) (i32.trunc_f64_u (f64.add (local.get $v) (local.get $off))))
    (local.set $v (f64.mul (local.get $v) (local.get $s)))
    (local.set $v (select (f64.const 0x1.fffffep+127) (local.get $v) (f64.gt (local.get $v) (f64.const 0x1.fffffep+127))))
    (local.set $v (select (f64.const -0x1.fffffep+127) (local.get $v) (f64.lt (local.get $v) (f64.const -0x1.fffffep+127))))
    (f32.store (local.get $o) (f32.demote_f64 (local.get $v))))

  ;; Pass 2, token axis (as quant_token): per group, the f32 fast loop (8 lanes per iteration; clamp-free when the
  ;; group's flag says so) tracks the largest |v − q|; when it reaches $thr (or always when $thr < 0) the group's
  ;; whole vectors are redone with $abx4; the G mod 4 tail always goes through $abx1. x at $src, x̂ at $dst (its own
  ;; region), codes at $codes; scale, f32(inv), flag per group at $sp, $i32p, $flp.
  (func $absmax_quant_token (export "absmax_quant_token") (param $src i32) (param $dst i32) (param $codes i32) (param $n i32)
    (param $G i32) (param $flp i32) (param $sp i32) (param $i32p i32) (param $qmax f32) (param $thr f32)
    (local $base i32) (local $p i32) (local $o i32) (local $c i32) (local $vend i32) (local $end i32) (local $g4 i32)
    (local $p0 i32) (local $o0 i32) (local $c0 i32) (local $exact i32)
    (local $s v128) (local $iv v128) (local $i64 v128) (local $qm v128) (local $nqm v128) (local $th v128) (local $mg v128)
    (local $cof v128) (local $acc v128) (local $v0 v128) (local $v1 v128) (local $t0 v128) (local $t1 v128) (local $q0 v128)
    (local $q1 v128) (local $sf f32) (local $qm64 f64) (local $off64 f64)
    (local.set $mg (f32x4.splat (f32.const 12582912)))
    (local.set $qm (f32x4.splat (local.get $qmax)))
    (local.set $nqm (f32x4.neg (local.get $qm)))
    (local.set $th (f32x4.splat (local.get $thr)))
    (local.set $qm64 (f64.promote_f32 (local.get $qmax)))
    (local.set $off64 (f64.add (local.get $qm64) (f64.const 1)))
    ;; bits(1.5·2^23 + q) − (0x4B400000 − 2^(b−1)) = q + 2^(b−1)
    (local.set $cof (i32x4.splat (i32.sub (i32.const 0x4B400000) (i32.trunc_f64_u (local.get $off64)))))
    (local.set $exact (f32.lt (local.get $thr) (f32.const 0)))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $base) (local.get $n)))
        (local.set $p0 (i32.add (local.get $src) (i32.shl (local.get $base) (i32.const 2))))
        (local.set $o0 (i32.add (local.get $dst) (i32.shl (local.get $base) (i32.const 2))))
        (local.set $c0 (i32.add (local.get $codes) (local.get $base)))
        (local.set $end (i32.add (local.get $p0) (i32.shl (local.get $G) (i32.const 2))))
        (local.set $vend (i32.add (local.get $p0) (i32.shl (i32.and (local.get $G) (i32.const -4)) (i32.const 2))))
        (local.set $sf (f32.load (i32.add (local.get $sp) (local.get $g4))))
        (local.set $s (f32x4.splat (local.get $sf)))
        (local.set $iv (v128.load32_splat (i32.add (local.get $i32p) (local.get $g4))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $p (local.get $p0))
        (local.set $o (local.get $o0))
        (local.set $c (local.get $c0))
        (if (i32.eqz (local.get $exact))
          (then
            (if (i32.load (i32.add (local.get $flp) (local.get $g4)))
              (then
                (block $wb
                  (loop $wl
                    (br_if $wb (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $vend)))
                    (local.set $v0 (f32x4.mul (v128.load (local.get $p)) (local.get $iv)))
                    (local.set $v1 (f32x4.mul (v128.load offset=16 (local.get $p)) (local.get $iv)))
                    (local.set $t0 (f32x4.add (local.get $v0) (local.get $mg)))
                    (local.set $t1 (f32x4.add (local.get $v1) (local.get $mg)))
                    (local.set $q0 (f32x4.sub (local.get $t0) (local.get $mg)))
                    (local.set $q1 (f32x4.sub (local.get $t1) (local.get $mg)))
                    (local.set $acc (f32x4.pmax (local.get $acc) (f32x4.pmax (f32x4.abs (f32x4.sub (local.get $v0) (local.get $q0)))
                      (f32x4.abs (f32x4.sub (local.get $v1) (local.get $q1))))))
                    (v128.store (local.get $o) (f32x4.mul (local.get $q0) (local.get $s)))
                    (v128.store offset=16 (local.get $o) (f32x4.mul (local.get $q1) (local.get $s)))
                    (local.set $t0 (i16x8.narrow_i32x4_u (i32x4.sub (local.get $t0) (local.get $cof)) (i32x4.sub (local.get $t1) (local.get $cof))))
                    (v128.store64_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $t0) (local.get $t0)))
                    (local.set $p (i32.add (local.get $p) (i32.const 32)))
                    (local.set $o (i32.add (local.get $o) (i32.const 32)))
                    (local.set $c (i32.add (local.get $c) (i32.const 8)))
                    (br $wl))))
              (else
                (block $cb
                  (loop $cl
                    (br_if $cb (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $vend)))
                    (local.set $v0 (f32x4.pmin (local.get $qm) (f32x4.pmax (local.get $nqm)
                      (f32x4.mul (v128.load (local.get $p)) (local.get $iv)))))
                    (local.set $v1 (f32x4.pmin (local.get $qm) (f32x4.pmax (local.get $nqm)
                      (f32x4.mul (v128.load offset=16 (local.get $p)) (local.get $iv)))))
                    (local.set $t0 (f32x4.add (local.get $v0) (local.get $mg)))
                    (local.set $t1 (f32x4.add (local.get $v1) (local.get $mg)))
                    (local.set $q0 (f32x4.sub (local.get $t0) (local.get $mg)))
                    (local.set $q1 (f32x4.sub (local.get $t1) (local.get $mg)))
                    (local.set $acc (f32x4.pmax (local.get $acc) (f32x4.pmax (f32x4.abs (f32x4.sub (local.get $v0) (local.get $q0)))
                      (f32x4.abs (f32x4.sub (local.get $v1) (local.get $q1))))))
                    (v128.store (local.get $o) (f32x4.mul (local.get $q0) (local.get $s)))
                    (v128.store offset=16 (local.get $o) (f32x4.mul (local.get $q1) (local.get $s)))
                    (local.set $t0 (i16x8.narrow_i32x4_u (i32x4.sub (local.get $t0) (local.get $cof)) (i32x4.sub (local.get $t1) (local.get $cof))))
                    (v128.store64_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $t0) (local.get $t0)))
                    (local.set $p (i32.add (local.get $p) (i32.const 32)))
                    (local.set $o (i32.add (local.get $o) (i32.const 32)))
                    (local.set $c (i32.add (local.get $c) (i32.const 8)))
                    (br $cl)))))
            ;; the remaining whole vector (G mod 8 ≥ 4), clamped (fine for clamp-free groups too)
            (if (i32.le_u (i32.add (local.get $p) (i32.const 16)) (local.get $vend))
              (then
                (local.set $v0 (f32x4.pmin (local.get $qm) (f32x4.pmax (local.get $nqm)
                  (f32x4.mul (v128.load (local.get $p)) (local.get $iv)))))
                (local.set $t0 (f32x4.add (local.get $v0) (local.get $mg)))
                (local.set $q0 (f32x4.sub (local.get $t0) (local.get $mg)))
                (local.set $acc (f32x4.pmax (local.get $acc) (f32x4.abs (f32x4.sub (local.get $v0) (local.get $q0)))))
                (v128.store (local.get $o) (f32x4.mul (local.get $q0) (local.get $s)))
                (local.set $t0 (i32x4.sub (local.get $t0) (local.get $cof)))
                (local.set $t0 (i16x8.narrow_i32x4_u (local.get $t0) (local.get $t0)))
                (v128.store32_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $t0) (local.get $t0)))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))))))
        (if (i32.or (local.get $exact) (v128.any_true (f32x4.ge (local.get $acc) (local.get $th))))
          (then
            (local.set $p (local.get $p0))
            (local.set $o (local.get $o0))
            (local.set $c (local.get $c0))
            (local.set $i64 (f64x2.splat (call $invOf (local.get $sf))))
            (block $xb
              (loop $xl
                (br_if $xb (i32.ge_u (local.get $p) (local.get $vend)))
                (call $abx4 (local.get $p) (local.get $o) (local.get $c) (local.get $s) (local.get $i64) (local.get $i64)
                  (local.get $qm64) (local.get $off64))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br $xl)))))
        ;; scalar tail (G mod 4), always exact
        (block $sb
          (loop $sl
            (br_if $sb (i32.ge_u (local.get $p) (local.get $end)))
            (call $abx1 (local.get $p) (local.get $o) (local.get $c) (f64.promote_f32 (local.get $sf))
              (call $invOf (local.get $sf)) (local.get $qm64) (local.get $off64))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $sl)))
        (local.set $g4 (i32.add (local.get $g4) (i32.const 4)))
        (local.set $base (i32.add (local.get $base) (local.get $G)))
        (br $groups))))

  ;; Token axis, chunk by chunk (as fq_token): pass 1, metadata and pass 2 on $chunkGroups groups (a multiple of 4)
  ;; at a time. Returns 1 as soon as a chunk holds a NaN/±Infinity (earlier chunks' outputs written: the values the
  ;; JS path writes for them before it throws), else 0.
  (func (export "fq_absmax_token") (param $src i32) (param $dst i32) (param $codes i32) (param $n i32) (param $G i32)
    (param $amp i32) (param $flp i32) (param $zp i32) (param $sp i32) (param $i32p i32)
    (param $qmax f32) (param $thr f32) (param $is32 i32) (param $chunkGroups i32) (result i32)
    (local $o i32) (local $ce i32) (local $g4 i32) (local $cg i32)
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $o) (local.get $n)))
        (local.set $ce (i32.mul (local.get $chunkGroups) (local.get $G)))
        (local.set $ce (select (local.get $ce) (i32.sub (local.get $n) (local.get $o))
          (i32.le_u (local.get $ce) (i32.sub (local.get $n) (local.get $o)))))
        (local.set $cg (i32.div_u (local.get $ce) (local.get $G)))
        (if (call $absmax_token (i32.add (local.get $src) (i32.shl (local.get $o) (i32.const 2))) (local.get $ce)
              (local.get $G) (i32.add (local.get $amp) (local.get $g4)))
          (then (return (i32.const 1))))
        (call $absmax_meta (i32.add (local.get $amp) (local.get $g4)) (local.get $cg) (f64.promote_f32 (local.get $qmax))
          (local.get $is32) (i32.add (local.get $zp) (local.get $g4)) (i32.add (local.get $sp) (local.get $g4))
          (i32.add (local.get $i32p) (local.get $g4)) (i32.add (local.get $flp) (local.get $g4)))
        (call $absmax_quant_token (i32.add (local.get $src) (i32.shl (local.get $o) (i32.const 2)))
          (i32.add (local.get $dst) (i32.shl (local.get $o) (i32.const 2))) (i32.add (local.get $codes) (local.get $o))
          (local.get $ce) (local.get $G) (i32.add (local.get $flp) (local.get $g4)) (i32.add (local.get $sp) (local.get $g4))
          (i32.add (local.get $i32p) (local.get $g4)) (local.get $qmax) (local.get $thr))
        (local.set $o (i32.add (local.get $o) (local.get $ce)))
        (local.set $g4 (i32.add (local.get $g4) (i32.shl (local.get $cg) (i32.const 2))))
        (br $chunks)))
    (i32.const 0))

  ;; Pass 2, channel axis (as quant_channel): per head and token block, tiles of 16 rows, 4 channels at a time with
  ;; their scale and f32(inv) in registers and the largest |v − q| per 4-channel column kept at $accp across tiles;
  ;; a column that reached $thr (all of them when $thr < 0) is redone with $abx4 after the block; the D mod 4 last
  ;; channels go through $abx1.
  (func (export "absmax_quant_channel") (param $src i32) (param $dst i32) (param $codes i32) (param $heads i32)
    (param $tokens i32) (param $D i32) (param $G i32) (param $flp i32) (param $sp i32) (param $i32p i32)
    (param $accp i32) (param $qmax f32) (param $thr f32)
    (local $tgs i32) (local $h i32) (local $tg i32) (local $tb0 i32) (local $len i32) (local $e0 i32) (local $r0 i32)
    (local $rows i32) (local $gOff i32) (local $d i32) (local $D4 i32) (local $stride i32) (local $r i32) (local $go i32)
    (local $p i32) (local $o i32) (local $c i32) (local $exact i32) (local $e i32)
    (local $s0 v128) (local $iv0 v128) (local $a0 v128) (local $qm v128) (local $nqm v128) (local $th v128) (local $mg v128)
    (local $cof v128) (local $v0 v128) (local $v1 v128) (local $t0 v128) (local $q0 v128)
    (local $qm64 f64) (local $off64 f64)
    (local.set $mg (f32x4.splat (f32.const 12582912)))
    (local.set $qm (f32x4.splat (local.get $qmax)))
    (local.set $nqm (f32x4.neg (local.get $qm)))
    (local.set $th (f32x4.splat (local.get $thr)))
    (local.set $qm64 (f64.promote_f32 (local.get $qmax)))
    (local.set $off64 (f64.add (local.get $qm64) (f64.const 1)))
    (local.set $cof (i32x4.splat (i32.sub (i32.const 0x4B400000) (i32.trunc_f64_u (local.get $off64)))))
    (local.set $exact (f32.lt (local.get $thr) (f32.const 0)))
    (local.set $tgs (i32.div_u (i32.sub (i32.add (local.get $tokens) (local.get $G)) (i32.const 1)) (local.get $G)))
    (local.set $D4 (i32.and (local.get $D) (i32.const -4)))
    (local.set $stride (i32.shl (local.get $D) (i32.const 2)))
    (loop $hl
      (local.set $tg (i32.const 0))
      (loop $tgl
        (local.set $tb0 (i32.mul (local.get $tg) (local.get $G)))
        (local.set $len (select (local.get $G) (i32.sub (local.get $tokens) (local.get $tb0))
          (i32.le_u (i32.add (local.get $tb0) (local.get $G)) (local.get $tokens))))
        (local.set $e0 (i32.mul (i32.add (i32.mul (local.get $h) (local.get $tokens)) (local.get $tb0)) (local.get $D)))
        (local.set $gOff (i32.mul (i32.add (i32.mul (local.get $h) (local.get $tgs)) (local.get $tg)) (local.get $D)))
        (local.set $d (i32.const 0))
        (block $zb
          (loop $zl
            (br_if $zb (i32.ge_u (local.get $d) (local.get $D4)))
            (v128.store (i32.add (local.get $accp) (i32.shl (local.get $d) (i32.const 2))) (v128.const i32x4 0 0 0 0))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $zl)))
        (if (i32.eqz (local.get $exact))
          (then
            (local.set $r0 (i32.const 0))
            (block $tb
              (loop $tl
                (br_if $tb (i32.ge_u (local.get $r0) (local.get $len)))
                (local.set $rows (select (i32.const 16) (i32.sub (local.get $len) (local.get $r0))
                  (i32.le_u (i32.add (local.get $r0) (i32.const 16)) (local.get $len))))
                (local.set $e (i32.add (local.get $e0) (i32.mul (local.get $r0) (local.get $D))))
                (local.set $d (i32.const 0))
                (block $cb
                  (loop $cl
                    (br_if $cb (i32.ge_u (local.get $d) (local.get $D4)))
                    (local.set $go (i32.shl (i32.add (local.get $gOff) (local.get $d)) (i32.const 2)))
                    (local.set $s0 (v128.load (i32.add (local.get $sp) (local.get $go))))
                    (local.set $iv0 (v128.load (i32.add (local.get $i32p) (local.get $go))))
                    (local.set $a0 (v128.load (i32.add (local.get $accp) (i32.shl (local.get $d) (i32.const 2)))))
                    (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (local.get $e) (local.get $d)) (i32.const 2))))
                    (local.set $o (i32.add (local.get $dst) (i32.shl (i32.add (local.get $e) (local.get $d)) (i32.const 2))))
                    (local.set $c (i32.add (local.get $codes) (i32.add (local.get $e) (local.get $d))))
                    (local.set $r (local.get $rows))
                    (if (i32x4.all_true (v128.load (i32.add (local.get $flp) (local.get $go))))
                      (then
                        (loop $rs
                          (local.set $v0 (f32x4.mul (v128.load (local.get $p)) (local.get $iv0)))
                          (local.set $t0 (f32x4.add (local.get $v0) (local.get $mg)))
                          (local.set $q0 (f32x4.sub (local.get $t0) (local.get $mg)))
                          (local.set $a0 (f32x4.pmax (local.get $a0) (f32x4.abs (f32x4.sub (local.get $v0) (local.get $q0)))))
                          (v128.store (local.get $o) (f32x4.mul (local.get $q0) (local.get $s0)))
                          (local.set $t0 (i32x4.sub (local.get $t0) (local.get $cof)))
                          (local.set $t0 (i16x8.narrow_i32x4_u (local.get $t0) (local.get $t0)))
                          (v128.store32_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $t0) (local.get $t0)))
                          (local.set $p (i32.add (local.get $p) (local.get $stride)))
                          (local.set $o (i32.add (local.get $o) (local.get $stride)))
                          (local.set $c (i32.add (local.get $c) (local.get $D)))
                          (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                          (br_if $rs (local.get $r))))
                      (else
                        (loop $rc
                          (local.set $v0 (f32x4.pmin (local.get $qm) (f32x4.pmax (local.get $nqm)
                            (f32x4.mul (v128.load (local.get $p)) (local.get $iv0)))))
                          (local.set $t0 (f32x4.add (local.get $v0) (local.get $mg)))
                          (local.set $q0 (f32x4.sub (local.get $t0) (local.get $mg)))
                          (local.set $a0 (f32x4.pmax (local.get $a0) (f32x4.abs (f32x4.sub (local.get $v0) (local.get $q0)))))
                          (v128.store (local.get $o) (f32x4.mul (local.get $q0) (local.get $s0)))
                          (local.set $t0 (i32x4.sub (local.get $t0) (local.get $cof)))
                          (local.set $t0 (i16x8.narrow_i32x4_u (local.get $t0) (local.get $t0)))
                          (v128.store32_lane 0 (local.get $c) (i8x16.narrow_i16x8_u (local.get $t0) (local.get $t0)))
                          (local.set $p (i32.add (local.get $p) (local.get $stride)))
                          (local.set $o (i32.add (local.get $o) (local.get $stride)))
                          (local.set $c (i32.add (local.get $c) (local.get $D)))
                          (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                          (br_if $rc (local.get $r)))))
                    (v128.store (i32.add (local.get $accp) (i32.shl (local.get $d) (i32.const 2))) (local.get $a0))
                    (local.set $d (i32.add (local.get $d) (i32.const 4)))
                    (br $cl)))
                (local.set $r0 (i32.add (local.get $r0) (i32.const 16)))
                (br $tl)))))
        ;; exact redo of the 4-channel columns in doubt (all of them when forced)
        (local.set $d (i32.const 0))
        (block $xb
          (loop $xl
            (br_if $xb (i32.ge_u (local.get $d) (local.get $D4)))
            (if (i32.or (local.get $exact) (v128.any_true (f32x4.ge
                  (v128.load (i32.add (local.get $accp) (i32.shl (local.get $d) (i32.const 2)))) (local.get $th))))
              (then
                (local.set $go (i32.shl (i32.add (local.get $gOff) (local.get $d)) (i32.const 2)))
                (local.set $s0 (v128.load (i32.add (local.get $sp) (local.get $go))))
                (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (local.get $e0) (local.get $d)) (i32.const 2))))
                (local.set $o (i32.add (local.get $dst) (i32.shl (i32.add (local.get $e0) (local.get $d)) (i32.const 2))))
                (local.set $c (i32.add (local.get $codes) (i32.add (local.get $e0) (local.get $d))))
                (local.set $r (local.get $len))
                (local.set $v0 (call $inv2 (f64x2.promote_low_f32x4 (local.get $s0))))
                (local.set $v1 (call $inv2 (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s0) (local.get $s0)))))
                (loop $xr
                  (call $abx4 (local.get $p) (local.get $o) (local.get $c) (local.get $s0) (local.get $v0) (local.get $v1)
                    (local.get $qm64) (local.get $off64))
                  (local.set $p (i32.add (local.get $p) (local.get $stride)))
                  (local.set $o (i32.add (local.get $o) (local.get $stride)))
                  (local.set $c (i32.add (local.get $c) (local.get $D)))
                  (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                  (br_if $xr (local.get $r)))))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $xl)))
        ;; remaining channels (D mod 4), exact, one column at a time
        (block $sb
          (loop $sl
            (br_if $sb (i32.ge_u (local.get $d) (local.get $D)))
            (local.set $go (i32.shl (i32.add (local.get $gOff) (local.get $d)) (i32.const 2)))
            (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (local.get $e0) (local.get $d)) (i32.const 2))))
            (local.set $o (i32.add (local.get $dst) (i32.shl (i32.add (local.get $e0) (local.get $d)) (i32.const 2))))
            (local.set $c (i32.add (local.get $codes) (i32.add (local.get $e0) (local.get $d))))
            (local.set $r (local.get $len))
            (loop $s1l
              (call $abx1 (local.get $p) (local.get $o) (local.get $c)
                (f64.promote_f32 (f32.load (i32.add (local.get $sp) (local.get $go))))
                (call $invOf (f32.load (i32.add (local.get $sp) (local.get $go))))
                (local.get $qm64) (local.get $off64))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (local.set $o (i32.add (local.get $o) (local.get $stride)))
              (local.set $c (i32.add (local.get $c) (local.get $D)))
              (local.set $r (i32.sub (local.get $r) (i32.const 1)))
              (br_if $s1l (local.get $r)))
            (local.set $d (i32.add (local.get $d) (i32.const 1)))
            (br $sl)))
        (local.set $tg (i32.add (local.get $tg) (i32.const 1)))
        (br_if $tgl (i32.lt_u (local.get $tg) (local.get $tgs))))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br_if $hl (i32.lt_u (local.get $h) (local.get $heads)))))
)
