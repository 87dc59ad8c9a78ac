package org.sefonnx.generator.autodiff;

import java.util.List;
import org.sefonnx.generator.model.Im2colConv;
import org.sefonnx.generator.model.WinogradConv;
import org.sefonnx.generator.onnx.Dim;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/** Convolution: com.microsoft ConvGrad (CPU and CUDA kernels) gives dX, dW and dB in one node. */
final class ConvRules {
    private ConvRules() {}

    /** Output maps from this many cells up give col2im its zero cell through dY (see im2colConv). */
    static final long ZERO_COLUMN_MIN_CELLS = 16;

    static void register(GradientRegistry r) {
        // the Conv's own attributes pass through; an input that needs no gradient gets no output
        r.register(
                "Conv",
                c -> c.GI(
                        c.kernel(MsOp.CONV_GRAD, List.of(c.GO(0), c.I(0), c.I(1)), c.slotsIfNeeded("dx", "dw", "db"))));
        r.register(Im2colConv.RULE, ConvRules::im2colConv);
        r.register(WinogradConv.RULE, ConvRules::winogradConv);
    }

    /**
     * The backward of {@link Im2colConv}'s composite (inputs X [C, H, W, N], W and the forward's cols [C·k·k, P·N];
     * dY [Co, OH, OW, N], all batch-last): dW = dY · colsᵀ and dcols = Wᵀ · dY are one Gemm each (W used as it is
     * stored, [Co, C·k·k], through transA), and dcols is folded back onto X's cells by {@link Im2colConv#col2im}. cols
     * is the forward's own intermediate: its gradient is the one dX already carries.
     */
    private static void im2colConv(GradContext c) {
        Ops ops = c.ops();
        Value x = c.I(0), w = c.I(1), dy = c.GO(0);
        Shape xs = x.requireShape(), ws = w.requireShape(), ys = dy.requireShape();
        long outChannels = ws.size(0), channels = ws.size(1), k = ws.size(2), outH = ys.size(1), outW = ys.size(2);
        long stride = c.node().attrInts("strides", null)[0], pad = c.node().attrInts("pads", null)[0];
        Dim batch = xs.dim(3);
        Value dyMat = ops.reshape(c.hint("dy_mat"), dy, outChannels, -1);
        c.skip(2);
        if (c.needs(1)) {
            long rows = channels * k * k;
            // MLAS's kernels work on 16-column panels: a weight matrix whose column count is no multiple of 16 (the
            // stem's 3·7·7 = 147) is computed transposed, [C·k·k, Co], and turned back (ResNet-18 at 64 px: 22.8 → 6.1
            // ms a step)
            Value dwMat;
            Autodiff.Addend addend = rows % 16 == 0 ? c.addend(1) : null;
            if (addend != null) {
                // the caller's addend (momentum SGD's μ·m) as the Gemm's C: m' = dY·colsᵀ + μ·m in one kernel,
                // instead of a Mul and an Add over every weight (ResNet-18: 11 M floats, five passes a step)
                Value addendMat = ops.reshape(c.hint("addend_mat"), addend.value(), outChannels, rows);
                dwMat = ops.gemm(c.hint("dw_mat"), dyMat, c.I(2), addendMat, addend.scale(), false, true);
            } else if (rows % 16 == 0) {
                dwMat = ops.gemm(c.hint("dw_mat"), dyMat, c.I(2), null, false, true);
            } else {
                dwMat = ops.transpose(
                        c.hint("dw_mat"), ops.gemm(c.hint("dw_mat_t"), c.I(2), dyMat, null, false, true), 1, 0);
            }
            c.GI(1, ops.reshape(c.hint("dw"), dwMat, outChannels, channels, k, k));
        }
        if (!c.needs(0)) return;
        long h = xs.size(1), wd = xs.size(2);
        long[] index = Im2colConv.col2imIndex(h, wd, k, stride, pad, outH, outW);
        // the zero cell col2im reads for padding: a zero column of dY costs (P+1)/P more Gemm work, padding dcols
        // afterwards a copy of k²·|dX|; the first is cheaper unless dY's map is tiny
        boolean zeroColumn = Im2colConv.readsZeros(index) && outH * outW >= ZERO_COLUMN_MIN_CELLS;
        Value dySource = dyMat;
        if (zeroColumn) {
            Value cellsLast = ops.node(
                            "Reshape",
                            "",
                            List.of(dy, ops.graph().longs(outChannels, outH * outW, -1)),
                            List.of(new Value(
                                    c.hint("dy_cells"),
                                    dy.dtype(),
                                    Shape.of(Dim.of(outChannels), Dim.of(outH * outW), batch))))
                    .get(0);
            Value withZero = ops.pad(
                    c.hint("dy_zero_cell"),
                    cellsLast,
                    new long[] {0, 0, 0, 0, 1, 0},
                    Shape.of(Dim.of(outChannels), Dim.of(outH * outW + 1), batch));
            dySource = ops.reshape(c.hint("dy_mat_zero"), withZero, outChannels, -1);
        }
        Value wMat = ops.reshape(c.hint("w_mat"), w, outChannels, channels * k * k);
        Value dcols = ops.gemm(c.hint("dcols"), wMat, dySource, null, true, false);
        Value cells = Im2colConv.col2im(
                ops, c.hint("dx"), dcols, channels, k * k, outH * outW, index, k * k, batch, zeroColumn);
        c.GI(0, Im2colConv.toMap(ops, c.hint("dx"), cells, channels, h, wd, batch));
    }

