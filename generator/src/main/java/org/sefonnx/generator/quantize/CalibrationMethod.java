package org.sefonnx.generator.quantize;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How an activation's range is read from what calibration saw: {@link MinMax}, the extremes, or {@link Percentile},
 * the extremes of the central fraction p of the values (outliers clipped, finer steps for the rest). Written as
 * {@code minmax} or {@code percentile:99.99} (p in percent).
 */
public sealed interface CalibrationMethod permits CalibrationMethod.MinMax, CalibrationMethod.Percentile {
    /** The smallest and largest value seen. */
    record MinMax() implements CalibrationMethod {
        @Override
        public String toString() {
            return "minmax";
        }
    }

    /** The central {@code percent} % of the values, cut evenly from both ends. */
    record Percentile(double percent) implements CalibrationMethod {
        public Percentile {
            if (!(percent > 50 && percent < 100))
                throw new IllegalArgumentException("a calibration percentile must be in (50, 100), got " + percent);
        }

        public double fraction() {
            return percent / 100;
        }

        @Override
        public String toString() {
            return "percentile:"
                    + java.math.BigDecimal.valueOf(percent).stripTrailingZeros().toPlainString();
        }
    }

    /** The methods tried when none is given: the extremes, and two percentiles that clip long tails. */
    List<CalibrationMethod> DEFAULTS = List.of(new MinMax(), new Percentile(99.999), new Percentile(99.99));

    /** Parses one method as {@link #toString} writes it. */
    static CalibrationMethod parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("minmax")) return new MinMax();
        if (t.startsWith("percentile:")) {
            try {
                return new Percentile(Double.parseDouble(t.substring("percentile:".length())));
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException("calibration method '" + text
                + "' is not minmax or percentile:P (P in percent, e.g. percentile:99.99)");
    }

    /** Parses a comma-separated list of methods; none twice. */
    static List<CalibrationMethod> parseList(String text) {
        List<CalibrationMethod> methods = new ArrayList<>();
        for (String part : text.split(",")) {
            CalibrationMethod m = parse(part);
            if (methods.contains(m)) throw new IllegalArgumentException("calibration method " + m + " is listed twice");
            methods.add(m);
        }
        return List.copyOf(methods);
    }
}
