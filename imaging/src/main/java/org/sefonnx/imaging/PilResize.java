package org.sefonnx.imaging;

import java.nio.FloatBuffer;

/**
 * PIL's {@code Image.resize(size, Image.BILINEAR)} on 8-bit RGB, bit-exact: a separable triangle filter whose
 * support widens with the downscale factor (antialiasing), per-output-pixel normalised weights quantised to
 * 22-bit fixed point, horizontal pass first, each pass rounded and clamped to 8 bits (Pillow's Resample.c).
 *
 * <p>{@link #resizeRegion} computes only a window of the resized image, which is how the training crop is
 * taken without resizing the pixels it throws away; its result equals cropping {@link #resize}'s output.
 */
public final class PilResize {

    /** Pillow's PRECISION_BITS = 32 - 8 - 2: fixed-point weights with room for 8-bit data and overshoot. */
    static final int PRECISION_BITS = 22;

    private static final int HALF = 1 << (PRECISION_BITS - 1);
    /** Support of the bilinear (triangle) filter at scale 1. */
    private static final double BILINEAR_SUPPORT = 1.0;

    private PilResize() {}

    /** Fixed-point weights of one axis for output positions [first, first + count). */
    record Coefficients(int[] start, int[] taps, int[] weights, int stride) {}

    /** The triangle-filter weights for mapping {@code inSize} samples to output positions first..first+count-1 of {@code outSize}. */
    static Coefficients coefficients(int inSize, int outSize, int first, int count) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(1.0, scale);
        double support = BILINEAR_SUPPORT * filterScale;
        // Multiplying by the reciprocal, not dividing, keeps the doubles (and so the quantised weights) identical to
        // Pillow's.
        double inverseFilterScale = 1.0 / filterScale;
        int stride = (int) Math.ceil(support) * 2 + 1;
        int[] start = new int[count];
        int[] taps = new int[count];
        int[] weights = new int[count * stride];
        double[] w = new double[stride];
        for (int i = 0; i < count; i++) {
            int out = first + i;
            double center = (out + 0.5) * scale;
            // (int) truncates toward zero like the C cast; negative values are clamped to 0 right after anyway.
            int min = Math.max(0, (int) (center - support + 0.5));
            int max = Math.min(inSize, (int) (center + support + 0.5));
            int n = max - min;
            double sum = 0;
            for (int k = 0; k < n; k++) {
                double x = Math.abs((k + min - center + 0.5) * inverseFilterScale);
                w[k] = x < 1.0 ? 1.0 - x : 0.0;
                sum += w[k];
            }
            for (int k = 0; k < n; k++) {
                double normalised = sum != 0.0 ? w[k] / sum : w[k];
                // Pillow rounds half away from zero when quantising (weights are never negative here).
                weights[i * stride + k] = (int) (0.5 + normalised * (1 << PRECISION_BITS));
            }
            // Zero-weight taps at either end (the triangle's feet) add nothing: drop them to save work.
            int leadingZeros = 0;
            while (n > 1 && weights[i * stride + leadingZeros] == 0) {
                leadingZeros++;
                n--;
            }
            while (n > 1 && weights[i * stride + leadingZeros + n - 1] == 0) {
                n--;
            }
            if (leadingZeros > 0) {
                System.arraycopy(weights, i * stride + leadingZeros, weights, i * stride, n);
            }
            start[i] = min + leadingZeros;
            taps[i] = n;
        }
        return new Coefficients(start, taps, weights, stride);
    }

    /** The whole image resized to {@code outWidth x outHeight}. */
    public static RgbImage resize(RgbImage src, int outWidth, int outHeight) {
        return resizeRegion(src, outWidth, outHeight, 0, 0, outWidth, outHeight);
    }

    /**
     * The window (left, top, width, height) of {@code src} resized to {@code outWidth x outHeight}, computed
     * without the rest of the resized image.
     */
    public static RgbImage resizeRegion(
            RgbImage src, int outWidth, int outHeight, int left, int top, int width, int height) {
        requireWindow(outWidth, outHeight, left, top, width, height);
        boolean horizontal = outWidth != src.width();
        boolean vertical = outHeight != src.height();

        // Source rows the vertical pass reads; without a vertical pass, the window's rows themselves.
        Coefficients rows = vertical ? coefficients(src.height(), outHeight, top, height) : null;
        int firstRow = vertical ? rows.start[0] : top;
        int lastRow = vertical ? rows.start[height - 1] + rows.taps[height - 1] : top + height;

        byte[] band;
        int bandWidth;
        int bandLeft;
        if (horizontal) {
            band = horizontalPass(src, coefficients(src.width(), outWidth, left, width), firstRow, lastRow, width);
            bandWidth = width;
            bandLeft = 0;
        } else {
            band = src.pixels();
            bandWidth = src.width();
            bandLeft = left;
            firstRow = 0;
        }
        byte[] out = new byte[width * height * 3];
        if (vertical) {
            verticalPass(band, bandWidth, bandLeft, firstRow, rows, out, width, height);
        } else {
            for (int y = 0; y < height; y++) {
                int bandRow = (top + y) - (horizontal ? top : 0);
                System.arraycopy(band, (bandRow * bandWidth + bandLeft) * 3, out, y * width * 3, width * 3);
            }
        }
        return new RgbImage(width, height, out);
    }

    /**
     * {@link #resizeRegion} fused with the flip and {@link Normalization#writeChw}: the vertical pass writes
     * normalised floats straight into {@code out} (C x H x W at {@code offset}), skipping the interleaved
     * intermediate. Same pixels as the unfused path, bit for bit.
     */
    public static void resizeRegionNormalized(
            RgbImage src,
            int outWidth,
            int outHeight,
            int left,
            int top,
            int width,
            int height,
            boolean flip,
            Normalization normalization,
            FloatBuffer out,
            int offset) {
        requireWindow(outWidth, outHeight, left, top, width, height);
        boolean horizontal = outWidth != src.width();
        boolean vertical = outHeight != src.height();
        Coefficients rows = vertical ? coefficients(src.height(), outHeight, top, height) : null;
        int firstRow = vertical ? rows.start[0] : top;
        int lastRow = vertical ? rows.start[height - 1] + rows.taps[height - 1] : top + height;
        byte[] band;
        int bandStride;
        int bandLeft;
        if (horizontal) {
            band = horizontalPass(src, coefficients(src.width(), outWidth, left, width), firstRow, lastRow, width);
            bandStride = width * 3;
            bandLeft = 0;
        } else {
            band = src.pixels();
            bandStride = src.width() * 3;
            bandLeft = left;
            firstRow = 0;
        }
        float[] lutR = normalization.table(0);
        float[] lutG = normalization.table(1);
        float[] lutB = normalization.table(2);
        float[] planeR = new float[width];
        float[] planeG = new float[width];
        float[] planeB = new float[width];
        int[] acc = new int[width * 3];
        int planeSize = width * height;
        for (int y = 0; y < height; y++) {
            if (vertical) {
                java.util.Arrays.fill(acc, HALF);
                int k = y * rows.stride;
                for (int t = 0, n = rows.taps[y]; t < n; t++) {
                    int w = rows.weights[k + t];
                    int p = (rows.start[y] + t - firstRow) * bandStride + bandLeft * 3;
                    for (int i = 0; i < acc.length; i++) {
                        acc[i] += (band[p + i] & 0xFF) * w;
                    }
                }
                for (int x = 0, i = 0; x < width; x++, i += 3) {
                    int ox = flip ? width - 1 - x : x;
                    planeR[ox] = lutR[clip8(acc[i]) & 0xFF];
                    planeG[ox] = lutG[clip8(acc[i + 1]) & 0xFF];
                    planeB[ox] = lutB[clip8(acc[i + 2]) & 0xFF];
                }
            } else {
                int bandRow = horizontal ? y : top + y;
                int p = bandRow * bandStride + bandLeft * 3;
                for (int x = 0; x < width; x++, p += 3) {
                    int ox = flip ? width - 1 - x : x;
                    planeR[ox] = lutR[band[p] & 0xFF];
                    planeG[ox] = lutG[band[p + 1] & 0xFF];
                    planeB[ox] = lutB[band[p + 2] & 0xFF];
                }
            }
            int rowOffset = offset + y * width;
            out.put(rowOffset, planeR, 0, width);
            out.put(rowOffset + planeSize, planeG, 0, width);
            out.put(rowOffset + 2 * planeSize, planeB, 0, width);
        }
    }

    /** Rows [firstRow, lastRow) of src filtered horizontally into {@code width} output columns. */
    private static byte[] horizontalPass(RgbImage src, Coefficients cols, int firstRow, int lastRow, int width) {
        byte[] in = src.pixels();
        int srcStride = src.width() * 3;
        byte[] out = new byte[(lastRow - firstRow) * width * 3];
        int[] start = cols.start;
        int[] taps = cols.taps;
        int[] weights = cols.weights;
        int stride = cols.stride;
        int o = 0;
        for (int y = firstRow; y < lastRow; y++) {
            int rowBase = y * srcStride;
            for (int x = 0; x < width; x++) {
                int r = HALF;
                int g = HALF;
                int b = HALF;
                int p = rowBase + start[x] * 3;
                int k = x * stride;
                int n = taps[x];
                if (n == 2) {
                    // Upscaling (CUB's 500 -> 600) leaves two taps per pixel once zero weights are trimmed.
                    int w0 = weights[k];
                    int w1 = weights[k + 1];
                    out[o++] = clip8(r + (in[p] & 0xFF) * w0 + (in[p + 3] & 0xFF) * w1);
                    out[o++] = clip8(g + (in[p + 1] & 0xFF) * w0 + (in[p + 4] & 0xFF) * w1);
                    out[o++] = clip8(b + (in[p + 2] & 0xFF) * w0 + (in[p + 5] & 0xFF) * w1);
                    continue;
                }
                for (int t = 0; t < n; t++, p += 3) {
                    int w = weights[k + t];
                    r += (in[p] & 0xFF) * w;
                    g += (in[p + 1] & 0xFF) * w;
                    b += (in[p + 2] & 0xFF) * w;
                }
                out[o++] = clip8(r);
                out[o++] = clip8(g);
                out[o++] = clip8(b);
            }
        }
        return out;
    }

    private static void verticalPass(
            byte[] band,
            int bandWidth,
            int bandLeft,
            int bandFirstRow,
            Coefficients rows,
            byte[] out,
            int width,
            int height) {
        int bandStride = bandWidth * 3;
        int[] acc = new int[width * 3];
        int o = 0;
        for (int y = 0; y < height; y++) {
            java.util.Arrays.fill(acc, HALF);
            int k = y * rows.stride;
            for (int t = 0, n = rows.taps[y]; t < n; t++) {
                int w = rows.weights[k + t];
                int p = (rows.start[y] + t - bandFirstRow) * bandStride + bandLeft * 3;
                for (int i = 0; i < acc.length; i++) {
                    acc[i] += (band[p + i] & 0xFF) * w;
                }
            }
            for (int i = 0; i < acc.length; i++) {
                out[o++] = clip8(acc[i]);
            }
        }
    }

    private static void requireWindow(int outWidth, int outHeight, int left, int top, int width, int height) {
        if (outWidth <= 0
                || outHeight <= 0
                || left < 0
                || top < 0
                || width <= 0
                || height <= 0
                || left + width > outWidth
                || top + height > outHeight) {
            throw new IllegalArgumentException("window " + width + "x" + height + " at (" + left + "," + top
                    + ") does not fit a " + outWidth + "x" + outHeight + " resize");
        }
    }

    private static byte clip8(int accumulator) {
        int v = accumulator >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }
}
