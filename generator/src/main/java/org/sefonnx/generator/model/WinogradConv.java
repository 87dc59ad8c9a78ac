package org.sefonnx.generator.model;

import java.util.List;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Dim;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * A 3×3, stride-1, pad-1 convolution of a batch-last map [C, H, W, N] by Winograd's minimal filtering F(m×m, 3×3)
 * (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016), m = 2 ({@link Tile}): each m×m
 * block of outputs is computed from the (m+2)×(m+2) input tile around it as Y = Aᵀ[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]A. Summed over
 * the channels, the element-wise products become one matrix product per tile position ξ, M[ξ] = U[ξ] [Co, C] ·
 * V[ξ] [C, tiles·N]: 16 products per 4 outputs where im2col's W [Co, 9·C] · cols needs 9 per output — 2.25× fewer
 * multiply-adds in ResNet's 3×3 stride-1 convolutions, four fifths of its arithmetic — while the transforms are small
 * constant Gemms and the 4×4 tiles repeat each cell 4× where im2col's columns repeat it 9×.
 *
 * <p>In the graph: one Gather picks the tiles ({@link Im2colConv#tapIndex} with k = m + 2, stride m; cells past the
 * map read zero, so a side that is no multiple of m gets a padded last tile), a Transpose brings the tile position to
 * the front, V = (Bᵀ⊗Bᵀ) · tiles and U = (G⊗G) · Wᵀ are one Gemm each, M is one batched MatMul, Y's blocks =
 * (Aᵀ⊗Aᵀ) · M one more Gemm, and a Transpose lays the blocks back into the map. The run is one autodiff composite,
 * {@value #RULE}: its rule (autodiff's ConvRules) is the exact transpose of each linear step, so it computes the
 * gradient of what the forward computes (dX by the same tiles folded back, dW = (G⊗G)ᵀ · Σ dM·Vᵀ).
 *
 * <p>Rounding differs from the direct sum's (LoweredConvolutionForwardTest measures it against a double-precision
 * convolution; the finite-difference, ConvGrad-graph and PyTorch-golden suites run on the graphs that use it).
 */
public final class WinogradConv {
    /** The composite's gradient-rule name. */
    public static final String RULE = "WinogradConv";
    /** The composite's attribute: the output block side m of F(m×m, 3×3). */
    public static final String BLOCK_ATTR = "output_block";

    /**
     * F(m×m, 3×3) as its three matrices (Lavin and Gray's, interpolation points 0, ±1). Only m = 2 is used: F(4×4)
     * (36 products per 16 outputs, 6×6 tiles) was measured at about 1.2× F(2×2)'s training step here, but its
     * transforms' coefficients (up to 8 and 1/24) cost precision that training amplifies: the stem's weight gradient
     * missed PyTorch's float64 by 2.5e-2 where F(2×2) stays within TorchReferenceTest's 1e-4 (PyTorch's own float32:
     * 7e-4), so it was dropped (bench/README.md).
     */
    public enum Tile {
        F2(
                new double[][] {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
                new double[][] {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
                new double[][] {{1, 1, 1, 0}, {0, 1, -1, -1}});
        private final double[][] bt, g, at;
        /** Output block side m, input tile side m + 2, and tile positions (m + 2)². */
        public final int block, tile, positions;

        Tile(double[][] bt, double[][] g, double[][] at) {
            this.bt = bt;
            this.g = g;
            this.at = at;
            this.block = at.length;
            this.tile = bt.length;
            this.positions = tile * tile;
        }

        /** The tile of block side m. */
        public static Tile ofBlock(long m) {
            for (Tile t : values()) if (t.block == m) return t;
            throw new IllegalArgumentException("no Winograd tile with output block " + m);
        }

        /** Tiles (output blocks) along a side of n cells: ⌈n / m⌉. */
        public long blocks(long n) {
            return (n + block - 1) / block;
        }

        /** For tile position (i, j) and tile (a, b): input cell (m·a + i − 1, m·b + j − 1), or ZERO off the map. */
        public long[] tileIndex(long h, long w) {
            return Im2colConv.tapIndex(h, w, tile, block, 1, blocks(h), blocks(w));
        }

        /** For dX: each input cell's tile readings, {@link Im2colConv#compactFold} of the tiles' inverse. */
        public long[] foldIndex(long h, long w) {
            long[] inverse = Im2colConv.col2imIndex(h, w, tile, block, 1, blocks(h), blocks(w));
            return Im2colConv.compactFold(inverse, positions, h * w);
        }

        /** Bᵀ⊗Bᵀ [P, P]: V[(a, b)] = Σ Bᵀ[a][i]·Bᵀ[b][j]·d[i][j]. */
        public Value inputTransform(Graph g, DType dtype) {
            return g.constant(dtype, Shape.fixed(positions, positions), kron(bt, bt));
        }

        /**
         * (Bᵀ⊗Bᵀ)ᵀ [P + 1, P], its last row zero: dX's tiles from dV, followed by one tile position that is zero
         * everywhere — the zero cell the fold of dX reads for cells with fewer readings, produced by the Gemm itself
         * instead of by a Pad copying all P positions to append it.
         */
        public Value inputTransformTransposedWithZeroRow(Graph g, DType dtype) {
            double[] forward = kron(bt, bt), rows = new double[(positions + 1) * positions];
            for (int r = 0; r < positions; r++)
                for (int c = 0; c < positions; c++) rows[r * positions + c] = forward[c * positions + r];
            return g.constant(dtype, Shape.fixed(positions + 1, positions), rows);
        }

        /** G⊗G [P, 9]: U[(a, b)] = Σ G[a][u]·G[b][v]·w[u][v]. */
        public Value weightTransform(Graph graph, DType dtype) {
            return graph.constant(dtype, Shape.fixed(positions, 9), kron(g, g));
        }

        /** Aᵀ⊗Aᵀ [m², P]: Y[(p, q)] = Σ Aᵀ[p][a]·Aᵀ[q][b]·M[(a, b)]. */
        public Value outputTransform(Graph g, DType dtype) {
            return g.constant(dtype, Shape.fixed((long) block * block, positions), kron(at, at));
        }
    }

    private WinogradConv() {}

    /** Whether a convolution of these parameters is one this class computes. */
    public static boolean fits(long kernel, int stride, int pad) {
        return kernel == 3 && stride == 1 && pad == 1;
    }

    /** The convolution of an [N, C, H, W] map: {@link #applyBatchLast} between two transposes. */
    public static Value apply(Ops ops, String name, Value x, Value w, Tile tile) {
        Value y = applyBatchLast(ops, name, ops.transpose(name + ".x_chwn", x, 1, 2, 3, 0), w, tile);
        return ops.transpose(name, y, 3, 0, 1, 2);
    }

    /** The convolution of [C, H, W, N] by W [Co, C, 3, 3], returning [Co, H, W, N]. */
    public static Value applyBatchLast(Ops ops, String name, Value x, Value w, Tile tile) {
        int first = ops.graph().nextNodeIndex();
        Shape xs = x.requireShape(), ws = w.requireShape();
        long channels = xs.size(0), h = xs.size(1), wd = xs.size(2), outChannels = ws.size(0);
        if (!fits(ws.size(2), 1, 1) || ws.size(3) != 3 || ws.size(1) != channels)
            throw new IllegalArgumentException(name + ": Winograd F(m x m, 3x3) needs a 3x3 group-1 weight, got " + ws);
        DType dtype = x.dtype();
        Graph g = ops.graph();
        int positions = tile.positions;
        // [C·P, T·N] → [P, C, T·N]: the tile position leads, so that each transform is one Gemm over everything else
        Value tiles = Im2colConv.columns(ops, name + ".tiles", x, positions, tile.tileIndex(h, wd));
        Value byPosition = ops.transpose(
                name + ".tiles_t", ops.reshape(name + ".tiles3", tiles, channels, positions, -1), 1, 0, 2);
        Value v = ops.reshape(
                name + ".v",
                ops.gemm(
                        name + ".v_mat",
                        tile.inputTransform(g, dtype),
                        ops.reshape(name + ".tiles_mat", byPosition, positions, -1),
                        null,
                        false,
                        false),
                positions,
                channels,
                -1);
        Value u = ops.reshape(
                name + ".u",
                ops.gemm(
                        name + ".u_mat",
                        tile.weightTransform(g, dtype),
                        ops.reshape(name + ".w_mat", w, outChannels * channels, 9),
                        null,
                        false,
                        true),
                positions,
                outChannels,
                channels);
        Value m = ops.matmul(name + ".m", u, v);
        Value blocks = ops.gemm(
                name + ".y_blocks",
                tile.outputTransform(g, dtype),
                ops.reshape(name + ".m_mat", m, positions, -1),
                null,
                false,
                false);
        Value y = fromBlocks(ops, name + ".chwn", blocks, tile, outChannels, h, wd, xs.dim(3));
        g.composite(first, RULE, List.of(x, w, v, u), List.of(y), List.of(Attr.i(BLOCK_ATTR, tile.block)));
        return y;
    }

    /**
     * The output blocks [m² = (p, q), Co·TH·TW·N] as the map [Co, H, W, N]: block (p, q) of tile (a, b) is cell
     * (m·a + p, m·b + q); one Transpose, then a Slice where a side is no multiple of m (the last tiles' padding).
     */
    static Value fromBlocks(Ops ops, String name, Value blocks, Tile tile, long channels, long h, long w, Dim batch) {
        long tilesH = tile.blocks(h), tilesW = tile.blocks(w), m = tile.block;
        Value six = ops.reshape(name + ".y6", blocks, m, m, channels, tilesH, tilesW, -1);
        Value laid = ops.transpose(name + ".y_laid", six, 2, 3, 0, 4, 1, 5);
        boolean padded = h != m * tilesH || w != m * tilesW;
        Value map = Im2colConv.toMap(
                ops, padded ? name + ".y_padded" : name, laid, channels, m * tilesH, m * tilesW, batch);
        if (!padded) return map;
        return ops.slice(name, map, new long[] {0, 0}, new long[] {h, w}, new long[] {1, 2});
    }

    /** The inverse of {@link #fromBlocks}, for dY: [Co, H, W, N] → [m², Co·TH·TW·N] (zero where a block was cut off). */
    public static Value toBlocks(Ops ops, String name, Value map, Tile tile, long channels, long h, long w, Dim batch) {
        long tilesH = tile.blocks(h), tilesW = tile.blocks(w), m = tile.block;
        Value even = map;
        if (h != m * tilesH || w != m * tilesW) {
            even = ops.pad(
                    name + ".padded",
                    map,
                    new long[] {0, 0, 0, 0, 0, m * tilesH - h, m * tilesW - w, 0},
                    Shape.of(Dim.of(channels), Dim.of(m * tilesH), Dim.of(m * tilesW), batch));
        }
        Value six = ops.reshape(name + ".six", even, channels, tilesH, m, tilesW, m, -1);
        Value blocks = ops.transpose(name + ".blocks6", six, 2, 4, 0, 1, 3, 5);
        return ops.reshape(name + ".blocks", blocks, m * m, -1);
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
