package org.sefonnx.infer;

import java.util.List;

/**
 * Why the model predicted what it did, in SEF's terms: the global top-k, and per channel group its activation map (the
 * mean over the group's channels of the last post-ReLU feature map, at feature-map resolution, row-major) and the
 * top-1 of the group's own head (the paper's Fig. 4).
 *
 * @param predictions      the global head's top-k, as {@link SefClassifier#predict} returns them
 * @param mapHeight        rows of each activation map (the feature map's h)
 * @param mapWidth         columns of each activation map (the feature map's w)
 * @param groupMaps        one map of {@code mapHeight * mapWidth} values per group, in group order
 * @param groupPredictions each group head's best class and its probability, in group order
 */
public record Explanation(List<Prediction> predictions, int mapHeight, int mapWidth, List<float[]> groupMaps, List<Prediction> groupPredictions) {
    public Explanation {
        predictions = List.copyOf(predictions);
        groupMaps = groupMaps.stream().map(float[]::clone).toList();
        groupPredictions = List.copyOf(groupPredictions);
    }

    public int groups() {
        return groupMaps.size();
    }

    /** Group {@code g}'s map (a copy). */
    public float[] groupMap(int g) {
        return groupMaps.get(g).clone();
    }

    /**
     * Group {@code g}'s map upsampled bilinearly to {@code height x width} with half-pixel centres (PyTorch's
     * {@code F.interpolate(mode="bilinear", align_corners=False)}), then min-max normalised to 0..1 (a constant map
     * becomes all zeros): ready to colour-map over the model's input.
     */
    public float[] upsampled(int g, int width, int height) {
        if (width < 1 || height < 1) throw new IllegalArgumentException("upsampled size " + width + " x " + height + " must be at least 1 x 1");
        float[] map = groupMaps.get(g);
        int h = mapHeight, w = mapWidth;
        float[] out = new float[height * width];
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (int y = 0; y < height; y++) {
            double sy = Math.max(0, (y + 0.5) * h / height - 0.5);
            int y0 = Math.min((int) sy, h - 1), y1 = Math.min(y0 + 1, h - 1);
            double fy = sy - y0;
            for (int x = 0; x < width; x++) {
                double sx = Math.max(0, (x + 0.5) * w / width - 0.5);
                int x0 = Math.min((int) sx, w - 1), x1 = Math.min(x0 + 1, w - 1);
                double fx = sx - x0;
                double top = map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx;
                double bottom = map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx;
                float v = (float) (top * (1 - fy) + bottom * fy);
                out[y * width + x] = v;
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        float range = max - min;
        for (int i = 0; i < out.length; i++) out[i] = range > 0 ? (out[i] - min) / range : 0;
        return out;
    }
}
