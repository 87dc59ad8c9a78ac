package org.sefonnx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.sefonnx.imaging.Normalization;
import org.sefonnx.imaging.RgbImage;

class TransformSpecTest {

    @Test
    void publishedRecipesHaveTheSizesOfSefMethod() {
        TransformSpec cubTrain = TransformSpec.forLayout(Layout.CUB, TransformSpec.NETWORK_INPUT, true);
        assertEquals(TransformSpec.resizeAndCrop(600, 448, TransformSpec.Crop.RANDOM, true), cubTrain);
        assertEquals(
                TransformSpec.resizeAndCrop(600, 448, TransformSpec.Crop.CENTER, false),
                TransformSpec.forLayout(Layout.AIRCRAFT, TransformSpec.NETWORK_INPUT, false));
        assertEquals(
                TransformSpec.resize(448, true),
                TransformSpec.forLayout(Layout.CARS, TransformSpec.NETWORK_INPUT, true));
        assertEquals(
                TransformSpec.resize(448, false),
                TransformSpec.forLayout(Layout.DOGS, TransformSpec.NETWORK_INPUT, false));
        assertEquals(3 * 448 * 448, cubTrain.floatsPerImage());
    }

    @Test
    void centerCropUsesPythonRoundHalfEven() {
        assertEquals(
                new TransformSpec.Placement(76, 76, false),
                TransformSpec.resizeAndCrop(600, 448, TransformSpec.Crop.CENTER, false)
                        .place(new SplittableRandom(1)));
        // (5 - 2) / 2 = 1.5 -> 2 ; (7 - 2) / 2 = 2.5 -> 2, as round() in torchvision's center_crop
        assertEquals(
                2,
                TransformSpec.resizeAndCrop(5, 2, TransformSpec.Crop.CENTER, false)
                        .place(new SplittableRandom(1))
                        .top());
        assertEquals(
                2,
                TransformSpec.resizeAndCrop(7, 2, TransformSpec.Crop.CENTER, false)
                        .place(new SplittableRandom(1))
                        .left());
    }

    @Test
    void randomCropCoversEveryOffsetAndFlipsAboutHalfTheTime() {
        TransformSpec spec = TransformSpec.resizeAndCrop(10, 8, TransformSpec.Crop.RANDOM, true);
        SplittableRandom random = new SplittableRandom(7);
        int[] tops = new int[3];
        int flips = 0;
        for (int i = 0; i < 3000; i++) {
            TransformSpec.Placement p = spec.place(random);
            tops[p.top()]++;
            flips += p.flip() ? 1 : 0;
            assertTrue(p.left() >= 0 && p.left() <= 2);
        }
        for (int count : tops) {
            assertTrue(count > 900 && count < 1100, "top counts " + java.util.Arrays.toString(tops));
        }
        assertTrue(flips > 1400 && flips < 1600, "flips " + flips);
    }

    @Test
    void normalisationMatchesImagenetFormulaInFloat() {
        Normalization n = Normalization.IMAGENET;
        assertEquals((1f - 0.485f) / 0.229f, n.apply(0, 255), 0f);
        assertEquals(2.2489083f, n.apply(0, 255), 1e-6f);
        assertEquals(-2.1179039f, n.apply(0, 0), 1e-6f);
        assertEquals(-2.0357144f, n.apply(1, 0), 1e-6f);
        assertEquals((128f / 255f - 0.406f) / 0.225f, n.apply(2, 128), 0f);
    }

    @Test
    void applyWritesChwAndMirrorsWhenFlipped() {
        // 2x1 image: left pixel (0,10,20), right pixel (255,128,64); resize to the same size = identity
        RgbImage image = new RgbImage(2, 1, new byte[] {0, 10, 20, (byte) 255, (byte) 128, 64});
        FloatBuffer out = FloatBuffer.allocate(8);
        new TransformSpec(2, 1, 2, 1, TransformSpec.Crop.NONE, false).apply(image, new SplittableRandom(0), out, 2);
        Normalization n = Normalization.IMAGENET;
        assertEquals(n.apply(0, 0), out.get(2), 0f);
        assertEquals(n.apply(0, 255), out.get(3), 0f);
        assertEquals(n.apply(1, 10), out.get(4), 0f);
        assertEquals(n.apply(2, 64), out.get(7), 0f);

        // a draw that flips: the right pixel comes first in every channel plane
        TransformSpec flipping = new TransformSpec(2, 1, 2, 1, TransformSpec.Crop.NONE, true);
        long seed = 0;
        while (!flipping.place(new SplittableRandom(seed)).flip()) seed++;
        flipping.apply(image, new SplittableRandom(seed), out, 2);
        assertEquals(n.apply(0, 255), out.get(2), 0f);
        assertEquals(n.apply(0, 0), out.get(3), 0f);
        assertEquals(n.apply(2, 64), out.get(6), 0f);
        assertEquals(n.apply(2, 20), out.get(7), 0f);
    }

    @Test
    void rejectsCropLargerThanResize() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TransformSpec.resizeAndCrop(32, 40, TransformSpec.Crop.CENTER, false));
        assertTrue(e.getMessage().contains("crop 40x40 is larger than resize 32x32"), e.getMessage());
    }
}
