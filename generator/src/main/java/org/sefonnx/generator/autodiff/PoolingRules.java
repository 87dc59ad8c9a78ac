package org.sefonnx.generator.autodiff;

import java.util.List;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * Pooling, from standard ops only: ORT's MaxPoolGrad and AveragePoolGrad have CPU kernels but no CUDA ones, and a
 * CPU-only node in a CUDA graph copies its tensors to the host and back every step.
 */
final class PoolingRules {
    private PoolingRules() {}

    static void register(GradientRegistry r) {
        // MaxPool: its Indices output holds flat positions into the whole input, so scattering dY (with add, for
        // overlapping 3x3/2 windows) into a flat zero buffer is exactly MaxPoolGrad.
        r.register("MaxPool", c -> {
            if (c.O(1) == null)
                throw new IllegalStateException(
                        "MaxPool " + c.node().name + " needs its Indices output for the backward");
            var ops = c.ops();
            Value xShape = ops.shapeOf(c.hint("x_shape"), c.I(0));
            Value numel = ops.reduceProd(c.hint("numel"), xShape, true);
            Value zeros = ops.constantOfShape(c.hint("zeros"), numel, c.dtype(), Shape.of("numel"));
            Value idx = ops.reshape(c.hint("idx_flat"), c.O(1), -1);
            Value dy = ops.reshape(c.hint("dy_flat"), c.GO(0), -1);
            Value scattered = ops.node(
                            "ScatterElements",
                            "",
                            List.of(zeros, idx, dy),
                            List.of(new Value(c.hint("dx_flat"), c.dtype(), zeros.shape())),
                            Attr.i("axis", 0),
                            Attr.s("reduction", "add"))
                    .get(0);
            c.GI(0, ops.reshapeTo(c.hint("dx"), scattered, xShape, c.I(0).shape()));
        });
        r.register("GlobalAveragePool", c -> {
            Shape xs = c.I(0).requireShape();
            double inv = 1.0 / (xs.size(2) * xs.size(3));
            Value expanded = c.ops().expand(c.hint("expand"), c.GO(0), c.ops().shapeOf(c.hint("x_shape"), c.I(0)), xs);
            c.GI(0, c.ops().mul(c.hint("dx"), expanded, c.scalar(inv)));
        });
    }
}
