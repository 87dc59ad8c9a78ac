package org.sefonnx.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PilResizeTest {

    /**
     * Independent double-precision statement of Pillow's BILINEAR resize: triangle filter of support
     * max(1, in/out) centred at (i + 0.5) * in/out, weights normalised per output pixel, horizontal pass
     * first, each pass rounded to the nearest integer and clamped to 0..255.
     */
    static int[][][] referenceResize(int[][][] src, int outWidth, int outHeight) {
        int inHeight = src.length;
        int inWidth = src[0].length;
        int[][][] tmp = inWidth == outWidth ? src : new int[inHeight][outWidth][3];
        if (inWidth != outWidth) {
            for (int y = 0; y < inHeight; y++) {
                int[][] sourceRow = src[y];
                for (int x = 0; x < outWidth; x++) {
                    tmp[y][x] = filter(inWidth, outWidth, x, i -> sourceRow[i]);
                }
            }
        }
        if (inHeight == outHeight) {
            return tmp;
        }
        int[][][] out = new int[outHeight][outWidth][3];
        int[][][] rows = tmp;
        for (int y = 0; y < outHeight; y++) {
            for (int x = 0; x < outWidth; x++) {
                int column = x;
                out[y][x] = filter(inHeight, outHeight, y, i -> rows[i][column]);
            }
        }
        return out;
    }

    private static int[] filter(int inSize, int outSize, int out, java.util.function.IntFunction<int[]> sample) {
        double scale = (double) inSize / outSize;
        double support = Math.max(1.0, scale);
        double center = (out + 0.5) * scale;
        double[] sum = new double[3];
        double weightSum = 0;
        for (int i = 0; i < inSize; i++) {
            double distance = Math.abs(i + 0.5 - center) / support;
            double weight = Math.max(0.0, 1.0 - distance);
            if (weight > 0) {
                weightSum += weight;
                for (int c = 0; c < 3; c++) {
                    sum[c] += weight * sample.apply(i)[c];
                }
            }
        }
        int[] result = new int[3];
        for (int c = 0; c < 3; c++) {
            result[c] = (int) Math.max(0, Math.min(255, Math.floor(sum[c] / weightSum + 0.5)));
        }
        return result;
    }

    static RgbImage randomImage(int width, int height, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) random.nextInt(256);
        }
        return new RgbImage(width, height, pixels);
    }

    private static int[][][] toArray(RgbImage image) {
        int[][][] a = new int[image.height()][image.width()][3];
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                for (int c = 0; c < 3; c++) {
                    a[y][x][c] = image.get(x, y, c);
                }
            }
        }
        return a;
    }

    static int maxDifferenceFromReference(RgbImage src, int outWidth, int outHeight) {
        RgbImage fast = PilResize.resize(src, outWidth, outHeight);
        int[][][] reference = referenceResize(toArray(src), outWidth, outHeight);
        int max = 0;
        for (int y = 0; y < outHeight; y++) {
            for (int x = 0; x < outWidth; x++) {
                for (int c = 0; c < 3; c++) {
                    max = Math.max(max, Math.abs(fast.get(x, y, c) - reference[y][x][c]));
                }
            }
        }
        return max;
    }

    @Test
    void downscaleFourToTwoWidensTheTriangleByTheScale() {
        // scale 2, support 2: output 0 sees inputs 0,1,2 with weights 0.75, 0.75, 0.25 (/1.75)
        RgbImage row = new RgbImage(4, 1, new byte[] {10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40});
        RgbImage half = PilResize.resize(row, 2, 1);
        assertEquals(17, half.get(0, 0, 0)); // (7.5 + 15 + 7.5) / 1.75 = 17.14
        assertEquals(33, half.get(1, 0, 0)); // (20*.25 + 30*.75 + 40*.75) / 1.75 = 32.86
    }

    @Test
    void upscaleTwoToFourInterpolatesLinearlyAndClampsAtTheBorder() {
        RgbImage row = new RgbImage(2, 1, new byte[] {0, 0, 0, 100, 100, 100});
        RgbImage wide = PilResize.resize(row, 4, 1);
        // centres 0.25, 0.75, 1.25, 1.75 in input units; edge taps renormalised
        assertArrayEquals(
                new int[] {0, 25, 75, 100},
                new int[] {wide.get(0, 0, 0), wide.get(1, 0, 0), wide.get(2, 0, 0), wide.get(3, 0, 0)});
    }

    @ParameterizedTest
    @CsvSource({"16,11", "60,50", "37,9", "5,23", "120,90"})
    void matchesPillowBitForBit(int width, int height) throws IOException {
        try (ImageDecoder decoder = new ImageDecoder()) {
            RgbImage source = decoder.decode(Fixtures.data("pil/resize_source.png"));
            byte[] pillow = Files.readAllBytes(Fixtures.data("pil/resize_" + width + "x" + height + ".rgb"));
            assertArrayEquals(pillow, PilResize.resize(source, width, height).pixels());
        }
    }

    @ParameterizedTest
    @CsvSource({"500,375,600,600", "375,500,448,448", "333,251,32,32", "64,48,448,448", "1000,700,448,448", "7,5,3,2"})
    void agreesWithDoublePrecisionReferenceWithinOneLevel(int inWidth, int inHeight, int outWidth, int outHeight) {
        int max = maxDifferenceFromReference(
                randomImage(inWidth, inHeight, inWidth * 31L + inHeight), outWidth, outHeight);
        System.out.printf(
                "resize %dx%d -> %dx%d: max abs difference from double reference = %d%n",
                inWidth, inHeight, outWidth, outHeight, max);
        // Pillow quantises weights to 22 bits, the reference does not: rounding can move by one level.
        assertTrue(max <= 1, "max |fixed-point - double| = " + max);
    }

    @Test
    void regionEqualsCropOfFullResize() {
        RgbImage src = randomImage(50, 37, 5);
        RgbImage full = PilResize.resize(src, 60, 60);
        RgbImage region = PilResize.resizeRegion(src, 60, 60, 7, 11, 44, 40);
        for (int y = 0; y < 40; y++) {
            for (int x = 0; x < 44; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(full.get(x + 7, y + 11, c), region.get(x, y, c));
                }
            }
        }
        RgbImage sameSize = PilResize.resizeRegion(src, 50, 37, 3, 2, 10, 10);
        assertEquals(src.get(3, 2, 1), sameSize.get(0, 0, 1));
        RgbImage widthOnly = PilResize.resizeRegion(src, 25, 37, 1, 4, 20, 30);
        assertEquals(PilResize.resize(src, 25, 37).get(1, 4, 2), widthOnly.get(0, 0, 2));
        RgbImage heightOnly = PilResize.resizeRegion(src, 50, 20, 5, 3, 40, 15);
        assertEquals(PilResize.resize(src, 50, 20).get(44, 17, 0), heightOnly.get(39, 14, 0));
    }
}
