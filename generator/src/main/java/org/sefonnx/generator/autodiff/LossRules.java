package org.sefonnx.generator.autodiff;

import java.util.ArrayList;
import java.util.List;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Value;

/** Softmax family and the cross-entropy loss, on com.microsoft kernels that exist for CPU and CUDA. */
final class LossRules {
    private LossRules() {}

    static void register(GradientRegistry r) {
        r.register(
                "LogSoftmax",
                c -> c.GI(0, c.kernel(MsOp.LOG_SOFTMAX_GRAD_13, List.of(c.GO(0), c.O(0)), c.slot(0, "dx"))));
        r.register("Softmax", c -> c.GI(0, c.kernel(MsOp.SOFTMAX_GRAD_13, List.of(c.GO(0), c.O(0)), c.slot(0, "dx"))));
        // SoftmaxCrossEntropyLoss: gradient from the loss output, plus LogSoftmaxGrad (over the class axis) when its
        // log_prob output is also used downstream
        r.register("SoftmaxCrossEntropyLoss", c -> {
            List<Value> parts = new ArrayList<>();
            if (c.GO(0) != null) {
                parts.add(c.kernel(
                        MsOp.SOFTMAX_CROSS_ENTROPY_LOSS_GRAD, List.of(c.GO(0), c.O(1), c.I(1)), c.slot(0, "dscores")));
            }
            if (c.GO(1) != null) {
                List<Value> dLogProb = List.of(c.slot(0, "dlogprob"));
                parts.add(c.ops()
                        .ms(MsOp.LOG_SOFTMAX_GRAD_13, List.of(c.GO(1), c.O(1)), dLogProb, Attr.i("axis", 1))
                        .get(0));
            }
            c.GI(0, c.ops().sum(c.hint("dx"), parts));
            c.skip(1);
        });
    }
}
