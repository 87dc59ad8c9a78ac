package org.sefonnx.generator.autodiff;

import org.sefonnx.generator.onnx.Shape;

/** Data-movement ops: the gradient is moved back the same way. */
final class ShapeRules {
    private ShapeRules() {}

    static void register(GradientRegistry r) {
        GradientRule reshapeBack = c -> {
            Shape xs = c.I(0).requireShape();
            c.GI(
                    0,
                    xs.isFixed()
                            ? c.ops().reshape(c.hint("dx"), c.GO(0), xs.sizes())
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
        // Concat: each input's gradient is its window of the output gradient along the (fixed-size) axis
        r.register("Concat", c -> {
            int rank = c.O(0).requireShape().rank();
            long axis = c.node().attrInt("axis", 0);
            int a = (int) (axis < 0 ? axis + rank : axis);
            long offset = 0;
            for (int i = 0; i < c.node().inputs.size(); i++) {
                long length = c.I(i).requireShape().size(a);
                if (c.needs(i)) {
                    c.GI(
                            i,
                            c.ops()
                                    .slice(
                                            c.hint("dx" + i),
                                            c.GO(0),
                                            new long[] {offset},
                                            new long[] {offset + length},
                                            new long[] {a}));
                }
                offset += length;
            }
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
