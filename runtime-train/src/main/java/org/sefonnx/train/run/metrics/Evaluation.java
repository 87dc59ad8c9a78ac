package org.sefonnx.train.run.metrics;

/**
 * One pass of EvalStep over a split: the confusion matrix (top-1, mean per-class accuracy), the mean loss terms, the
 * group metrics and the pass's wall time.
 */
public record Evaluation(
        ConfusionMatrix confusion, EpochMetrics.LossTerms terms, GroupMetrics.Summary groups, double seconds) {}
