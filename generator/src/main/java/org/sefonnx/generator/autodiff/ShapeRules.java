package org.sefonnx.generator.autodiff;

import org.sefonnx.generator.onnx.Shape;

/** Data-movement ops: the gradient is moved back the same way. */
final class ShapeRules {
    private ShapeRules() {}

    static void register(GradientRegistry r) {
        GradientRule reshapeBack = c -> {
            Shape xs = c.I(0).requireShape();
            c.GI(0, xs.isFixed() ? c.ops().reshape(c.hint("dx"), c.GO(0), xs.sizes())
                    : c.ops().reshapeTo(c.hint("dx"), c.GO(0), c.ops().shapeOf(c.hint("x_shape"), c.I(0)), xs));
        };
        r.register("Reshape", reshapeBack);
        r.register("Flatten", reshapeBack);
        r.register("Transpose", c -> {
            long[] perm = c.node().attrInts("perm", null);
            long[] inverse = new long[perm.length];
            for (int i = 0; i < perm.length; i++) inverse[(int) perm[i]] = i;
            c.GI(0, c.ops().transpose(c.hint("dx"), c.GO(0), inverse));
        });
        // Slice (steps 1): zero-pad the gradient back to the input's extent
        r.register("Slice", c -> {
            Shape xs = c.I(0).requireShape();
            long[] starts = c.graph().constantLongs(c.I(1));
            long[] ends = c.graph().constantLongs(c.I(2));
            long[] axes = c.I(3) == null ? null : c.graph().constantLongs(c.I(3));
            int rank = xs.rank();
            long[] pads = new long[2 * rank];
            for (int i = 0; i < starts.length; i++) {
                int axis = (int) (axes == null ? i : (axes[i] < 0 ? axes[i] + rank : axes[i]));
                long size = xs.size(axis);
                long begin = Math.min(Math.max(starts[i] < 0 ? starts[i] + size : starts[i], 0), size);
                long end = Math.min(Math.max(ends[i] < 0 ? ends[i] + size : ends[i], 0), size);
                pads[axis] = begin;
                pads[axis + rank] = size - end;
            }
            c.GI(0, c.ops().pad(c.hint("dx"), c.GO(0), pads, xs));
        });
    }
}
