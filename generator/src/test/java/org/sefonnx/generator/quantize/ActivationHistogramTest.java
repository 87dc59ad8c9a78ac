package org.sefonnx.generator.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ActivationHistogramTest {
    /** Normal values in batches whose spread grows (so the bins widen several times), a few far outliers at the end. */
    private static float[][] batches() {
        SplittableRandom random = new SplittableRandom(11);
        float[][] batches = new float[8][];
        for (int b = 0; b < batches.length; b++) {
            batches[b] = new float[20_000];
            for (int i = 0; i < batches[b].length; i++) batches[b][i] = (float) (random.nextGaussian() * (1 + b));
        }
        batches[7][0] = 500;
        batches[7][1] = -200;
        return batches;
    }

    @Test
    void minMaxIsExactAndEveryValueIsCountedOnceWhileTheBinsWiden() {
        ActivationHistogram h = new ActivationHistogram();
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        long n = 0;
        for (float[] b : batches()) {
            h.add(b, 0, b.length);
            for (float v : b) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            n += b.length;
        }
        float[] range = h.range(new CalibrationMethod.MinMax());
        assertEquals(min, range[0]);
        assertEquals(max, range[1]);
        assertEquals(n, h.count());
        assertEquals(n, Arrays.stream(h.occupiedCounts()).sum());
        assertTrue(h.width() * ActivationHistogram.BINS >= max - min, "the bins span the range");
    }

    @Test
    void percentileCutsTheTailsOutwardWithinOneBinOfTheSortedValues() {
        ActivationHistogram h = new ActivationHistogram();
        float[][] batches = batches();
        int total = 0;
        for (float[] b : batches) {
            h.add(b, 0, b.length);
            total += b.length;
        }
        float[] all = new float[total];
        int at = 0;
        for (float[] b : batches) {
            System.arraycopy(b, 0, all, at, b.length);
            at += b.length;
        }
        Arrays.sort(all);
        double percent = 99.99, tail = (1 - percent / 100) / 2 * total;
        float exactLow = all[(int) Math.floor(tail)], exactHigh = all[total - 1 - (int) Math.floor(tail)];
        float[] range = h.range(new CalibrationMethod.Percentile(percent));
        assertTrue(range[0] <= exactLow && range[0] >= exactLow - h.width(), range[0] + " vs " + exactLow);
        assertTrue(range[1] >= exactHigh && range[1] <= exactHigh + h.width(), range[1] + " vs " + exactHigh);
        assertTrue(range[1] < 100, "the outlier 500 is cut off");
    }

    @Test
    void aPostReluTensorKeepsZeroAsItsLowerBound() {
        ActivationHistogram h = new ActivationHistogram();
        float[] v = new float[10_000];
        for (int i = 0; i < v.length; i++) v[i] = i % 3 == 0 ? 0 : i / 1000f;
        h.add(v, 0, v.length);
        assertEquals(0f, h.range(new CalibrationMethod.Percentile(99.9))[0]);
    }

    @Test
    void aNonFiniteValueIsRefused() {
        ActivationHistogram h = new ActivationHistogram();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> h.add(new float[] {1, Float.NaN}, 0, 2));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
    }

    @Test
    void methodsParseAndPrintAlike() {
        assertEquals(
                CalibrationMethod.DEFAULTS, CalibrationMethod.parseList("minmax, percentile:99.999,percentile:99.99"));
        assertEquals("percentile:99.99", new CalibrationMethod.Percentile(99.99).toString());
        assertThrows(IllegalArgumentException.class, () -> CalibrationMethod.parse("entropy"));
        assertThrows(IllegalArgumentException.class, () -> CalibrationMethod.parseList("minmax,minmax"));
    }
}
