package org.sefonnx.bench.gpu;

import java.util.List;
import java.util.Locale;

/**
 * Judges the fp16 demo runs against the fp32 runs' own spread, not against a fixed limit: two fp32 runs of the same
 * recipe on the GPU already differ (cuDNN's non-deterministic backward algorithms, atomics in the pooling backward),
 * so a one-run fp16-vs-fp32 gap says nothing until it is compared with that noise. PASS when the fp16 mean lies in
 * the fp32 runs' range widened on both sides by the larger of the two spreads, and never by less than
 * {@link #MIN_WIDENING_POINTS} (two identical fp32 runs would otherwise leave no room for fp16's own rounding).
 */
final class DemoVerdict {
    /** The least widening, in top-1 points: half a point, about 5 images of the demo's 1,000-image test split. */
    static final double MIN_WIDENING_POINTS = 0.5;

    private DemoVerdict() {}

    /** {@code fp32} and {@code fp16}: test top-1 fractions of the runs that finished. */
    static String of(List<Double> fp32, List<Double> fp16) {
        if (fp32.size() < 2) return "NO VERDICT: fp32 finished " + fp32.size() + " of 2 runs, so its spread is unknown";
        double lo = 100 * Math.min(fp32.get(0), fp32.get(1)), hi = 100 * Math.max(fp32.get(0), fp32.get(1));
        String fp32Text = String.format(
                Locale.ROOT,
                "fp32 %.2f%% and %.2f%% (spread %.2f points)",
                100 * fp32.get(0),
                100 * fp32.get(1),
                hi - lo);
        if (fp16.isEmpty()) return "NO VERDICT: " + fp32Text + "; no fp16 run finished";
        double mean = 0, min16 = Double.MAX_VALUE, max16 = -Double.MAX_VALUE;
        for (double v : fp16) {
            mean += 100 * v / fp16.size();
            min16 = Math.min(min16, 100 * v);
            max16 = Math.max(max16, 100 * v);
        }
        double widening = Math.max(Math.max(hi - lo, max16 - min16), MIN_WIDENING_POINTS);
        boolean pass = mean >= lo - widening && mean <= hi + widening;
        return String.format(
                Locale.ROOT,
                "%s: fp16 mean %.2f%% over %d run(s) (spread %.2f); allowed %.2f%% to %.2f%% (fp32 range +/- %.2f points)%s; %s",
                pass ? "PASS" : "FAIL",
                mean,
                fp16.size(),
                max16 - min16,
                lo - widening,
                hi + widening,
                widening,
                fp16.size() < 2 ? ", one fp16 run only" : "",
                fp32Text);
    }
}
