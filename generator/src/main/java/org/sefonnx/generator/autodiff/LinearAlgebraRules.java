package org.sefonnx.generator.autodiff;

import org.sefonnx.generator.onnx.Value;

/** Gemm and MatMul. */
final class LinearAlgebraRules {
    private LinearAlgebraRules() {}

    static void register(GradientRegistry r) {
        // Y = op(A)·op(B) + C with alpha = beta = 1 (the only form the model emits)
        r.register("Gemm", c -> {
            var n = c.node();
            if (n.attrFloat("alpha", 1f) != 1f || n.attrFloat("beta", 1f) != 1f) {
                throw new IllegalStateException("Gemm rule supports alpha = beta = 1 only: " + n.name);
            }
            boolean ta = n.attrInt("transA", 0) == 1, tb = n.attrInt("transB", 0) == 1;
            var ops = c.ops();
            Value go = c.GO(0), a = c.I(0), b = c.I(1);
            if (c.needs(0)) {
                // dA = dY·op(B)ᵀ, transposed back when A was
                c.GI(
                        0,
                        ta
                                ? ops.gemm(c.hint("da"), b, go, null, tb, true)
                                : ops.gemm(c.hint("da"), go, b, null, false, !tb));
            }
            if (c.needs(1)) {
                c.GI(
                        1,
                        tb
                                ? ops.gemm(c.hint("db"), go, a, null, true, ta)
                                : ops.gemm(c.hint("db"), a, go, null, !ta, false));
            }
            if (c.needs(2)) c.GI(2, c.unbroadcast(go, c.I(2), "dc"));
        });
        r.register("MatMul", c -> {
            var ops = c.ops();
            if (c.needs(0)) {
                Value bt = ops.transpose(
                        c.hint("bt"), c.I(1), swapLast(c.I(1).requireShape().rank()));
                c.GI(0, c.unbroadcast(ops.matmul(c.hint("da"), c.GO(0), bt), c.I(0), "a"));
            }
            if (c.needs(1)) {
                Value at = ops.transpose(
                        c.hint("at"), c.I(0), swapLast(c.I(0).requireShape().rank()));
                c.GI(1, c.unbroadcast(ops.matmul(c.hint("db"), at, c.GO(0)), c.I(1), "b"));
            }
        });
    }

    static long[] swapLast(int rank) {
        long[] p = new long[rank];
        for (int i = 0; i < rank; i++) p[i] = i;
        p[rank - 1] = rank - 2;
        p[rank - 2] = rank - 1;
        return p;
    }
}