    /**
     * The backward of {@link WinogradConv}'s composite (inputs X [C, H, W, N], W [Co, C, 3, 3], the forward's
     * transformed tiles V [P, C, T·N] and weights U [P, Co, C], P = 16 tile positions; dY [Co, H, W, N]): each linear
     * step of the forward transposed. dM [P, Co, T·N] = (Aᵀ⊗Aᵀ)ᵀ · dY's blocks; dW = dU·(G⊗G) with dU = dM·Vᵀ (batched, V
     * transposed inside the kernel), momentum's μ·m added by the same Gemm as in {@link #im2colConv}; dX folds
     * (Bᵀ⊗Bᵀ)ᵀ · Uᵀ·dM back onto the cells each tile read (at most four per cell).
     */
    private static void winogradConv(GradContext c) {
        Ops ops = c.ops();
        Value x = c.I(0), w = c.I(1), v = c.I(2), u = c.I(3), dy = c.GO(0);
        Shape xs = x.requireShape(), ws = w.requireShape();
        long channels = xs.size(0), h = xs.size(1), wd = xs.size(2), outChannels = ws.size(0);
        long tiles = WinogradConv.blocks(h) * WinogradConv.blocks(wd), positions = WinogradConv.POSITIONS;
        Dim batch = xs.dim(3);
        c.skip(2);
        c.skip(3);
        Value blocks = WinogradConv.toBlocks(ops, c.hint("dy"), dy, outChannels, h, wd, batch);
        Value dm = ops.reshape(
                c.hint("dm"),
                ops.gemm(
                        c.hint("dm_mat"),
                        WinogradConv.outputTransform(c.graph(), dy.dtype()),
                        blocks,
                        null,
                        true,
                        false),
                positions,
                outChannels,
                -1);
        if (c.needs(1)) {
            Value du = ops.reshape(
                    c.hint("du_mat"),
                    ops.fusedMatMul(c.hint("du"), dm, v, false, true),
                    positions,
                    outChannels * channels);
            Value transform = WinogradConv.weightTransform(c.graph(), dy.dtype());
            Autodiff.Addend addend = c.addend(1);
            Value dwMat = addend == null
                    ? ops.gemm(c.hint("dw_mat"), du, transform, null, true, false)
                    : ops.gemm(
                            c.hint("dw_mat"),
                            du,
                            transform,
                            ops.reshape(c.hint("addend_mat"), addend.value(), outChannels * channels, 9),
                            addend.scale(),
                            true,
                            false);
            c.GI(1, ops.reshape(c.hint("dw"), dwMat, outChannels, channels, 3, 3));
        }
        if (!c.needs(0)) return;
        Value dv = ops.fusedMatMul(c.hint("dv"), u, dm, true, false);
        // P + 1 tile positions, the last one zero: the fold's zero cell (see
        // WinogradConv.inputTransformTransposedWithZeroRow)
        Value dtiles = ops.gemm(
                c.hint("dtiles"),
                WinogradConv.inputTransformTransposedWithZeroRow(c.graph(), dy.dtype()),
                ops.reshape(c.hint("dv_mat"), dv, positions, -1),
                null,
                false,
                false);
        Value byChannel = ops.transpose(
                c.hint("dtiles_c"), ops.reshape(c.hint("dtiles3"), dtiles, positions + 1, channels, -1), 1, 0, 2);
        Value dcols = ops.reshape(c.hint("dcols"), byChannel, channels * (positions + 1), -1);
        long[] fold = WinogradConv.foldIndex(h, wd);
        for (int i = 0; i < fold.length; i++) if (fold[i] == Im2colConv.ZERO) fold[i] = positions * tiles;
        Value cells = Im2colConv.col2im(
                ops, c.hint("dx"), dcols, channels, positions + 1, tiles, fold, fold.length / (h * wd), batch, false);
        c.GI(0, Im2colConv.toMap(ops, c.hint("dx"), cells, channels, h, wd, batch));
    }
}
