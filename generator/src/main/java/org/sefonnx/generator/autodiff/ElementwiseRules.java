package org.sefonnx.generator.autodiff;

import java.util.List;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Value;

/** Element-wise ops (with numpy broadcasting on the binary ones). */
final class ElementwiseRules {
    private ElementwiseRules() {}

    static void register(GradientRegistry r) {
        r.register("Add", c -> {
            c.GI(0, c.unbroadcast(c.GO(0), c.I(0), "a"));
            c.GI(1, c.unbroadcast(c.GO(0), c.I(1), "b"));
        });
        r.register("Sub", c -> {
            c.GI(0, c.unbroadcast(c.GO(0), c.I(0), "a"));
            if (c.needs(1)) c.GI(1, c.unbroadcast(c.ops().neg(c.hint("neg"), c.GO(0)), c.I(1), "b"));
        });
        r.register("Mul", c -> {
            if (c.I(0) == c.I(1) || c.I(0).name().equals(c.I(1).name())) {
                // x*x: one contribution 2·x·dY instead of two identical ones
                c.GI(0, c.ops().mul(c.hint("2x"), c.ops().mul(c.hint("dx"), c.GO(0), c.I(0)), c.scalar(2)));
                c.skip(1);
                return;
            }
            if (c.needs(0)) c.GI(0, c.unbroadcast(c.ops().mul(c.hint("da"), c.GO(0), c.I(1)), c.I(0), "a"));
            if (c.needs(1)) c.GI(1, c.unbroadcast(c.ops().mul(c.hint("db"), c.GO(0), c.I(0)), c.I(1), "b"));
        });
        r.register("Div", c -> {
            if (c.needs(0)) c.GI(0, c.unbroadcast(c.ops().div(c.hint("da"), c.GO(0), c.I(1)), c.I(0), "a"));
            if (c.needs(1)) {
                // d(a/b)/db = -(a/b)/b = -O/b
                Value t = c.ops().mul(c.hint("go_o"), c.GO(0), c.ops().div(c.hint("o_b"), c.O(0), c.I(1)));
                c.GI(1, c.unbroadcast(c.ops().neg(c.hint("db"), t), c.I(1), "b"));
            }
        });
        r.register("Sum", c -> {
            for (int i = 0; i < c.node().inputs.size(); i++) c.GI(i, c.unbroadcast(c.GO(0), c.I(i), "x" + i));
        });
        r.register("Neg", c -> c.GI(0, c.ops().neg(c.hint("dx"), c.GO(0))));
        r.register("Identity", c -> c.GI(0, c.GO(0)));
        // mixed precision: an fp16 gradient goes back to a float32 master weight (or activation) in float32
        r.register("Cast", c -> c.GI(0, c.ops().cast(c.hint("dx"), c.GO(0), c.I(0).dtype())));
        r.register("Exp", c -> c.GI(0, c.ops().mul(c.hint("dx"), c.GO(0), c.O(0))));
        r.register("Log", c -> c.GI(0, c.ops().div(c.hint("dx"), c.GO(0), c.I(0))));
        r.register(
                "Sqrt",
                c -> c.GI(0, c.ops().div(c.hint("dx"), c.ops().mul(c.hint("half"), c.GO(0), c.scalar(0.5)), c.O(0))));
        r.register(
                "Reciprocal",
                c -> c.GI(
                        0,
                        c.ops()
                                .neg(
                                        c.hint("dx"),
                                        c.ops()
                                                .mul(
                                                        c.hint("go_o2"),
                                                        c.GO(0),
                                                        c.ops().mul(c.hint("o2"), c.O(0), c.O(0))))));
        // ReluGrad(dY, Y): Y > 0 exactly where X > 0, and reading Y lets ORT free X earlier
        r.register("Relu", c -> c.GI(0, c.kernel(MsOp.RELU_GRAD, List.of(c.GO(0), c.O(0)), c.slot(0, "dx"))));
    }
}
