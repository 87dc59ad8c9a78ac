package org.sefonnx.train.data;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.sefonnx.imaging.Normalization;
import org.sefonnx.imaging.PilResize;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.imaging.RgbImage;

/**
 * One preprocessing recipe, torchvision order: Resize((resizeHeight, resizeWidth)) with PIL bilinear, then a
 * crop (none, centre or random), RandomHorizontalFlip(0.5), ToTensor, Normalize(ImageNet mean/std).
 *
 * @param resizeWidth  width after the exact (aspect-ignoring) resize
 * @param resizeHeight height after the resize
 * @param cropWidth    output width; equals resizeWidth when {@code crop} is NONE
 * @param cropHeight   output height
 * @param crop         how the output window is placed in the resized image
 * @param randomFlip   mirror left-right with probability 1/2
 */
public record TransformSpec(
        int resizeWidth, int resizeHeight, int cropWidth, int cropHeight, Crop crop, boolean randomFlip) {

    /** Crop placement. */
    public enum Crop {
        /** Output is the whole resized image. */
        NONE,
        /** torchvision CenterCrop: top = round((h - th) / 2) with Python's round-half-even. */
        CENTER,
        /** torchvision RandomCrop: top uniform in 0..h-th, then left uniform in 0..w-tw. */
        RANDOM
    }

    /** CUB and Aircraft training/test resize (docs/sef-method.md, "Training recipe"). */
    public static final int BIRDS_AIRCRAFT_RESIZE = 600;
    /** Crop side for CUB/Aircraft, and the resize side for Cars/Dogs (docs/sef-method.md, "Training recipe"). */
    public static final int NETWORK_INPUT = 448;

    public TransformSpec {
        if (resizeWidth <= 0 || resizeHeight <= 0 || cropWidth <= 0 || cropHeight <= 0) {
            throw new IllegalArgumentException("transform sizes must be positive: resize " + resizeWidth + "x"
                    + resizeHeight + ", crop " + cropWidth + "x" + cropHeight);
        }
        if (crop == Crop.NONE && (cropWidth != resizeWidth || cropHeight != resizeHeight)) {
            throw new IllegalArgumentException("crop NONE needs the crop size to equal the resize size, got crop "
                    + cropWidth + "x" + cropHeight + " for resize " + resizeWidth + "x" + resizeHeight);
        }
        if (cropWidth > resizeWidth || cropHeight > resizeHeight) {
            throw new IllegalArgumentException("crop " + cropWidth + "x" + cropHeight + " is larger than resize "
                    + resizeWidth + "x" + resizeHeight);
        }
    }

    /**
     * The authors' transform of {@code layout}'s images (docs/sef-method.md, "Training recipe") at a network input of
     * {@code size}: CUB and Aircraft resize to size·600/448 then crop (random for training, centre for test), Cars, Dogs
     * and ImageFolder resize to the size; training flips. IDX (and a null layout, the embedded demo) resizes without
     * flips.
     */
    public static TransformSpec forLayout(Layout layout, int size, boolean training) {
        if (layout == null || layout == Layout.IDX) return resize(size, false);
        return switch (layout) {
            case CUB, AIRCRAFT -> {
                int resize = Math.round(size * (float) BIRDS_AIRCRAFT_RESIZE / NETWORK_INPUT);
                yield resizeAndCrop(resize, size, training ? Crop.RANDOM : Crop.CENTER, training);
            }
            default -> resize(size, training);
        };
    }

    /** Square resize, no crop. */
    public static TransformSpec resize(int size, boolean randomFlip) {
        return new TransformSpec(size, size, size, size, Crop.NONE, randomFlip);
    }

    /** Square resize, then a square crop. */
    public static TransformSpec resizeAndCrop(int resize, int crop, Crop placement, boolean randomFlip) {
        return new TransformSpec(resize, resize, crop, crop, placement, randomFlip);
    }

    /** Output image height (tensor H). */
    public int outputHeight() {
        return cropHeight;
    }

    /** Output image width (tensor W). */
    public int outputWidth() {
        return cropWidth;
    }

    /** Floats one transformed image takes: 3 * H * W. */
    public int floatsPerImage() {
        return 3 * cropWidth * cropHeight;
    }

    /**
     * The evaluation counterpart of this transform, as an export's {@code preprocessing.properties} records it: the
     * same resize, a centre crop of the same size (a random crop's evaluation form; no crop stays no crop), no flip,
     * ImageNet statistics. Attach the model with {@link PreprocessingSpec#withModel} before writing it.
     */
    public PreprocessingSpec toPreprocessingSpec() {
        return PreprocessingSpec.resizeAndCenterCrop(resizeWidth, resizeHeight, cropWidth, cropHeight);
    }

    /** Where the crop lands and whether to flip, drawn from {@code random} in torchvision's order. */
    public record Placement(int left, int top, boolean flip) {}

    public Placement place(SplittableRandom random) {
        int top;
        int left;
        switch (crop) {
            case RANDOM -> {
                top = random.nextInt(resizeHeight - cropHeight + 1);
                left = random.nextInt(resizeWidth - cropWidth + 1);
            }
            case CENTER -> {
                top = (int) Math.rint((resizeHeight - cropHeight) / 2.0);
                left = (int) Math.rint((resizeWidth - cropWidth) / 2.0);
            }
            default -> {
                top = 0;
                left = 0;
            }
        }
        boolean flip = randomFlip && random.nextDouble() < 0.5;
        return new Placement(left, top, flip);
    }

    /** Transforms {@code image} and writes its normalised CHW floats at {@code floatOffset} of {@code out}. */
    public void apply(RgbImage image, SplittableRandom random, FloatBuffer out, int floatOffset) {
        Placement placement = place(random);
        PilResize.resizeRegionNormalized(
                image,
                resizeWidth,
                resizeHeight,
                placement.left(),
                placement.top(),
                cropWidth,
                cropHeight,
                placement.flip(),
                Normalization.IMAGENET,
                out,
                floatOffset);
    }
}
