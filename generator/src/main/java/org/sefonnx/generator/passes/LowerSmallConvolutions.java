package org.sefonnx.generator.passes;

import org.sefonnx.generator.composite.Im2colConv;
import org.sefonnx.generator.composite.WinogradConv;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * Lowers every convolution whose output map has at most {@link #MAX_MAP_CELLS} cells to whole-batch matrix products,
 * before autodiff, so that the backward is the composites' own: a 3×3 stride-1 one on a map of 3×3 or more to
 * Winograd's F(2×2, 3×3) ({@link WinogradConv}), any other to im2col (one Gather of every kernel tap's cells) and a
 * single Gemm ({@link Im2colConv}). ORT's CPU Conv and ConvGrad multiply image by image, so on small maps their inner
 * dimension is the map size (4 cells in ResNet-18's last stage at 64 px) and a 2×2-map 3×3 conv ran at 17 GFLOP/s where
 * one batched Gemm runs at several times that (bench/README.md). Larger maps keep Conv/ConvGrad: there a per-image
 * multiply is already large, and the stacked taps would cost k² × the input's memory. Each lowered convolution sits
 * between two transposes to and from the batch-last layout its composite computes in; {@link BatchLastLayout} removes
 * them between two lowered convolutions.
 */
public final class LowerSmallConvolutions implements GraphPass {
    /** Output-map cells (H·W) up to which a convolution is lowered: a 32×32 map. */
    public static final long MAX_MAP_CELLS = 32 * 32;

    @Override
    public String name() {
        return "lower-small-convolutions";
    }

    @Override
    public Phase phase() {
        return Phase.FORWARD;
    }

    @Override
    public void apply(Graph graph) {
        graph.rewrite((n, r) -> {
            if (!lowered(n)) {
                r.keep(n);
                return;
            }
            Value x = n.input(0), w = n.input(1), y = n.output(0);
            Shape ys = y.requireShape();
            int stride = (int) n.attrInts("strides", null)[0], pad = (int) n.attrInts("pads", null)[0];
            long kernel = w.requireShape().size(2);
            r.replace(
                    y,
                    winograd(kernel, stride, pad, ys.size(2), ys.size(3))
                            ? WinogradConv.apply(r.ops(), y.name(), x, w)
                            : Im2colConv.apply(r.ops(), y.name(), x, w, stride, pad));
        });
    }

    /**
     * Whether this pass lowers node {@code n}: a bias-free, group-1, undilated Conv with a square kernel, equal strides
     * and equal pads, whose output map has at most {@link #MAX_MAP_CELLS} cells.
     */
    static boolean lowered(Node n) {
        if (!n.opType.equals("Conv") || !n.domain.isEmpty() || n.input(2) != null) return false;
        Shape ws = n.input(1).requireShape(), ys = n.output(0).requireShape();
        long[] strides = n.attrInts("strides", null), pads = n.attrInts("pads", null);
        long[] dilations = n.attrInts("dilations", new long[] {1, 1});
        return n.attrInt("group", 1) == 1
                && ws.size(2) == ws.size(3)
                && strides != null
                && strides[0] == strides[1]
                && pads != null
                && pads[0] == pads[1]
                && pads[0] == pads[2]
                && pads[0] == pads[3]
                && dilations[0] == 1
                && dilations[1] == 1
                && ys.size(2) * ys.size(3) <= MAX_MAP_CELLS;
    }

    /**
     * Whether a lowered convolution becomes {@link WinogradConv}: a 3×3, stride-1, pad-1 one on a map of at least 3×3
     * cells. A 2×2 map is one tile per image, so the batched products are [Co, C]·[C, N] and the weight transforms
     * (16/9 of the weights, each way) cost more than the 2.25× fewer multiplications save (ResNet-18's last stage at
     * 64 px: 27–39 ms a step per convolution in Winograd, ~27 ms in im2col; bench/README.md).
     */
    static boolean winograd(long kernel, int stride, int pad, long outputHeight, long outputWidth) {
        return WinogradConv.fits(kernel, stride, pad) && outputHeight >= 3 && outputWidth >= 3;
    }
}
