package org.sefonnx.imaging;

import java.nio.FloatBuffer;

/**
 * Applies a {@link PreprocessingSpec}'s evaluation transform to decoded pixels: PIL bilinear resize, centre crop and
 * normalisation, written as C x H x W floats. The same arithmetic as the training pipeline's evaluation path (crop
 * window resized without the pixels it throws away, one lookup table per channel), so training-time evaluation and
 * inference see bit-identical inputs. Stateless and thread-safe; decoding is the caller's ({@link ImageDecoder},
 * one per thread).
 */
public final class Preprocessor {
    private final PreprocessingSpec spec;
    private final Normalization normalization;

    public Preprocessor(PreprocessingSpec spec) {
        this.spec = spec;
        this.normalization = new Normalization(spec.mean(), spec.std());
    }

    public PreprocessingSpec spec() {
        return spec;
    }

    /** Floats one image takes: 3 * H * W. */
    public int floatsPerImage() {
        return spec.floatsPerImage();
    }

    /** Writes {@code image}'s normalised CHW floats at absolute index {@code offset} of {@code out}. */
    public void apply(RgbImage image, FloatBuffer out, int offset) {
        if (offset < 0 || offset + floatsPerImage() > out.capacity()) {
            throw new IndexOutOfBoundsException("image of " + floatsPerImage() + " floats at offset " + offset
                    + " does not fit a buffer of " + out.capacity());
        }
        PilResize.resizeRegionNormalized(
                image,
                spec.resizeWidth(),
                spec.resizeHeight(),
                spec.cropLeft(),
                spec.cropTop(),
                spec.cropWidth(),
                spec.cropHeight(),
                false,
                normalization,
                out,
                offset);
    }

    /** {@code image}'s normalised CHW floats in a new array. */
    public float[] apply(RgbImage image) {
        float[] chw = new float[floatsPerImage()];
        apply(image, FloatBuffer.wrap(chw), 0);
        return chw;
    }
}
