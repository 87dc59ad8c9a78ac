package org.sefonnx.train.run;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.sefonnx.generator.weights.Json;

/**
 * One row of metrics.jsonl / metrics.csv: what an epoch did. {@code bestTop1}/{@code bestEpoch} are by the split
 * {@code selectedOn} names (test, or val with a validation split, whose top-1 is then in {@code valTop1}; NaN without).
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

    /** A row of a run without a validation split, best epoch by test top-1. */
    public EpochMetrics(
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
            long globalStep) {
        this(
                epoch,
                learningRate,
                train,
                test,
                testTop1,
                testMeanClassAccuracy,
                trainImagesPerSecond,
                epochSeconds,
                bestTop1,
                bestEpoch,
                globalStep,
                Double.NaN,
                Double.NaN,
                Protocol.SelectOn.TEST);
    }

    /** A row without group metrics (rows of runs made before they were measured read back this way). */
    public EpochMetrics(
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
            Protocol.SelectOn selectedOn) {
        this(
                epoch,
                learningRate,
                train,
                test,
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
                GroupMetrics.Summary.NONE);
    }

    /** Mean loss terms over an epoch's samples. */
    public record LossTerms(double loss, double crossEntropy, double entropy, double distillation, double grouping) {}

    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("lr", learningRate);
        m.put("train_loss", train.loss());
        m.put("train_cross_entropy", train.crossEntropy());
        m.put("train_entropy", train.entropy());
        m.put("train_distillation", train.distillation());
        m.put("train_grouping", train.grouping());
        m.put("test_loss", test.loss());
        m.put("test_cross_entropy", test.crossEntropy());
        m.put("test_entropy", test.entropy());
        m.put("test_distillation", test.distillation());
        m.put("test_grouping", test.grouping());
        m.put("test_top1", testTop1);
        m.put("test_mean_class_accuracy", testMeanClassAccuracy);
        m.put("train_images_per_second", trainImagesPerSecond);
        m.put("epoch_seconds", epochSeconds);
        m.put("best_top1", bestTop1);
        m.put("best_epoch", bestEpoch);
        m.put("global_step", globalStep);
        m.put("val_top1", valTop1);
        m.put("val_mean_class_accuracy", valMeanClassAccuracy);
        m.put("selected_on", selectedOn.name().toLowerCase(java.util.Locale.ROOT));
        groups.putInto(m);
        return m;
    }

    public String toJson() {
        StringBuilder sb = new StringBuilder("{");
        for (var e : asMap().entrySet()) {
            if (sb.length() > 1) sb.append(", ");
            sb.append('"')
                    .append(e.getKey())
                    .append("\": ")
                    .append(e.getValue() instanceof String text ? '"' + text + '"' : format(e.getValue()));
        }
        return sb.append('}').toString();
    }

    public String csvHeader() {
        return String.join(",", asMap().keySet());
    }

    public String toCsv() {
        StringBuilder sb = new StringBuilder();
        for (Object v : asMap().values()) {
            if (sb.length() > 0) sb.append(',');
            sb.append(format(v));
        }
        return sb.toString();
    }

    /**
     * Parses one {@link #toJson()} line (metrics.jsonl, the run state) with the project's JSON parser; {@code null}
     * reads as NaN. Rows written before a key existed read as those runs behaved (selected on test, no group metrics).
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
        Map<String, Double> v = new HashMap<>();
        Protocol.SelectOn selectedOn = Protocol.SelectOn.TEST; // rows written before the key existed
        for (Map.Entry<?, ?> e : row.entrySet()) {
            String key = (String) e.getKey();
            if (key.equals("selected_on") && e.getValue() instanceof String split) {
                selectedOn = Protocol.SelectOn.valueOf(split.toUpperCase(Locale.ROOT));
            } else if (e.getValue() == null) {
                v.put(key, Double.NaN);
            } else if (e.getValue() instanceof Number n) {
                v.put(key, n.doubleValue());
            } else {
                throw new IllegalArgumentException("metrics row field " + key + " is not a number: '" + line + "'");
            }
        }
        for (String key : KEYS) {
            if (!v.containsKey(key))
                throw new IllegalArgumentException("metrics row lacks " + key + ": '" + line + "'");
        }
        return new EpochMetrics(
                v.get("epoch").intValue(),
                v.get("lr"),
                new LossTerms(
                        v.get("train_loss"),
                        v.get("train_cross_entropy"),
                        v.get("train_entropy"),
                        v.get("train_distillation"),
                        v.get("train_grouping")),
                new LossTerms(
                        v.get("test_loss"),
                        v.get("test_cross_entropy"),
                        v.get("test_entropy"),
                        v.get("test_distillation"),
                        v.get("test_grouping")),
                v.get("test_top1"),
                v.get("test_mean_class_accuracy"),
                v.get("train_images_per_second"),
                v.get("epoch_seconds"),
                v.get("best_top1"),
                v.get("best_epoch").intValue(),
                v.get("global_step").longValue(),
                v.getOrDefault("val_top1", Double.NaN),
                v.getOrDefault("val_mean_class_accuracy", Double.NaN),
                selectedOn,
                GroupMetrics.Summary.from(v));
    }

    /** The keys of {@link #asMap()}, in order. */
    private static final List<String> KEYS = List.of(
            "epoch",
            "lr",
            "train_loss",
            "train_cross_entropy",
            "train_entropy",
            "train_distillation",
            "train_grouping",
            "test_loss",
            "test_cross_entropy",
            "test_entropy",
            "test_distillation",
            "test_grouping",
            "test_top1",
            "test_mean_class_accuracy",
            "train_images_per_second",
            "epoch_seconds",
            "best_top1",
            "best_epoch",
            "global_step");

    private static String format(Object v) {
        if (v instanceof Double d) return Double.isFinite(d) ? String.format(Locale.ROOT, "%.6g", d) : "null";
        return String.valueOf(v);
    }
}
