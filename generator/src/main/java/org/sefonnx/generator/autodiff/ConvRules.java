package org.sefonnx.generator.autodiff;

import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Value;

import java.util.ArrayList;
import java.util.List;

/** Convolution: com.microsoft ConvGrad (CPU and CUDA kernels) gives dX, dW and dB in one node. */
final class ConvRules {
    private ConvRules() {}

    static void register(GradientRegistry r) {
        r.register("Conv", c -> {
            boolean hasBias = c.I(2) != null;
            List<Value> outs = new ArrayList<>();
            outs.add(c.needs(0) ? new Value(c.hint("dx"), c.dtype(), c.I(0).shape()) : null);
            outs.add(c.needs(1) ? new Value(c.hint("dw"), c.dtype(), c.I(1).shape()) : null);
            if (hasBias) outs.add(c.needs(2) ? new Value(c.hint("db"), c.dtype(), c.I(2).shape()) : null);
            var n = c.node();
            List<Value> g = c.ops().node("ConvGrad", Graph.MS_DOMAIN, List.of(c.GO(0), c.I(0), c.I(1)), outs, null,
                    Attr.ints("kernel_shape", n.attrInts("kernel_shape", null)), Attr.ints("strides", n.attrInts("strides", new long[]{1, 1})),
                    Attr.ints("pads", n.attrInts("pads", new long[]{0, 0, 0, 0})), Attr.ints("dilations", n.attrInts("dilations", new long[]{1, 1})),
                    Attr.i("group", n.attrInt("group", 1)));
            for (int i = 0; i < g.size(); i++) if (g.get(i) != null) c.GI(i, g.get(i));
        });
    }
}
