package org.sefonnx.generator.autodiff;

import java.util.List;
import org.sefonnx.generator.onnx.MsOp;

/**
 * The ONNX Conv's rule: com.microsoft ConvGrad (CPU and CUDA kernels) gives dX, dW and dB in one node. (The CPU
 * graph's lowered convolutions are composites that carry their own backward: composite.Im2colConv and WinogradConv.)
 */
final class ConvRules {
    private ConvRules() {}

    static void register(GradientRegistry r) {
        // the Conv's own attributes pass through; an input that needs no gradient gets no output
        r.register(
                "Conv",
                c -> c.GI(
                        c.kernel(MsOp.CONV_GRAD, List.of(c.GO(0), c.I(0), c.I(1)), c.slotsIfNeeded("dx", "dw", "db"))));
    }
}
