;; Batched matrix products over tfjs-backend-wasm's heap (imported: the tensors' memory), float32,
;; row-major, four lanes of WASM SIMD, byte offsets. tfjs's WASM batched matMul runs a generic
;; blocked loop at well under a tenth of what SIMD gives on the attention products ([b·heads, L, L]
;; against [b·heads, L, d] with d of a few lanes); these vectorise across the output's columns, and
;; every output element is summed over the inner index in order.
(module
  (import "env" "memory" (memory 1))

  ;; C[b] = A[b]·B[b]        A: [batch, m, k], B: [batch, k, n], C: [batch, m, n]
  (func (export "matmulNN") (param $A i32) (param $B i32) (param $C i32) (param $batch i32) (param $m i32) (param $k i32) (param $n i32)
    (local $b i32) (local $i i32) (local $j i32) (local $t i32) (local $n4 i32) (local $rowA i32) (local $colB i32)
    (local $acc v128) (local $s f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $batches_done (loop $batches
      (br_if $batches_done (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $rowA (local.get $A))
      (local.set $i (i32.const 0))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $j (i32.const 0))
        ;; four output columns at a time: acc = Σ_t A[i,t] · B[t, j..j+3]
        (block $quads_done (loop $quads
          (br_if $quads_done (i32.ge_u (local.get $j) (local.get $n4)))
          (local.set $acc (v128.const f32x4 0 0 0 0))
          (local.set $colB (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $t (i32.const 0))
          (block $inner_done (loop $inner
            (br_if $inner_done (i32.ge_u (local.get $t) (local.get $k)))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul (v128.load32_splat (i32.add (local.get $rowA) (i32.shl (local.get $t) (i32.const 2))))
                         (v128.load align=4 (local.get $colB)))))
            (local.set $colB (i32.add (local.get $colB) (i32.shl (local.get $n) (i32.const 2))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $inner)))
          (v128.store align=4 (i32.add (local.get $C) (i32.shl (local.get $j) (i32.const 2))) (local.get $acc))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $quads)))
        ;; the last n mod 4 columns
        (block $rest_done (loop $rest
          (br_if $rest_done (i32.ge_u (local.get $j) (local.get $n)))
          (local.set $s (f32.const 0))
          (local.set $colB (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $t (i32.const 0))
          (block $inner_done (loop $inner
            (br_if $inner_done (i32.ge_u (local.get $t) (local.get $k)))
            (local.set $s (f32.add (local.get $s)
              (f32.mul (f32.load (i32.add (local.get $rowA) (i32.shl (local.get $t) (i32.const 2)))) (f32.load (local.get $colB)))))
            (local.set $colB (i32.add (local.get $colB) (i32.shl (local.get $n) (i32.const 2))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $inner)))
          (f32.store (i32.add (local.get $C) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $rest)))
        (local.set $rowA (i32.add (local.get $rowA) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $C (i32.add (local.get $C) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
      (local.set $A (local.get $rowA))
      (local.set $B (i32.add (local.get $B) (i32.shl (i32.mul (local.get $k) (local.get $n)) (i32.const 2))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $batches))))

  ;; C[b] = A[b]ᵀ·B[b]       A: [batch, k, m], B: [batch, k, n], C: [batch, m, n]
  ;; As k rank-one updates, C[i,:] += A[t,i] · B[t,:], so both operands are read in memory order.
  (func (export "matmulTN") (param $A i32) (param $B i32) (param $C i32) (param $batch i32) (param $m i32) (param $k i32) (param $n i32)
    (local $b i32) (local $i i32) (local $j i32) (local $t i32) (local $n4 i32) (local $rowB i32) (local $rowC i32) (local $q i32)
    (local $av f32) (local $as v128)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $batches_done (loop $batches
      (br_if $batches_done (i32.ge_u (local.get $b) (local.get $batch)))
      (memory.fill (local.get $C) (i32.const 0) (i32.shl (i32.mul (local.get $m) (local.get $n)) (i32.const 2)))
      (local.set $rowB (local.get $B))
      (local.set $t (i32.const 0))
      (block $steps_done (loop $steps
        (br_if $steps_done (i32.ge_u (local.get $t) (local.get $k)))
        (local.set $rowC (local.get $C))
        (local.set $i (i32.const 0))
        (block $rows_done (loop $rows
          (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
          (local.set $av (f32.load (local.get $A)))
          (local.set $as (f32x4.splat (local.get $av)))
          (local.set $j (i32.const 0))
          (block $quads_done (loop $quads
            (br_if $quads_done (i32.ge_u (local.get $j) (local.get $n4)))
            (local.set $q (i32.add (local.get $rowC) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store align=4 (local.get $q) (f32x4.add (v128.load align=4 (local.get $q))
              (f32x4.mul (local.get $as) (v128.load align=4 (i32.add (local.get $rowB) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $quads)))
          (block $rest_done (loop $rest
            (br_if $rest_done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $q (i32.add (local.get $rowC) (i32.shl (local.get $j) (i32.const 2))))
            (f32.store (local.get $q) (f32.add (f32.load (local.get $q))
              (f32.mul (local.get $av) (f32.load (i32.add (local.get $rowB) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $rest)))
          (local.set $A (i32.add (local.get $A) (i32.const 4)))
          (local.set $rowC (i32.add (local.get $rowC) (i32.shl (local.get $n) (i32.const 2))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rows)))
        (local.set $rowB (i32.add (local.get $rowB) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $steps)))
      (local.set $B (local.get $rowB))
      (local.set $C (i32.add (local.get $C) (i32.shl (i32.mul (local.get $m) (local.get $n)) (i32.const 2))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $batches))))
)
