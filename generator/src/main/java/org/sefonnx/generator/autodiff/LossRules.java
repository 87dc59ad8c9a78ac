package org.sefonnx.generator.autodiff;

import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Value;

import java.util.ArrayList;
import java.util.List;

/** Softmax family and the cross-entropy loss, on com.microsoft kernels that exist for CPU and CUDA. */
final class LossRules {
    private LossRules() {}

    static void register(GradientRegistry r) {
        r.register("LogSoftmax", c -> c.GI(0, logSoftmaxGrad(c, c.GO(0), c.O(0), c.node().attrInt("axis", -1), "dx")));
        r.register("Softmax", c -> c.GI(0, c.ops().node("SoftmaxGrad_13", Graph.MS_DOMAIN, List.of(c.GO(0), c.O(0)),
                List.of(new Value(c.hint("dx"), c.dtype(), c.I(0).shape())),
                Attr.i("axis", c.node().attrInt("axis", -1))).get(0)));
        // SoftmaxCrossEntropyLoss: gradient from the loss output, plus LogSoftmaxGrad when its log_prob output is
        // also used downstream
        r.register("SoftmaxCrossEntropyLoss", c -> {
            List<Value> parts = new ArrayList<>();
            if (c.GO(0) != null) {
                parts.add(c.ops().node("SoftmaxCrossEntropyLossGrad", Graph.MS_DOMAIN, List.of(c.GO(0), c.O(1), c.I(1)),
                        List.of(new Value(c.hint("dscores"), c.dtype(), c.I(0).shape())),
                        Attr.s("reduction", c.node().attrString("reduction", "mean"))).get(0));
            }
            if (c.GO(1) != null) parts.add(logSoftmaxGrad(c, c.GO(1), c.O(1), 1, "dlogprob"));
            c.GI(0, c.ops().sum(c.hint("dx"), parts));
            c.skip(1);
        });
    }

    static Value logSoftmaxGrad(GradContext c, Value go, Value logProb, long axis, String suffix) {
        return c.ops().node("LogSoftmaxGrad_13", Graph.MS_DOMAIN, List.of(go, logProb),
                List.of(new Value(c.hint(suffix), c.dtype(), logProb.shape())), Attr.i("axis", axis)).get(0);
    }
}
