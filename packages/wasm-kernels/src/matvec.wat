;; Batched matrix-vector products over tfjs-backend-wasm's heap (imported: the tensors' memory).
;; Float32, row-major, four lanes of WASM SIMD; addresses are byte offsets into that memory.
;; tfjs runs A·x as a general matrix product with one column, which XNNPACK computes at a fraction
;; of the memory bandwidth; these stream A once at about the speed of reading it.
(module
  (import "env" "memory" (memory 1))

  ;; out[b,i] = Σ_j A[b,i,j] x[b,j]        A: [batch, m, n], x: [batch, n], out: [batch, m]
  (func (export "matvec") (param $A i32) (param $x i32) (param $out i32) (param $batch i32) (param $m i32) (param $n i32)
    (local $b i32) (local $i i32) (local $j i32) (local $n4 i32) (local $acc v128) (local $s f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $batches_done (loop $batches
      (br_if $batches_done (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $i (i32.const 0))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $quads_done (loop $quads
          (br_if $quads_done (i32.ge_u (local.get $j) (local.get $n4)))
          (local.set $acc (f32x4.add (local.get $acc)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $A) (i32.shl (local.get $j) (i32.const 2))))
                       (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $quads)))
        (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                               (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        ;; the last n mod 4 columns
        (block $rest_done (loop $rest
          (br_if $rest_done (i32.ge_u (local.get $j) (local.get $n)))
          (local.set $s (f32.add (local.get $s)
            (f32.mul (f32.load (i32.add (local.get $A) (i32.shl (local.get $j) (i32.const 2))))
                     (f32.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $rest)))
        (f32.store (local.get $out) (local.get $s))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $A (i32.add (local.get $A) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $batches))))

  ;; out[b,j] = Σ_i A[b,i,j] r[b,i]        A: [batch, m, n], r: [batch, m], out: [batch, n]
  ;; Row by row (out += r_i · A[i,:]), so A is read in its memory order, never transposed.
  (func (export "matvecT") (param $A i32) (param $r i32) (param $out i32) (param $batch i32) (param $m i32) (param $n i32)
    (local $b i32) (local $i i32) (local $j i32) (local $n4 i32) (local $q i32) (local $ri f32) (local $rv v128)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $batches_done (loop $batches
      (br_if $batches_done (i32.ge_u (local.get $b) (local.get $batch)))
      (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))
      (local.set $i (i32.const 0))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $ri (f32.load (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $rv (f32x4.splat (local.get $ri)))
        (local.set $j (i32.const 0))
        (block $quads_done (loop $quads
          (br_if $quads_done (i32.ge_u (local.get $j) (local.get $n4)))
          (local.set $q (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
          (v128.store align=4 (local.get $q)
            (f32x4.add (v128.load align=4 (local.get $q))
              (f32x4.mul (local.get $rv) (v128.load align=4 (i32.add (local.get $A) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $quads)))
        (block $rest_done (loop $rest
          (br_if $rest_done (i32.ge_u (local.get $j) (local.get $n)))
          (local.set $q (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
          (f32.store (local.get $q)
            (f32.add (f32.load (local.get $q))
              (f32.mul (local.get $ri) (f32.load (i32.add (local.get $A) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $rest)))
        (local.set $A (i32.add (local.get $A) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
      (local.set $r (i32.add (local.get $r) (i32.shl (local.get $m) (i32.const 2))))
      (local.set $out (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $batches))))

  ;; out[b] = A[b]ᵀ(A[b]·x[b] − y[b])     A: [batch, m, n], x: [batch, n], y: [batch, m] (0: none), out: [batch, n]
  ;; A least-squares gradient in one pass over A: each row's residual r_i = A_i·x − y_i, summed as
  ;; matvec sums it, then out += r_i · A_i as in matvecT, while the row is still in cache. The same
  ;; values as matvecT(matvec(x) − y), with A read once instead of twice.
  (func (export "normalResidual") (param $A i32) (param $x i32) (param $y i32) (param $out i32) (param $batch i32) (param $m i32) (param $n i32)
    (local $i i32) (local $j i32) (local $n4 i32) (local $q i32) (local $acc v128) (local $s f32) (local $rv v128)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $batches_done (loop $batches
      (br_if $batches_done (i32.eqz (local.get $batch)))
      (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))
      (local.set $i (i32.const 0))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
        ;; r_i = A_i·x − y_i
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $quads_done (loop $quads
          (br_if $quads_done (i32.ge_u (local.get $j) (local.get $n4)))
          (local.set $acc (f32x4.add (local.get $acc)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $A) (i32.shl (local.get $j) (i32.const 2))))
                       (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $quads)))
        (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                               (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $rest_done (loop $rest
          (br_if $rest_done (i32.ge_u (local.get $j) (local.get $n)))
          (local.set $s (f32.add (local.get $s)
            (f32.mul (f32.load (i32.add (local.get $A) (i32.shl (local.get $j) (i32.const 2))))
                     (f32.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $rest)))
        (if (local.get $y) (then
          (local.set $s (f32.sub (local.get $s) (f32.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))))))
        ;; out += r_i · A_i
        (local.set $rv (f32x4.splat (local.get $s)))
        (local.set $j (i32.const 0))
        (block $uquads_done (loop $uquads
          (br_if $uquads_done (i32.ge_u (local.get $j) (local.get $n4)))
          (local.set $q (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
          (v128.store align=4 (local.get $q)
            (f32x4.add (v128.load align=4 (local.get $q))
              (f32x4.mul (local.get $rv) (v128.load align=4 (i32.add (local.get $A) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $uquads)))
        (block $urest_done (loop $urest
          (br_if $urest_done (i32.ge_u (local.get $j) (local.get $n)))
          (local.set $q (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
          (f32.store (local.get $q)
            (f32.add (f32.load (local.get $q))
              (f32.mul (local.get $s) (f32.load (i32.add (local.get $A) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $urest)))
        (local.set $A (i32.add (local.get $A) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
      (if (local.get $y) (then (local.set $y (i32.add (local.get $y) (i32.shl (local.get $m) (i32.const 2))))))
      (local.set $out (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
      (local.set $batch (i32.sub (local.get $batch) (i32.const 1)))
      (br $batches))))
)
