package org.sefonnx.train.run.report;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.metrics.GroupMetrics;

/** Each epoch's group metrics on the test split, one line: the squared cosines within and across groups, each group head's top-1. */
public final class GroupMetricsLog implements TrainingListener {
    private final PrintStream log;

    public GroupMetricsLog(PrintStream log) {
        this.log = log;
    }

    @Override
    public void epochCommitted(EpochEnd end) {
        GroupMetrics.Summary groups = end.test().groups();
        log.printf(
                Locale.ROOT,
                "epoch %d/%d groups: test squared cosine intra %.4f inter %.4f (gap %.4f), group-head top-1 %s%n",
                end.epoch() + 1,
                end.epochs(),
                groups.intraSquaredCosine(),
                groups.interSquaredCosine(),
                groups.gap(),
                percentages(groups.groupTop1()));
    }

    private static String percentages(double[] fractions) {
        List<String> parts = new ArrayList<>();
        for (double f : fractions) parts.add(String.format(Locale.ROOT, "%.2f%%", 100 * f));
        return String.join(" / ", parts);
    }
}
