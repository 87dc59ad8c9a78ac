package org.sefonnx.generator.composite;

import java.util.List;
import org.sefonnx.generator.onnx.Composite;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Dim;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * A 3×3, stride-1, pad-1 convolution of a batch-last map [C, H, W, N] by Winograd's minimal filtering F(2×2, 3×3)
 * (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each 2×2 block of outputs is computed
 * from the 4×4 input tile around it as Y = Aᵀ[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]A. Summed over
 * the channels, the element-wise products become one matrix product per tile position ξ, M[ξ] = U[ξ] [Co, C] ·
 * V[ξ] [C, tiles·N]: 16 products per 4 outputs where im2col's W [Co, 9·C] · cols needs 9 per output — 2.25× fewer
 * multiply-adds in ResNet's 3×3 stride-1 convolutions, four fifths of its arithmetic — while the transforms are small
 * constant Gemms and the 4×4 tiles repeat each cell 4× where im2col's columns repeat it 9×.
 *
 * <p>In the graph: one Gather picks the tiles ({@link Im2colConv#tapIndex} with k = 4, stride 2; cells past the
 * map read zero, so an odd side gets a padded last tile), a Transpose brings the tile position to
 * the front, V = (Bᵀ⊗Bᵀ) · tiles and U = (G⊗G) · Wᵀ are one Gemm each, M is one batched MatMul, Y's blocks =
 * (Aᵀ⊗Aᵀ) · M one more Gemm, and a Transpose lays the blocks back into the map. Its backward ({@link #backward}) is
 * the exact transpose of each linear step, so it computes the gradient of what the forward computes (dX by the same
 * tiles folded back, dW = (G⊗G)ᵀ · Σ dM·Vᵀ).
 *
 * <p>Rounding differs from the direct sum's (LoweredConvolutionTest measures it against a double-precision
 * convolution; the finite-difference, ConvGrad-graph and PyTorch-golden suites run on the graphs that use it).
 */
public final class WinogradConv implements Composite {
    /** The composite's name, the op type autodiff sees an application under. */
    public static final String NAME = "WinogradConv";
    /** Output block side of F(2×2, 3×3). */
    static final int BLOCK = 2;
    /** Input tile side of F(2×2, 3×3). */
    static final int TILE = 4;
    /** Tile positions: the element-wise products per tile, one batched product each. */
    static final int POSITIONS = TILE * TILE;

    /*
     * Lavin and Gray's matrices, interpolation points 0, ±1. F(4×4, 3×3) (6×6 tiles, 36 products per 16 outputs) was
     * measured at about 1.2× this one's training step, but its transforms' coefficients (up to 8 and 1/24) cost
     * precision that training amplifies: the stem's weight gradient missed PyTorch's float64 by 2.5e-2 where F(2×2)
     * stays within TorchReferenceTest's 1e-4 (PyTorch's own float32: 7e-4), so it was dropped (bench/README.md).
     */
    private static final double[][] BT = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    private static final double[][] G = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    private static final double[][] AT = {{1, 1, 1, 0}, {0, 1, -1, -1}};

    private static final WinogradConv INSTANCE = new WinogradConv();

    private WinogradConv() {}

    /** Whether a convolution of these parameters is one this class computes. */
    public static boolean fits(long kernel, int stride, int pad) {
        return kernel == 3 && stride == 1 && pad == 1;
    }

    /**
     * The convolution of an [N, C, H, W] map by W [Co, C, 3, 3], returning [N, Co, H, W]: the composite on the
     * batch-last map between two transposes (which the CPU graph's batch-last layout pass removes between two lowered
     * convolutions).
     */
    public static Value apply(Ops ops, String name, Value x, Value w) {
        return Im2colConv.onNchwMap(ops, name, INSTANCE, x, w);
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Inputs X [C, H, W, N] and W [Co, C, 3, 3]; output Y [Co, H, W, N]; saved: the transformed tiles V [16, C, T·N]
     * and weights U [16, Co, C].
     */
    @Override
    public Applied forward(Ops ops, String name, List<Value> inputs) {
        Value x = inputs.get(0), w = inputs.get(1);
        Shape xs = x.requireShape(), ws = w.requireShape();
        long channels = xs.size(0), h = xs.size(1), wd = xs.size(2), outChannels = ws.size(0);
        if (!fits(ws.size(2), 1, 1) || ws.size(3) != 3 || ws.size(1) != channels)
            throw new IllegalArgumentException(name + ": Winograd F(2x2, 3x3) needs a 3x3 group-1 weight, got " + ws);
        DType dtype = x.dtype();
        Graph g = ops.graph();
        // [C·16, T·N] → [16, C, T·N]: the tile position leads, so that each transform is one Gemm over everything else
        Value tiles = Im2colConv.columns(ops, name + ".tiles", x, POSITIONS, tileIndex(h, wd));
        Value byPosition = ops.transpose(
                name + ".tiles_t", ops.reshape(name + ".tiles3", tiles, channels, POSITIONS, -1), 1, 0, 2);
        Value v = ops.reshape(
                name + ".v",
                ops.gemm(
                        name + ".v_mat",
                        inputTransform(g, dtype),
                        ops.reshape(name + ".tiles_mat", byPosition, POSITIONS, -1),
                        null,
                        false,
                        false),
                POSITIONS,
                channels,
                -1);
        Value u = ops.reshape(
                name + ".u",
                ops.gemm(
                        name + ".u_mat",
                        weightTransform(g, dtype),
                        ops.reshape(name + ".w_mat", w, outChannels * channels, 9),
                        null,
                        false,
                        true),
                POSITIONS,
                outChannels,
                channels);
        Value m = ops.matmul(name + ".m", u, v);
        Value blocks = ops.gemm(
                name + ".y_blocks",
                outputTransform(g, dtype),
                ops.reshape(name + ".m_mat", m, POSITIONS, -1),
                null,
                false,
                false);
        Value y = fromBlocks(ops, name + ".chwn", blocks, outChannels, h, wd, xs.dim(3));
        return new Applied(List.of(y), List.of(v, u));
    }

    /**
     * Inputs X [C, H, W, N], W [Co, C, 3, 3], the forward's V [P, C, T·N] and U [P, Co, C], P = 16 tile positions;
     * dY [Co, H, W, N]: each linear step of the forward transposed. dM [P, Co, T·N] = (Aᵀ⊗Aᵀ)ᵀ · dY's blocks;
     * dW = dU·(G⊗G) with dU = dM·Vᵀ (batched, V transposed inside the kernel); dX folds (Bᵀ⊗Bᵀ)ᵀ · Uᵀ·dM back onto
     * the cells each tile read (at most four per cell).
     */
    @Override
    public void backward(Gradients c) {
        Ops ops = c.ops();
        Graph g = ops.graph();
        Value x = c.I(0), w = c.I(1), v = c.I(2), u = c.I(3), dy = c.GO(0);
        Shape xs = x.requireShape(), ws = w.requireShape();
        long channels = xs.size(0), h = xs.size(1), wd = xs.size(2), outChannels = ws.size(0);
        long tiles = blocks(h) * blocks(wd);
        Dim batch = xs.dim(3);
        c.skip(2);
        c.skip(3);
        Value dyBlocks = toBlocks(ops, c.hint("dy"), dy, outChannels, h, wd, batch);
        Value dm = ops.reshape(
                c.hint("dm"),
                ops.gemm(c.hint("dm_mat"), outputTransform(g, dy.dtype()), dyBlocks, null, true, false),
                POSITIONS,
                outChannels,
                -1);
        if (c.needs(1)) {
            Value du = ops.reshape(
                    c.hint("du_mat"),
                    ops.fusedMatMul(c.hint("du"), dm, v, false, true),
                    POSITIONS,
                    outChannels * channels);
            Value dwMat = ops.gemm(c.hint("dw_mat"), du, weightTransform(g, dy.dtype()), null, true, false);
            c.GI(1, ops.reshape(c.hint("dw"), dwMat, outChannels, channels, 3, 3));
        }
        if (!c.needs(0)) return;
        Value dv = ops.fusedMatMul(c.hint("dv"), u, dm, true, false);
        // P + 1 tile positions, the last one zero: the fold's zero cell (see inputTransformTransposedWithZeroRow)
        Value dtiles = ops.gemm(
                c.hint("dtiles"),
                inputTransformTransposedWithZeroRow(g, dy.dtype()),
                ops.reshape(c.hint("dv_mat"), dv, POSITIONS, -1),
                null,
                false,
                false);
        Value byChannel = ops.transpose(
                c.hint("dtiles_c"), ops.reshape(c.hint("dtiles3"), dtiles, POSITIONS + 1, channels, -1), 1, 0, 2);
        Value dcols = ops.reshape(c.hint("dcols"), byChannel, channels * (POSITIONS + 1), -1);
        long[] fold = foldIndex(h, wd);
        for (int i = 0; i < fold.length; i++) if (fold[i] == Im2colConv.ZERO) fold[i] = POSITIONS * tiles;
        Value cells = Im2colConv.col2im(
                ops, c.hint("dx"), dcols, channels, POSITIONS + 1, tiles, fold, fold.length / (h * wd), batch, false);
        c.GI(0, Im2colConv.toMap(ops, c.hint("dx"), cells, channels, h, wd, batch));
    }

    /**
     * The output blocks [4 = (p, q), Co·TH·TW·N] as the map [Co, H, W, N]: block (p, q) of tile (a, b) is cell
     * (2a + p, 2b + q); one Transpose, then a Slice where a side is odd (the last tiles' padding).
     */
    static Value fromBlocks(Ops ops, String name, Value blocks, long channels, long h, long w, Dim batch) {
        long tilesH = blocks(h), tilesW = blocks(w);
        Value six = ops.reshape(name + ".y6", blocks, BLOCK, BLOCK, channels, tilesH, tilesW, -1);
        Value laid = ops.transpose(name + ".y_laid", six, 2, 3, 0, 4, 1, 5);
        boolean padded = h != BLOCK * tilesH || w != BLOCK * tilesW;
        Value map = Im2colConv.toMap(
                ops, padded ? name + ".y_padded" : name, laid, channels, BLOCK * tilesH, BLOCK * tilesW, batch);
        if (!padded) return map;
        return ops.slice(name, map, new long[] {0, 0}, new long[] {h, w}, new long[] {1, 2});
    }

    /** The inverse of {@link #fromBlocks}, for dY: [Co, H, W, N] → [4, Co·TH·TW·N] (zero where a block was cut off). */
    static Value toBlocks(Ops ops, String name, Value map, long channels, long h, long w, Dim batch) {
        long tilesH = blocks(h), tilesW = blocks(w);
        Value even = map;
        if (h != BLOCK * tilesH || w != BLOCK * tilesW) {
            even = ops.pad(
                    name + ".padded",
                    map,
                    new long[] {0, 0, 0, 0, 0, BLOCK * tilesH - h, BLOCK * tilesW - w, 0},
                    Shape.of(Dim.of(channels), Dim.of(BLOCK * tilesH), Dim.of(BLOCK * tilesW), batch));
        }
        Value six = ops.reshape(name + ".six", even, channels, tilesH, BLOCK, tilesW, BLOCK, -1);
        Value blocks = ops.transpose(name + ".blocks6", six, 2, 4, 0, 1, 3, 5);
        return ops.reshape(name + ".blocks", blocks, BLOCK * BLOCK, -1);
    }

    /** Tiles (output blocks) along a side of n cells: ⌈n / 2⌉. */
    static long blocks(long n) {
        return (n + BLOCK - 1) / BLOCK;
    }

    /** For tile position (i, j) and tile (a, b): input cell (2a + i − 1, 2b + j − 1), or ZERO off the map. */
    static long[] tileIndex(long h, long w) {
        return Im2colConv.tapIndex(h, w, TILE, BLOCK, 1, blocks(h), blocks(w));
    }

    /** For dX: each input cell's (at most four) tile readings, {@link Im2colConv#compactFold} of the tiles' inverse. */
    static long[] foldIndex(long h, long w) {
        long[] inverse = Im2colConv.col2imIndex(h, w, TILE, BLOCK, 1, blocks(h), blocks(w));
        return Im2colConv.compactFold(inverse, POSITIONS, h * w);
    }

    /** Bᵀ⊗Bᵀ [16, 16]: V[(a, b)] = Σ Bᵀ[a][i]·Bᵀ[b][j]·d[i][j]. */
    static Value inputTransform(Graph g, DType dtype) {
        return g.constant(dtype, Shape.fixed(POSITIONS, POSITIONS), kron(BT, BT));
    }

    /**
     * (Bᵀ⊗Bᵀ)ᵀ [17, 16], its last row zero: dX's tiles from dV, followed by one tile position that is zero
     * everywhere — the zero cell the fold of dX reads for cells with fewer readings, produced by the Gemm itself
     * instead of by a Pad copying all 16 positions to append it.
     */
    static Value inputTransformTransposedWithZeroRow(Graph g, DType dtype) {
        double[] forward = kron(BT, BT), rows = new double[(POSITIONS + 1) * POSITIONS];
        for (int r = 0; r < POSITIONS; r++)
            for (int c = 0; c < POSITIONS; c++) rows[r * POSITIONS + c] = forward[c * POSITIONS + r];
        return g.constant(dtype, Shape.fixed(POSITIONS + 1, POSITIONS), rows);
    }

    /** G⊗G [16, 9]: U[(a, b)] = Σ G[a][u]·G[b][v]·w[u][v]. */
    static Value weightTransform(Graph g, DType dtype) {
        return g.constant(dtype, Shape.fixed(POSITIONS, 9), kron(G, G));
    }

    /** Aᵀ⊗Aᵀ [4, 16]: Y[(p, q)] = Σ Aᵀ[p][a]·Aᵀ[q][b]·M[(a, b)]. */
    static Value outputTransform(Graph g, DType dtype) {
        return g.constant(dtype, Shape.fixed(BLOCK * BLOCK, POSITIONS), kron(AT, AT));
    }

    /** (a⊗b)[(p, q)][(r, s)] = a[p][r]·b[q][s], row-major. */
    static double[] kron(double[][] a, double[][] b) {
        int ar = a.length, ac = a[0].length, br = b.length, bc = b[0].length;
        double[] out = new double[ar * br * ac * bc];
        for (int p = 0; p < ar; p++)
            for (int q = 0; q < br; q++)
                for (int r = 0; r < ac; r++)
                    for (int s = 0; s < bc; s++) out[(p * br + q) * (ac * bc) + r * bc + s] = a[p][r] * b[q][s];
        return out;
    }
}
