package org.sefonnx.imaging;

import java.nio.FloatBuffer;

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

    /** Writes {@code image} as C x H x W floats at absolute index {@code offset}, mirrored left-right if {@code flip}. */
    public void writeChw(RgbImage image, boolean flip, FloatBuffer out, int offset) {
        int w = image.width();
        int h = image.height();
        byte[] pixels = image.pixels();
        float[] row = new float[w];
        for (int c = 0; c < 3; c++) {
            float[] lut = table[c];
            for (int y = 0; y < h; y++) {
                int p = y * w * 3 + c;
                if (flip) {
                    for (int x = w - 1; x >= 0; x--, p += 3) {
                        row[x] = lut[pixels[p] & 0xFF];
                    }
                } else {
                    for (int x = 0; x < w; x++, p += 3) {
                        row[x] = lut[pixels[p] & 0xFF];
                    }
                }
                out.put(offset + (c * h + y) * w, row, 0, w);
            }
        }
    }
}
