package org.sefonnx.train.train;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** One row of metrics.jsonl / metrics.csv: what an epoch did. */
public record EpochMetrics(int epoch, double learningRate, LossTerms train, LossTerms test, double testTop1,
                           double testMeanClassAccuracy, double trainImagesPerSecond, double epochSeconds,
                           double bestTop1, int bestEpoch, long globalStep) {

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
        return m;
    }

    public String toJson() {
        StringBuilder sb = new StringBuilder("{");
        for (var e : asMap().entrySet()) {
            if (sb.length() > 1) sb.append(", ");
            sb.append('"').append(e.getKey()).append("\": ").append(format(e.getValue()));
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

    private static String format(Object v) {
        if (v instanceof Double d) return Double.isFinite(d) ? String.format(Locale.ROOT, "%.6g", d) : "null";
        return String.valueOf(v);
    }
}
