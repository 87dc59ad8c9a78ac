package org.sefonnx.train.run;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.sefonnx.train.data.Layout;

/**
 * The paper's published top-1 accuracies (Luo et al., IEEE SPL 2020, as recorded in docs/sef-method.md, "Published results"): the baseline
 * and the full SEF setting (λ=1, γ=0.05, φ=1) per data set for ResNet-18 and ResNet-50. The intermediate Table III
 * settings are not in that record, so they read "not given" rather than a number nobody checked.
 */
public final class PaperResults {
    private PaperResults() {}

    /** Key: layout, depth, ablation row name; value: top-1 in percent. */
    private static final Map<String, Double> TOP1_PERCENT = Map.ofEntries(
            Map.entry("cub-18-baseline", 82.3),
            Map.entry("cars-18-baseline", 90.4),
            Map.entry("dogs-18-baseline", 81.5),
            Map.entry("aircraft-18-baseline", 88.5),
            Map.entry("cub-18-sef", 84.8),
            Map.entry("cars-18-sef", 91.8),
            Map.entry("dogs-18-sef", 83.1),
            Map.entry("aircraft-18-sef", 89.3),
            Map.entry("cub-50-baseline", 84.5),
            Map.entry("cars-50-baseline", 92.9),
            Map.entry("dogs-50-baseline", 88.1),
            Map.entry("aircraft-50-baseline", 90.3),
            Map.entry("cub-50-sef", 87.3),
            Map.entry("cars-50-sef", 94.0),
            Map.entry("dogs-50-sef", 88.8),
            Map.entry("aircraft-50-sef", 92.1));

    /** The paper's top-1 (percent) of {@code row} on {@code layout} with ResNet-{@code depth}; empty where it is not given. */
    public static Optional<Double> top1Percent(Layout layout, int depth, String row) {
        return Optional.ofNullable(TOP1_PERCENT.get(layout.name().toLowerCase(Locale.ROOT) + "-" + depth + "-" + row));
    }

    /** The table cell: the number, "not given", or why there is none for a data set the paper did not use. */
    public static String cell(Layout layout, int depth, String row) {
        if (org.sefonnx.train.data.SplitCounts.official(layout).isEmpty()) return "not a paper data set";
        return top1Percent(layout, depth, row)
                .map(v -> String.format(Locale.ROOT, "%.1f", v))
                .orElse("not given");
    }
}
