package org.sefonnx.imaging;

/** ToTensor + Normalize: (v / 255 - mean) / std per channel, in float32 arithmetic as torchvision computes it. */
public final class Normalization {

    /** torchvision's ImageNet statistics, the ones the pretrained ResNet weights expect. */
    public static final Normalization IMAGENET =
            new Normalization(PreprocessingSpec.IMAGENET_MEAN, PreprocessingSpec.IMAGENET_STD);

    private final float[][] table = new float[3][256];

    public Normalization(float[] mean, float[] std) {
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                // Same float ops as img.float().div(255) then sub_(mean).div_(std).
                table[c][v] = ((float) v / 255f - mean[c]) / std[c];
            }
        }
    }

    /** The 256-entry lookup table of channel {@code channel} (shared, do not modify). */
    float[] table(int channel) {
        return table[channel];
    }

    /** The normalised value of 8-bit {@code value} in channel {@code channel}. */
    public float apply(int channel, int value) {
        return table[channel][value];
    }
}
