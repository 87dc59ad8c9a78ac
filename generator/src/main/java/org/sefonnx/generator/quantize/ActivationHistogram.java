package org.sefonnx.generator.quantize;

import java.util.Arrays;

/**
 * What calibration keeps of one tensor over every image it sees: the exact minimum and maximum and a histogram of
 * {@value #BINS} bins aligned on zero (bin i covers [i·w, (i+1)·w)). When a batch reaches beyond the bins, the width
 * doubles and neighbouring bins merge until everything fits: every value is counted once, in a bin that holds it, and
 * no count is ever re-estimated (the width follows the first batch's spread, doubled as often as later batches need).
 * The histogram serves the percentile ranges; a bin is at most 1/1023 of the tensor's full range wide.
 */
public final class ActivationHistogram {
    static final int BINS = 2048;

    private double width;
    /** The bin index of counts[0]. */
    private long first;

    private final long[] counts = new long[BINS];
    private long total;
    private float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;

    /** Adds {@code values[from, to)}; a non-finite value is refused (a range cannot be calibrated on it). */
    public void add(float[] values, int from, int to) {
        if (from >= to) return;
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            float v = values[i];
            if (!Float.isFinite(v)) throw new IllegalArgumentException("non-finite value " + v + " at " + (i - from));
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        cover(Math.min(lo, min), Math.max(hi, max));
        min = Math.min(min, lo);
        max = Math.max(max, hi);
        double inverse = 1 / width;
        for (int i = from; i < to; i++) counts[(int) (bin(values[i], inverse) - first)]++;
        total += to - from;
    }

    /**
     * Makes the bins reach from {@code lo} to {@code hi}, the extremes of everything added so far and of the batch to
     * come: doubles the width (merging bins pairwise; a value's bin floor(v / 2w) is floor(floor(v / w) / 2)) until
     * they span fewer than {@value #BINS} bins, then moves the window onto them.
     */
    private void cover(float lo, float hi) {
        if (total == 0) {
            // the first values: 0 inside the range (every range this package quantizes holds 0), room for rounding
            double span = Math.max(hi, 0) - Math.min(lo, 0);
            width = span > 0 ? span / (BINS - 2) : Float.MIN_NORMAL;
            first = bin(Math.min(lo, 0), 1 / width);
            return;
        }
        while (true) {
            double inverse = 1 / width;
            long a = bin(lo, inverse), b = bin(hi, inverse);
            if (b - a < BINS) {
                if (a < first || b >= first + BINS) {
                    // every occupied bin lies in [a, b], so a window starting at a holds them all
                    long[] moved = new long[BINS];
                    for (int j = 0; j < BINS; j++) if (counts[j] != 0) moved[(int) (first + j - a)] = counts[j];
                    System.arraycopy(moved, 0, counts, 0, BINS);
                    first = a;
                }
                return;
            }
            long[] merged = new long[BINS];
            long newFirst = Math.floorDiv(first, 2);
            for (int j = 0; j < BINS; j++) {
                if (counts[j] != 0) merged[(int) (Math.floorDiv(first + j, 2) - newFirst)] += counts[j];
            }
            System.arraycopy(merged, 0, counts, 0, BINS);
            first = newFirst;
            width *= 2;
        }
    }

    /**
     * The bin of {@code v}: one expression wherever a bin is computed, so a value at a bin edge lands in the same bin
     * when the window is placed and when it is counted (the width is a power-of-two multiple of the first one, so
     * halving the inverse is exact).
     */
    private static long bin(double v, double inverse) {
        return (long) Math.floor(v * inverse);
    }

    public long count() {
        return total;
    }

    public float min() {
        return min;
    }

    public float max() {
        return max;
    }

    /**
     * The range a method gives: MinMax the exact extremes; a percentile p cuts (1 − p)/2 of the values off each end,
     * at bin edges taken outward (the lower edge of the bin holding the lower cut, the upper edge of the bin holding
     * the upper one), never beyond the extremes.
     */
    public float[] range(CalibrationMethod method) {
        if (total == 0) throw new IllegalStateException("no values were calibrated");
        if (method instanceof CalibrationMethod.Percentile p) {
            double tail = (1 - p.fraction()) / 2 * total;
            float lo = Math.max(min, (float) (edgeAtCount(tail, false) * width));
            float hi = Math.min(max, (float) (edgeAtCount(total - tail, true) * width));
            return new float[] {Math.min(lo, hi), Math.max(lo, hi)};
        }
        return new float[] {min, max};
    }

    /** The bin index (lower edge, or upper edge with {@code upper}) of the bin in which the cumulative count reaches {@code c}. */
    private long edgeAtCount(double c, boolean upper) {
        long cumulative = 0;
        for (int j = 0; j < BINS; j++) {
            cumulative += counts[j];
            if (cumulative >= c && counts[j] > 0) return first + j + (upper ? 1 : 0);
        }
        int last = BINS - 1;
        while (last > 0 && counts[last] == 0) last--;
        return first + last + (upper ? 1 : 0);
    }

    /** The bin counts from the lowest occupied bin to the highest, for tests. */
    long[] occupiedCounts() {
        int a = 0, b = BINS - 1;
        while (a < b && counts[a] == 0) a++;
        while (b > a && counts[b] == 0) b--;
        return Arrays.copyOfRange(counts, a, b + 1);
    }

    double width() {
        return width;
    }
}
