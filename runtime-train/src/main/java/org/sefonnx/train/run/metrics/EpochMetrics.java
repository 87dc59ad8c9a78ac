package org.sefonnx.train.run.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.weights.Json;
import org.sefonnx.train.run.options.Protocol;

/**
 * What an epoch did: one row of metrics.jsonl and metrics.csv, and of the run state. {@code bestTop1}/{@code bestEpoch}
 * are by the split {@code selectedOn} names (test, or val with a validation split, whose accuracy is then in
 * {@code valTop1}/{@code valMeanClassAccuracy}; NaN without). Rows are made by a {@link #builder}; {@link #columns}, one
 * table, writes them as JSON and CSV, reads them back and names the series {@link Chart}s draw.
 */
public record EpochMetrics(
        int epoch,
        double learningRate,
        LossTerms train,
        LossTerms test,
        double testTop1,
        double testMeanClassAccuracy,
        double trainImagesPerSecond,
        double epochSeconds,
        double bestTop1,
        int bestEpoch,
        long globalStep,
        double valTop1,
        double valMeanClassAccuracy,
        Protocol.SelectOn selectedOn,
        GroupMetrics.Summary groups) {

    /** Mean loss terms over an epoch's samples. */
    public record LossTerms(double loss, double crossEntropy, double entropy, double distillation, double grouping) {
        /** The terms in {@link TensorNames#LOSS_TERMS} order. */
        public static LossTerms of(double[] terms) {
            return new LossTerms(terms[0], terms[1], terms[2], terms[3], terms[4]);
        }

        /** The term named {@code TensorNames.LOSS_TERMS.get(index)}. */
        public double get(int index) {
            return switch (index) {
                case 0 -> loss;
                case 1 -> crossEntropy;
                case 2 -> entropy;
                case 3 -> distillation;
                case 4 -> grouping;
                default -> throw new IndexOutOfBoundsException("loss term " + index);
            };
        }
    }

    /** A builder for epoch {@code epoch} (0-based); the validation accuracy is NaN, the selection on test, no group metrics, until set. */
    public static Builder builder(int epoch) {
        return new Builder(epoch);
    }

    /** Builds an {@link EpochMetrics}; the columns' readers fill it field by field. */
    public static final class Builder {
        private int epoch;
        private double learningRate;
        private final double[] train = new double[TensorNames.LOSS_TERMS.size()];
        private final double[] test = new double[TensorNames.LOSS_TERMS.size()];
        private double testTop1, testMeanClassAccuracy, trainImagesPerSecond, epochSeconds, bestTop1;
        private int bestEpoch;
        private long globalStep;
        private double valTop1 = Double.NaN, valMeanClassAccuracy = Double.NaN;
        private Protocol.SelectOn selectedOn = Protocol.SelectOn.TEST;
        private double intraSquaredCosine = Double.NaN, interSquaredCosine = Double.NaN;
        private double[] groupTop1 = new double[0];

        private Builder(int epoch) {
            this.epoch = epoch;
        }

        public Builder learningRate(double v) {
            learningRate = v;
            return this;
        }

        /** The mean loss terms of the training pass and of the test pass. */
        public Builder losses(LossTerms trainTerms, LossTerms testTerms) {
            for (int i = 0; i < train.length; i++) {
                train[i] = trainTerms.get(i);
                test[i] = testTerms.get(i);
            }
            return this;
        }

        public Builder testAccuracy(double top1, double meanClassAccuracy) {
            testTop1 = top1;
            testMeanClassAccuracy = meanClassAccuracy;
            return this;
        }

        public Builder validationAccuracy(double top1, double meanClassAccuracy) {
            valTop1 = top1;
            valMeanClassAccuracy = meanClassAccuracy;
            return this;
        }

        /** Training images per second and the epoch's wall time, training and evaluation passes together. */
        public Builder speed(double imagesPerSecond, double seconds) {
            trainImagesPerSecond = imagesPerSecond;
            epochSeconds = seconds;
            return this;
        }

        /** The best epoch so far (0-based) and its top-1 on the {@code on} split. */
        public Builder best(double top1, int atEpoch, Protocol.SelectOn on) {
            bestTop1 = top1;
            bestEpoch = atEpoch;
            selectedOn = on;
            return this;
        }

        public Builder globalStep(long v) {
            globalStep = v;
            return this;
        }

        public Builder groups(GroupMetrics.Summary s) {
            intraSquaredCosine = s.intraSquaredCosine();
            interSquaredCosine = s.interSquaredCosine();
            groupTop1 = s.groupTop1();
            return this;
        }

        public EpochMetrics build() {
            GroupMetrics.Summary groups = groupTop1.length == 0
                    ? GroupMetrics.Summary.NONE
                    : new GroupMetrics.Summary(intraSquaredCosine, interSquaredCosine, groupTop1);
            return new EpochMetrics(
                    epoch,
                    learningRate,
                    LossTerms.of(train),
                    LossTerms.of(test),
                    testTop1,
                    testMeanClassAccuracy,
                    trainImagesPerSecond,
                    epochSeconds,
                    bestTop1,
                    bestEpoch,
                    globalStep,
                    valTop1,
                    valMeanClassAccuracy,
                    selectedOn,
                    groups);
        }
    }

    /** The plots of a run's metrics, each drawn from the columns that name it, in column order. */
    public enum Chart {
        LOSS("loss.png", "SEF loss terms per epoch", "mean over the epoch", 560),
        ACCURACY("accuracy.png", "Test accuracy per epoch", "accuracy", 560),
        GROUPS("groups.png", "SEF groups per epoch (test split)", "squared cosine / loss / top-1", 560),
        LEARNING_RATE("learning-rate.png", "Learning rate and throughput", "learning rate", 400);

        /** File name under the run's plots/. */
        public final String file;

        public final String title;
        public final String yAxis;
        public final int heightPx;

        Chart(String file, String title, String yAxis, int heightPx) {
            this.file = file;
            this.title = title;
            this.yAxis = yAxis;
            this.heightPx = heightPx;
        }
    }

    /** How a column's value is written: a number with six significant digits (NaN as null), an integer, a word. */
    public enum Kind {
        NUMBER,
        INTEGER,
        TEXT
    }

    /**
     * One column: its key, how its value is read off a row and set on a {@link Builder}, whether a row must have it
     * (the columns added since the first rows are optional: an older row reads as its run behaved), and the chart and
     * series name it is drawn under (null: not drawn).
     */
    public record Column(
            String key,
            Kind kind,
            boolean required,
            Function<EpochMetrics, Object> value,
            BiConsumer<Builder, Object> reader,
            Chart chart,
            String series) {
        /** The value as a double, for a plot. */
        public double number(EpochMetrics row) {
            return ((Number) value.apply(row)).doubleValue();
        }
    }

    /** Plot names of the loss terms, in {@link TensorNames#LOSS_TERMS} order. */
    private static final List<String> TERM_SERIES =
            List.of("loss", "CE", "entropy E", "distillation S", "grouping L_group");

    /**
     * The table of a row with {@code groups} group heads (0: no group metrics, as rows before they were measured): the
     * keys in file order.
     */
    public static List<Column> columns(int groups) {
        List<Column> c = new ArrayList<>();
        c.add(integer("epoch", EpochMetrics::epoch, (b, v) -> b.epoch = v.intValue()));
        c.add(number(
                "lr", EpochMetrics::learningRate, (b, v) -> b.learningRate = v, Chart.LEARNING_RATE, "learning rate"));
        for (int i = 0; i < TensorNames.LOSS_TERMS.size(); i++) {
            int term = i;
            c.add(number(
                    "train_" + TensorNames.LOSS_TERMS.get(term),
                    r -> r.train().get(term),
                    (b, v) -> b.train[term] = v,
                    Chart.LOSS,
                    "train " + TERM_SERIES.get(term)));
        }
        for (int i = 0; i < TensorNames.LOSS_TERMS.size(); i++) {
            int term = i;
            String name = TensorNames.LOSS_TERMS.get(term);
            Chart chart = name.equals(TensorNames.CROSS_ENTROPY)
                    ? Chart.LOSS
                    : name.equals(TensorNames.GROUPING) ? Chart.GROUPS : null;
            c.add(number(
                    "test_" + name,
                    r -> r.test().get(term),
                    (b, v) -> b.test[term] = v,
                    chart,
                    "test " + TERM_SERIES.get(term)));
        }
        c.add(number("test_top1", EpochMetrics::testTop1, (b, v) -> b.testTop1 = v, Chart.ACCURACY, "top-1"));
        c.add(number(
                "test_mean_class_accuracy",
                EpochMetrics::testMeanClassAccuracy,
                (b, v) -> b.testMeanClassAccuracy = v,
                Chart.ACCURACY,
                "mean per-class"));
        c.add(number(
                "train_images_per_second",
                EpochMetrics::trainImagesPerSecond,
                (b, v) -> b.trainImagesPerSecond = v,
                null,
                null));
        c.add(number("epoch_seconds", EpochMetrics::epochSeconds, (b, v) -> b.epochSeconds = v, null, null));
        c.add(number("best_top1", EpochMetrics::bestTop1, (b, v) -> b.bestTop1 = v, null, null));
        c.add(integer("best_epoch", EpochMetrics::bestEpoch, (b, v) -> b.bestEpoch = v.intValue()));
        c.add(integer("global_step", EpochMetrics::globalStep, (b, v) -> b.globalStep = v.longValue()));
        // since the validation split
        c.add(optional(number("val_top1", EpochMetrics::valTop1, (b, v) -> b.valTop1 = v, null, null)));
        c.add(optional(number(
                "val_mean_class_accuracy",
                EpochMetrics::valMeanClassAccuracy,
                (b, v) -> b.valMeanClassAccuracy = v,
                null,
                null)));
        c.add(new Column(
                "selected_on",
                Kind.TEXT,
                false,
                r -> r.selectedOn().name().toLowerCase(Locale.ROOT),
                (b, v) -> b.selectedOn = Protocol.SelectOn.valueOf(((String) v).toUpperCase(Locale.ROOT)),
                null,
                null));
        // since the group metrics: only in rows that have them
        if (groups > 0) {
            c.add(number(
                    "test_intra_sq_cos",
                    r -> r.groups().intraSquaredCosine(),
                    (b, v) -> b.intraSquaredCosine = v,
                    Chart.GROUPS,
                    "intra-group squared cosine"));
            c.add(optional(number(
                    "test_inter_sq_cos",
                    r -> r.groups().interSquaredCosine(),
                    (b, v) -> b.interSquaredCosine = v,
                    Chart.GROUPS,
                    "inter-group squared cosine")));
            for (int g = 0; g < groups; g++) {
                int group = g;
                c.add(number(
                        groupTop1Key(g),
                        r -> group < r.groups().groupTop1().length ? r.groups().groupTop1()[group] : Double.NaN,
                        (b, v) -> b.groupTop1[group] = v,
                        Chart.GROUPS,
                        "group " + g + " head top-1"));
            }
        }
        return c;
    }

    /** This row's columns. */
    public List<Column> columns() {
        return columns(groups.groupTop1().length);
    }

    private static String groupTop1Key(int group) {
        return "test_group" + group + "_top1";
    }

    private static Column number(
            String key,
            Function<EpochMetrics, Double> value,
            BiConsumer<Builder, Double> set,
            Chart chart,
            String series) {
        return new Column(key, Kind.NUMBER, true, value::apply, (b, v) -> set.accept(b, (Double) v), chart, series);
    }

    private static Column integer(String key, Function<EpochMetrics, Number> value, BiConsumer<Builder, Number> set) {
        return new Column(key, Kind.INTEGER, true, value::apply, (b, v) -> set.accept(b, (Number) v), null, null);
    }

    private static Column optional(Column c) {
        return new Column(c.key(), c.kind(), false, c.value(), c.reader(), c.chart(), c.series());
    }

    /** The row as one JSON object, the columns in order; a non-finite number is null. */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{");
        for (Column c : columns()) {
            if (sb.length() > 1) sb.append(", ");
            String v = format(c, this);
            sb.append('"').append(c.key()).append("\": ").append(c.kind() == Kind.TEXT ? '"' + v + '"' : v);
        }
        return sb.append('}').toString();
    }

    public String csvHeader() {
        return String.join(",", columns().stream().map(Column::key).toList());
    }

    public String toCsv() {
        return String.join(",", columns().stream().map(c -> format(c, this)).toList());
    }

    private static String format(Column c, EpochMetrics row) {
        Object v = c.value().apply(row);
        if (c.kind() == Kind.NUMBER) {
            double d = ((Number) v).doubleValue();
            return Double.isFinite(d) ? String.format(Locale.ROOT, "%.6g", d) : "null";
        }
        return String.valueOf(v);
    }

    /**
     * Parses one {@link #toJson()} line (metrics.jsonl, the run state) with the project's JSON parser; {@code null}
     * reads as NaN. Rows written before a column existed read as those runs behaved (selected on test, no validation
     * or group metrics).
     */
    public static EpochMetrics parseJson(String line) {
        Object parsed;
        try {
            parsed = Json.parse(line, "metrics row");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("metrics row is not JSON (" + e.getMessage() + "): '" + line + "'", e);
        }
        if (!(parsed instanceof Map<?, ?> row))
            throw new IllegalArgumentException("metrics row is not a JSON object: '" + line + "'");
        int groups = 0;
        if (row.containsKey("test_intra_sq_cos")) while (row.containsKey(groupTop1Key(groups))) groups++;
        Builder b = builder(0);
        b.groupTop1 = new double[groups];
        List<Column> table = columns(groups);
        for (Map.Entry<?, ?> e : row.entrySet()) {
            Object v = e.getValue();
            boolean text = table.stream().anyMatch(c -> c.key().equals(e.getKey()) && c.kind() == Kind.TEXT);
            if (v != null && !(v instanceof Number) && !(text && v instanceof String))
                throw new IllegalArgumentException(
                        "metrics row field " + e.getKey() + " is not a number: '" + line + "'");
        }
        for (Column c : table) {
            if (!row.containsKey(c.key())) {
                if (c.required())
                    throw new IllegalArgumentException("metrics row lacks " + c.key() + ": '" + line + "'");
                continue;
            }
            Object v = row.get(c.key());
            if (v == null && c.kind() == Kind.TEXT) continue;
            c.reader().accept(b, v == null ? Double.NaN : c.kind() == Kind.NUMBER ? ((Number) v).doubleValue() : v);
        }
        return b.build();
    }
}
