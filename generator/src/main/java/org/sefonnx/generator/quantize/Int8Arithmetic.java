package org.sefonnx.generator.quantize;

/**
 * The numbers of the QDQ format this package emits, the ONNX QuantizeLinear/DequantizeLinear semantics
 * (q = saturate(round_half_even(x / scale) + zero_point), x' = (q − zero_point) · scale):
 *
 * <ul>
 *   <li>activations uint8, asymmetric, one scale and zero point per tensor, the range widened to hold 0 (zero must
 *       be exact: padding and ReLU's floor are zero);
 *   <li>weights int8, symmetric (zero point 0) per output channel, in [−127, 127]: ORT's symmetric convolution kernels
 *       need every weight zero point 0, and −128 is left out so that −q never overflows;
 *   <li>biases int32 with scale x_scale · w_scale[c] and zero point 0, the scale ORT's QLinearConv assumes whatever
 *       the bias's DequantizeLinear says.
 * </ul>
 *
 * u8 activations with s8 weights is the combination x86's VNNI kernels (VPDPBUSD, int32 accumulation) run without
 * saturation; docs/int8.md gives the reasons and the ORT source they were read from.
 */
public final class Int8Arithmetic {
    public static final int U8_MIN = 0, U8_MAX = 255;
    /** The symmetric int8 weight range is [−{@value}, {@value}]. */
    public static final int S8_LIMIT = 127;
    /** The largest int32 bias magnitude. */
    public static final long INT32_LIMIT = Integer.MAX_VALUE;

    private Int8Arithmetic() {}

    /** An activation's uint8 quantization: x ≈ (q − zeroPoint) · scale, q in [0, 255]. */
    public record ActivationParams(float scale, int zeroPoint) {
        public ActivationParams {
            if (!(scale > 0) || !Float.isFinite(scale))
                throw new IllegalArgumentException("activation scale must be positive and finite, got " + scale);
            if (zeroPoint < U8_MIN || zeroPoint > U8_MAX)
                throw new IllegalArgumentException("uint8 zero point must be in [0, 255], got " + zeroPoint);
        }

        /** Round-trips {@code x} through the uint8 grid, as QuantizeLinear then DequantizeLinear do. */
        public float fakeQuantize(float x) {
            return (quantize(x) - zeroPoint) * scale;
        }

        /** QuantizeLinear of one value (float32 division, ties to even, saturated). */
        public int quantize(float x) {
            double q = Math.rint(x / scale) + zeroPoint;
            return (int) Math.max(U8_MIN, Math.min(U8_MAX, q));
        }

        /** The smallest and largest values the grid holds. */
        public float min() {
            return (U8_MIN - zeroPoint) * scale;
        }

        public float max() {
            return (U8_MAX - zeroPoint) * scale;
        }
    }

    /**
     * The uint8 parameters of a calibrated range [rmin, rmax]: the range first widened to hold 0, then
     * scale = (rmax − rmin) / 255 and zeroPoint = round(−rmin / scale). A range of width 0 (a tensor that was constant
     * zero in calibration) gets scale 1, zero point 0. A post-ReLU range (rmin = 0) gets zero point 0, which is what
     * lets ORT drop the ReLU into the preceding kernel.
     */
    public static ActivationParams activation(double rmin, double rmax) {
        if (!Double.isFinite(rmin) || !Double.isFinite(rmax) || rmin > rmax)
            throw new IllegalArgumentException("activation range [" + rmin + ", " + rmax + "] is not a finite range");
        double lo = Math.min(rmin, 0), hi = Math.max(rmax, 0);
        float scale = (float) ((hi - lo) / (U8_MAX - U8_MIN));
        if (!(scale >= Float.MIN_NORMAL)) return new ActivationParams(1f, 0);
        int zeroPoint = (int) Math.max(U8_MIN, Math.min(U8_MAX, Math.rint(U8_MIN - lo / scale)));
        return new ActivationParams(scale, zeroPoint);
    }

    /**
     * Per-output-channel symmetric scales of a weight [M, ...] stored row-major: max|w_c| / 127 for each of the M
     * channels (1 for a channel that is all zero, whose quantized values are 0 whatever the scale).
     */
    public static float[] weightScales(float[] w, int channels) {
        if (channels < 1 || w.length % channels != 0)
            throw new IllegalArgumentException(w.length + " weights do not split into " + channels + " channels");
        int per = w.length / channels;
        float[] scales = new float[channels];
        for (int c = 0; c < channels; c++) {
            float max = 0;
            for (int i = c * per; i < (c + 1) * per; i++) max = Math.max(max, Math.abs(w[i]));
            if (!Float.isFinite(max))
                throw new IllegalArgumentException("weight channel " + c + " holds a non-finite value");
            scales[c] = max == 0 ? 1f : max / S8_LIMIT;
        }
        return scales;
    }

    /** The int8 weights: clamp(round_half_even(w / scale[c]), −127, 127), channel c = index / (w.length / M). */
    public static byte[] quantizeWeights(float[] w, float[] scales) {
        int per = w.length / scales.length;
        byte[] q = new byte[w.length];
        for (int i = 0; i < w.length; i++) {
            double v = Math.rint((double) w[i] / scales[i / per]);
            q[i] = (byte) Math.max(-S8_LIMIT, Math.min(S8_LIMIT, v));
        }
        return q;
    }

    /**
     * Enlarges, in place, the weight scale of every channel whose bias would not fit int32 at scale
     * x_scale · w_scale[c] (a bias large next to tiny weights); the weights then use fewer than 127 steps.
     */
    public static void fitBiasInInt32(float[] bias, float inputScale, float[] weightScales) {
        for (int c = 0; c < bias.length; c++) {
            double needed = Math.abs((double) bias[c]) / ((double) inputScale * INT32_LIMIT);
            // the 1e-6 margin covers the float32 rounding of x_scale · w_scale (relative 2^-24) the bias is divided by
            if (weightScales[c] < needed) weightScales[c] = (float) (needed * (1 + 1e-6));
        }
    }

    /** The bias scales x_scale · w_scale[c], as float32: the value the bias's DequantizeLinear records. */
    public static float[] biasScales(float inputScale, float[] weightScales) {
        float[] s = new float[weightScales.length];
        for (int c = 0; c < s.length; c++) s[c] = inputScale * weightScales[c];
        return s;
    }

    /** The int32 biases round_half_even(b[c] / biasScale[c]), computed in double. */
    public static int[] quantizeBias(float[] bias, float[] biasScales) {
        int[] q = new int[bias.length];
        for (int c = 0; c < bias.length; c++) {
            double v = Math.rint((double) bias[c] / biasScales[c]);
            if (Math.abs(v) > INT32_LIMIT)
                throw new IllegalArgumentException("bias " + c + " = " + bias[c] + " does not fit int32 at scale "
                        + biasScales[c] + " (call fitBiasInInt32 first)");
            q[c] = (int) v;
        }
        return q;
    }
}
