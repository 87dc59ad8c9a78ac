package org.sefonnx.generator.autodiff;

import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/** Reductions: the incoming gradient is re-expanded over the reduced axes. */
final class ReduceRules {
    private ReduceRules() {}

    /** Smallest normal float: guards x/||x|| where a whole row is zero (then x is zero and the gradient too). */
    private static final double L2_FLOOR = 1.1754943508222875e-38;

    static void register(GradientRegistry r) {
        r.register("ReduceSum", c -> c.GI(0, expandBack(c, axesOf(c, true))));
        r.register("ReduceMean", c -> {
            long[] axes = axesOf(c, false);
            Value expanded = expandBack(c, axes);
            Shape xs = c.I(0).requireShape();
            boolean fixed = true;
            long count = 1;
            for (long a : axes) {
                if (xs.dim((int) a).isFixed()) count *= xs.size((int) a);
                else fixed = false;
            }
            if (fixed) {
                c.GI(0, c.ops().mul(c.hint("dx"), expanded, c.scalar(1.0 / count)));
            } else {
                // a symbolic (batch) axis is reduced: divide by the element count read at run time
                Ops ops = c.ops();
                Value dims = ops.gather(
                        c.hint("dims"),
                        ops.shapeOf(c.hint("x_shape"), c.I(0)),
                        c.graph().longs(axes),
                        0);
                Value n = ops.cast(c.hint("count"), ops.reduceProd(c.hint("count_i"), dims, false), c.dtype());
                c.GI(0, ops.div(c.hint("dx"), expanded, n));
            }
        });
        // ||x||: d/dx = x / ||x||, and 0 for an all-zero row (PyTorch's vector_norm backward does the same)
        r.register("ReduceL2", c -> {
            long[] axes = axesOf(c, false);
            boolean keep = c.node().attrInt("keepdims", 1) == 1;
            Value go = keep ? c.GO(0) : c.ops().unsqueeze(c.hint("go_keep"), c.GO(0), axes);
            Value y = keep ? c.O(0) : c.ops().unsqueeze(c.hint("y_keep"), c.O(0), axes);
            Value safe = c.ops().max(c.hint("y_safe"), y, c.scalar(L2_FLOOR));
            c.GI(0, c.ops().mul(c.hint("dx"), c.I(0), c.ops().div(c.hint("go_y"), go, safe)));
        });
    }

    static long[] axesOf(GradContext c, boolean axesInput) {
        long[] axes;
        if (axesInput) {
            if (c.I(1) == null) axes = Ops.allAxes(c.I(0));
            else axes = c.graph().constantLongs(c.I(1));
        } else {
            axes = c.node().attrInts("axes", Ops.allAxes(c.I(0)));
        }
        int rank = c.I(0).requireShape().rank();
        for (int i = 0; i < axes.length; i++) if (axes[i] < 0) axes[i] += rank;
        return axes;
    }

    static Value expandBack(GradContext c, long[] axes) {
        boolean keep = c.node().attrInt("keepdims", 1) == 1;
        Value go = keep ? c.GO(0) : c.ops().unsqueeze(c.hint("go_keep"), c.GO(0), axes);
        return c.ops().expand(c.hint("expand"), go, c.ops().shapeOf(c.hint("x_shape"), c.I(0)), c.I(0).shape());
    }
}
