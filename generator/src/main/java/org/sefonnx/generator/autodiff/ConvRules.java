package org.sefonnx.generator.autodiff;

import org.sefonnx.generator.model.Im2colConv;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
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
        r.register(Im2colConv.RULE, ConvRules::im2colConv);
    }

    /**
     * The backward of {@link Im2colConv}'s composite (inputs X, W and the forward's cols [C·k·k, P·N]): with dY laid
     * out batch-last as [Co, P·N], dW = dY · colsᵀ and dcols = Wᵀ · dY are one Gemm each (W used as it is stored,
     * [Co, C·k·k], through transA), and dcols is folded back onto X's cells by {@link Im2colConv#col2im}. cols is the
     * forward's own intermediate: its gradient is the one dX already carries.
     */
    private static void im2colConv(GradContext c) {
        Ops ops = c.ops();
        Value x = c.I(0), w = c.I(1), dy = c.GO(0);
        Shape xs = x.requireShape(), ws = w.requireShape(), ys = dy.requireShape();
        long outChannels = ws.size(0), channels = ws.size(1), k = ws.size(2), outH = ys.size(2), outW = ys.size(3);
        long stride = c.node().attrInts("strides", null)[0], pad = c.node().attrInts("pads", null)[0];
        Value dyMat = ops.reshape(c.hint("dy_mat"), ops.transpose(c.hint("dy_chwn"), dy, 1, 2, 3, 0), outChannels, -1);
        c.skip(2);
        if (c.needs(1)) {
            c.GI(1, ops.reshape(c.hint("dw"), ops.gemm(c.hint("dw_mat"), dyMat, c.I(2), null, false, true), outChannels, channels, k, k));
        }
        if (!c.needs(0)) return;
        long h = xs.size(2), wd = xs.size(3);
        Value wMat = ops.reshape(c.hint("w_mat"), w, outChannels, channels * k * k);
        Value dcols = ops.gemm(c.hint("dcols"), wMat, dyMat, null, true, false);
        Value cells = Im2colConv.col2im(ops, c.hint("dx"), dcols, channels, k * k, outH * outW,
                Im2colConv.col2imIndex(h, wd, k, stride, pad, outH, outW), xs.dim(0));
        c.GI(0, Im2colConv.fromBatchLast(ops, c.hint("dx"), cells, channels, h, wd, xs.dim(0)));
    }
}
