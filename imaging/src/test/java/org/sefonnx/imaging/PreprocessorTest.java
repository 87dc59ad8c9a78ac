package org.sefonnx.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PreprocessorTest {

    @Test
    void centreCropOfTheResizeIsNormalisedIntoChwPlanes() {
        RgbImage src = PilResizeTest.randomImage(50, 37, 11);
        PreprocessingSpec spec = PreprocessingSpec.resizeAndCenterCrop(60, 45, 40, 30);
        float[] chw = new Preprocessor(spec).apply(src);
        RgbImage resized = PilResize.resize(src, 60, 45);
        // crop window: left round((60 - 40) / 2) = 10, top round((45 - 30) / 2) = round(7.5) = 8 (half-even)
        assertEquals(8, spec.cropTop());
        Normalization n = Normalization.IMAGENET;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 30; y++) {
                for (int x = 0; x < 40; x++) {
                    assertEquals(n.apply(c, resized.get(10 + x, 8 + y, c)), chw[(c * 30 + y) * 40 + x], 0f);
                }
            }
        }
    }

    @Test
    void customStatisticsAndBufferOffsetsAreHonoured() {
        RgbImage grey = new RgbImage(1, 1, new byte[] {(byte) 255, 0, (byte) 128});
        PreprocessingSpec spec =
                new PreprocessingSpec(1, 1, 1, 1, new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.25f, 1f}, "", 0);
        FloatBuffer out = FloatBuffer.allocate(5);
        new Preprocessor(spec).apply(grey, out, 2);
        assertArrayEquals(new float[] {0, 0, 1f, -2f, 128f / 255f - 0.5f}, out.array(), 0f);
    }

    @Test
    void sameInputGivesSameFloatsFromManyThreads() throws InterruptedException {
        Preprocessor preprocessor = new Preprocessor(PreprocessingSpec.resizeAndCenterCrop(64, 64, 56, 56));
        RgbImage src = PilResizeTest.randomImage(90, 70, new SplittableRandom(3).nextLong());
        float[] expected = preprocessor.apply(src);
        Thread[] threads = new Thread[4];
        boolean[] ok = new boolean[threads.length];
        for (int t = 0; t < threads.length; t++) {
            int id = t;
            threads[t] = new Thread(() -> {
                boolean same = true;
                for (int i = 0; i < 20; i++) same &= java.util.Arrays.equals(expected, preprocessor.apply(src));
                ok[id] = same;
            });
            threads[t].start();
        }
        for (Thread thread : threads) thread.join();
        assertArrayEquals(new boolean[] {true, true, true, true}, ok);
    }
}
