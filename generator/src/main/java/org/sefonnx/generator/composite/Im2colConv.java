package org.sefonnx.generator.composite;

import java.util.List;
import org.sefonnx.generator.onnx.Composite;
import org.sefonnx.generator.onnx.Dim;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * A bias-free, group-1 2-D convolution as im2col and one whole-batch Gemm, for the CPU training graph's convolutions on
 * small maps. X is laid out channel-major and batch-last, [C, H, W, N], so that every copy moves runs of N floats; one
 * Gather with a constant index map picks, for each of the k×k kernel taps and each output cell, the input cell it
 * reads (or an appended zero cell where the tap falls on the padding), giving cols [C·k·k, P·N] with rows in the
 * (c, kh, kw) order of the flattened weight. Y = W[Co, C·k·k] · cols is the whole batch in one multiply,
 * [Co, OH, OW, N].
 *
 * <p>Its backward ({@link #backward}) reuses cols for dW and folds dcols = Wᵀ·dY back onto X with one Gather and a sum
 * over the taps ({@link #col2im}), instead of scattering each tap back on its own.
 */
public final class Im2colConv implements Composite {
    /** The composite's name, the op type autodiff sees an application under. */
    public static final String NAME = "Im2colConv";
    /** Index-map entry for "this tap reads zero padding". */
    static final long ZERO = -1;
    /** Output maps from this many cells up give col2im its zero cell through dY (see {@link #backward}). */
    static final long ZERO_COLUMN_MIN_CELLS = 16;

    private final int stride, pad;

    private Im2colConv(int stride, int pad) {
        this.stride = stride;
        this.pad = pad;
    }

    /**
     * The convolution of an [N, C, H, W] map by W [Co, C, k, k], returning [N, Co, OH, OW]: the composite on the
     * batch-last map between two transposes (which the CPU graph's batch-last layout pass removes between two lowered
     * convolutions).
     */
    public static Value apply(Ops ops, String name, Value x, Value w, int stride, int pad) {
        return onNchwMap(ops, name, new Im2colConv(stride, pad), x, w);
    }

    /** A convolution composite applied to an [N, C, H, W] map and a weight: X transposed to [C, H, W, N] and Y back. */
    static Value onNchwMap(Ops ops, String name, Composite convolution, Value x, Value w) {
        Value batchLast = ops.transpose(name + ".x_chwn", x, 1, 2, 3, 0);
        Value y =
                ops.graph().composite(convolution, name, List.of(batchLast, w)).get(0);
        return ops.transpose(name + ".nchw", y, 3, 0, 1, 2);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Inputs X [C, H, W, N] and W [Co, C, k, k]; output Y [Co, OH, OW, N]; saved: cols. */
    @Override
    public Applied forward(Ops ops, String name, List<Value> inputs) {
        Value x = inputs.get(0), w = inputs.get(1);
        Shape xs = x.requireShape(), ws = w.requireShape();
        long channels = xs.size(0), outChannels = ws.size(0), k = ws.size(2);
        long outH = (xs.size(1) + 2L * pad - k) / stride + 1, outW = (xs.size(2) + 2L * pad - k) / stride + 1;
        Value cols = columns(ops, name, x, k * k, tapIndex(xs.size(1), xs.size(2), k, stride, pad, outH, outW));
        Value weights = ops.reshape(name + ".w_mat", w, outChannels, channels * k * k);
        Value product = ops.gemm(name + ".y_mat", weights, cols, null, false, false);
        Value y = toMap(ops, name + ".chwn", product, outChannels, outH, outW, xs.dim(3));
        return new Applied(List.of(y), List.of(cols));
    }

    /**
     * Inputs X [C, H, W, N], W and the forward's cols [C·k·k, P·N]; dY [Co, OH, OW, N], all batch-last: dW = dY · colsᵀ
     * and dcols = Wᵀ · dY are one Gemm each (W used as it is stored, [Co, C·k·k], through transA), and dcols is folded
     * back onto X's cells by {@link #col2im}. cols is the forward's own intermediate: its gradient is the one dX
     * already carries.
     */
    @Override
    public void backward(Gradients c) {
        Ops ops = c.ops();
        Value x = c.I(0), w = c.I(1), dy = c.GO(0);
        Shape xs = x.requireShape(), ws = w.requireShape(), ys = dy.requireShape();
        long outChannels = ws.size(0), channels = ws.size(1), k = ws.size(2), outH = ys.size(1), outW = ys.size(2);
        Dim batch = xs.dim(3);
        Value dyMat = ops.reshape(c.hint("dy_mat"), dy, outChannels, -1);
        c.skip(2);
        if (c.needs(1)) {
            long rows = channels * k * k;
            // MLAS's kernels work on 16-column panels: a weight matrix whose column count is no multiple of 16 (the
            // stem's 3·7·7 = 147) is computed transposed, [C·k·k, Co], and turned back (ResNet-18 at 64 px: 22.8 → 6.1
            // ms a step)
            Value dwMat = rows % 16 == 0
                    ? ops.gemm(c.hint("dw_mat"), dyMat, c.I(2), null, false, true)
                    : ops.transpose(
                            c.hint("dw_mat"), ops.gemm(c.hint("dw_mat_t"), c.I(2), dyMat, null, false, true), 1, 0);
            c.GI(1, ops.reshape(c.hint("dw"), dwMat, outChannels, channels, k, k));
        }
        if (!c.needs(0)) return;
        long h = xs.size(1), wd = xs.size(2);
        long[] index = col2imIndex(h, wd, k, stride, pad, outH, outW);
        // the zero cell col2im reads for padding: a zero column of dY costs (P+1)/P more Gemm work, padding dcols
        // afterwards a copy of k²·|dX|; the first is cheaper unless dY's map is tiny
        boolean zeroColumn = readsZeros(index) && outH * outW >= ZERO_COLUMN_MIN_CELLS;
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
        Value cells = col2im(ops, c.hint("dx"), dcols, channels, k * k, outH * outW, index, k * k, batch, zeroColumn);
        c.GI(0, toMap(ops, c.hint("dx"), cells, channels, h, wd, batch));
    }

    /**
     * For tap t = (i, j) and output cell (a, b): the input cell (s·a + i − p, s·b + j − p) as a flat index, or
     * {@link #ZERO} where it lies in the padding. Laid out [t][a][b].
     */
    static long[] tapIndex(long h, long w, long k, long stride, long pad, long outH, long outW) {
        long[] index = new long[(int) (k * k * outH * outW)];
        int n = 0;
        for (long i = 0; i < k; i++) {
            for (long j = 0; j < k; j++) {
                for (long a = 0; a < outH; a++) {
                    for (long b = 0; b < outW; b++) {
                        long r = stride * a + i - pad, q = stride * b + j - pad;
                        index[n++] = r >= 0 && r < h && q >= 0 && q < w ? r * w + q : ZERO;
                    }
                }
            }
        }
        return index;
    }

    /**
     * col2im, for dX: for tap t and input cell c, the column of cols(X) that read that cell through that tap,
     * t·OH·OW + p with {@link #tapIndex}[t][p] = c, or {@link #ZERO} where none did (stride gaps, borders). Laid out
     * [t][h][w]: the inverse of {@link #tapIndex} tap by tap (a tap reads each input cell at most once).
     */
    static long[] col2imIndex(long h, long w, long k, long stride, long pad, long outH, long outW) {
        long[] forward = tapIndex(h, w, k, stride, pad, outH, outW);
        int cells = (int) (h * w), outCells = (int) (outH * outW);
        long[] index = new long[(int) (k * k) * cells];
        java.util.Arrays.fill(index, ZERO);
        for (int t = 0; t < k * k; t++) {
            for (int p = 0; p < outCells; p++) {
                long cell = forward[t * outCells + p];
                if (cell != ZERO) index[t * cells + (int) cell] = (long) t * outCells + p;
            }
        }
        return index;
    }

    /**
     * im2col of a batch-last map [C, H, W, N] by an index map ({@link #tapIndex} layout, {@code taps} taps):
     * [C·taps, cells·N]. An identity map (a 1×1, stride-1, unpadded conv) is a reshape.
     */
    static Value columns(Ops ops, String name, Value batchLast, long taps, long[] index) {
        Shape s = batchLast.requireShape();
        long channels = s.size(0), cells = s.size(1) * s.size(2);
        boolean identity = index.length == cells;
        boolean zero = false;
        for (int i = 0; i < index.length; i++) {
            identity &= index[i] == i;
            zero |= index[i] == ZERO;
        }
        Value flat = ops.node(
                        "Reshape",
                        "",
                        List.of(batchLast, ops.graph().longs(channels, cells, -1)),
                        List.of(new Value(
                                name + ".flat", batchLast.dtype(), Shape.of(s.dim(0), Dim.of(cells), s.dim(3)))))
                .get(0);
        if (identity) return ops.reshape(name + ".cols", flat, channels, -1);
        if (zero) {
            // one zero cell after the last one: the padding that ZERO entries read
            flat = ops.pad(
                    name + ".zero_cell",
                    flat,
                    new long[] {0, 0, 0, 0, 1, 0},
                    Shape.of(s.dim(0), Dim.of(cells + 1), s.dim(3)));
            index = index.clone();
            for (int i = 0; i < index.length; i++) if (index[i] == ZERO) index[i] = cells;
        }
        Value gathered = ops.gather(name + ".taps", flat, ops.graph().longs(index), 1);
        return ops.reshape(name + ".cols", gathered, channels * taps, -1);
    }

    /**
     * col2im: dcols [C·k·k, P'·N] (the gradient of {@link #columns}' output) summed back onto the input cells,
     * [C, cells·N]: a Gather by an index of {@code slots} rows — {@link #col2imIndex} (one per tap), or its
     * {@link #compactFold} (row s holds each cell's s-th reading column, so a cell that few taps read sums only those)
     * — puts the contributions to a cell side by side, [C, slots, cells·N], and a ReduceSum over them adds them. Where
     * the index reads zeros, they come from a zero cell: either one that dcols already carries after each tap's P
     * cells ({@code zeroCellIncluded}, P' = P + 1: the caller multiplied a zero column of dY) or one appended here.
     */
    static Value col2im(
            Ops ops,
            String name,
            Value dcols,
            long channels,
            long taps,
            long outCells,
            long[] index,
            long slots,
            Dim batch,
            boolean zeroCellIncluded) {
        long perTapCells = zeroCellIncluded ? outCells + 1 : outCells;
        Value perTap = ops.node(
                        "Reshape",
                        "",
                        List.of(dcols, ops.graph().longs(channels, taps * perTapCells, -1)),
                        List.of(new Value(
                                name + ".taps_flat",
                                dcols.dtype(),
                                Shape.of(Dim.of(channels), Dim.of(taps * perTapCells), batch))))
                .get(0);
        boolean identity = taps == 1 && slots == 1 && index.length == outCells && !zeroCellIncluded;
        for (int i = 0; identity && i < index.length; i++) identity = index[i] == i;
        if (identity) return ops.reshape(name + ".cells", perTap, channels, -1);
        Value source = perTap;
        long[] gatherIndex = new long[index.length];
        boolean zero = false;
        for (int i = 0; i < index.length; i++) {
            long tap = index[i] / outCells, cell = index[i] % outCells;
            gatherIndex[i] =
                    index[i] == ZERO ? (zeroCellIncluded ? outCells : taps * outCells) : tap * perTapCells + cell;
            zero |= index[i] == ZERO;
        }
        if (zero && !zeroCellIncluded) {
            source = ops.pad(
                    name + ".zero_cell",
                    perTap,
                    new long[] {0, 0, 0, 0, 1, 0},
                    Shape.of(Dim.of(channels), Dim.of(taps * outCells + 1), batch));
        }
        Value gathered = ops.gather(name + ".gather", source, ops.graph().longs(gatherIndex), 1);
        if (slots == 1) return ops.reshape(name + ".cells", gathered, channels, -1);
        Value byTap = ops.reshape(name + ".by_tap", gathered, channels, slots, -1);
        return ops.reduceSum(name + ".cells", byTap, new long[] {1}, false);
    }

    /**
     * A {@link #col2imIndex} map ([taps][cells], mostly {@link #ZERO} when few taps read each cell) packed into
     * [slots][cells]: row s holds each cell's s-th reading column, {@link #ZERO} past its last; slots is the most
     * readings any cell has (4 for Winograd's 4×4 tiles at stride 2, against 16 taps).
     */
    static long[] compactFold(long[] index, long taps, long cells) {
        int slots = 0;
        for (int cell = 0; cell < cells; cell++) {
            int n = 0;
            for (int t = 0; t < taps; t++) if (index[(int) (t * cells) + cell] != ZERO) n++;
            slots = Math.max(slots, n);
        }
        long[] packed = new long[(int) (slots * cells)];
        java.util.Arrays.fill(packed, ZERO);
        for (int cell = 0; cell < cells; cell++) {
            int n = 0;
            for (int t = 0; t < taps; t++) {
                long column = index[(int) (t * cells) + cell];
                if (column != ZERO) packed[(int) (n++ * cells) + cell] = column;
            }
        }
        return packed;
    }

    /** Whether an index map reads zero padding anywhere. */
    static boolean readsZeros(long[] index) {
        for (long i : index) if (i == ZERO) return true;
        return false;
    }

    /** [C, OH·OW·N] → [C, OH, OW, N]; the run-time batch size (-1) is declared as {@code batch} so later Adds stay typed. */
    static Value toMap(Ops ops, String name, Value product, long channels, long outH, long outW, Dim batch) {
        return ops.node(
                        "Reshape",
                        "",
                        List.of(product, ops.graph().longs(channels, outH, outW, -1)),
                        List.of(new Value(
                                name, product.dtype(), Shape.of(Dim.of(channels), Dim.of(outH), Dim.of(outW), batch))))
                .get(0);
    }
}
