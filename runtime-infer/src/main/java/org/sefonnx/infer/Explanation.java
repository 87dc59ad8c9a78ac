package org.sefonnx.infer;

import java.util.List;
import org.sefonnx.imaging.ActivationMaps;

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
public record Explanation(
        List<Prediction> predictions,
        int mapHeight,
        int mapWidth,
        List<float[]> groupMaps,
        List<Prediction> groupPredictions) {
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
        return ActivationMaps.normalised(ActivationMaps.upsample(groupMaps.get(g), mapHeight, mapWidth, height, width));
    }
}
