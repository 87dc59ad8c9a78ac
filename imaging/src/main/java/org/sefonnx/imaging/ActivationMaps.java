package org.sefonnx.imaging;

/**
 * Activation maps at feature-map resolution brought to image size, shared by the trainer's explain figures and
 * runtime-infer's SefClassifier.explain so both draw the same picture of a map.
 */
public final class ActivationMaps {
    private ActivationMaps() {}

    /**
     * Bilinear upsampling of an h x w map (row-major) to outH x outW with half-pixel centres, as PyTorch's
     * {@code F.interpolate(mode="bilinear", align_corners=False)}.
     */
    public static float[] upsample(float[] map, int h, int w, int outH, int outW) {
        if (map.length != h * w)
            throw new IllegalArgumentException(
                    "a " + h + " x " + w + " map needs " + h * w + " values, got " + map.length);
        if (outH < 1 || outW < 1)
            throw new IllegalArgumentException("upsampled size " + outW + " x " + outH + " must be at least 1 x 1");
        float[] out = new float[outH * outW];
        for (int y = 0; y < outH; y++) {
            double sy = Math.max(0, (y + 0.5) * h / outH - 0.5);
            int y0 = Math.min((int) sy, h - 1), y1 = Math.min(y0 + 1, h - 1);
            double fy = sy - y0;
            for (int x = 0; x < outW; x++) {
                double sx = Math.max(0, (x + 0.5) * w / outW - 0.5);
                int x0 = Math.min((int) sx, w - 1), x1 = Math.min(x0 + 1, w - 1);
                double fx = sx - x0;
                double top = map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx;
                double bottom = map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx;
                out[y * outW + x] = (float) (top * (1 - fy) + bottom * fy);
            }
        }
        return out;
    }

    /** Min-max normalisation to 0..1; a constant map becomes all zeros. */
    public static float[] normalised(float[] map) {
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (float v : map) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float[] out = new float[map.length];
        float range = max - min;
        for (int i = 0; i < map.length; i++) out[i] = range > 0 ? (map[i] - min) / range : 0;
        return out;
    }
}
