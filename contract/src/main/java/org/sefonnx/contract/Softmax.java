package org.sefonnx.contract;

/**
 * The softmax of a head's logits, computed as the graphs' LogSoftmax-then-Exp does (shifted by the row's maximum, so
 * large logits do not overflow), in double: how the trainer's explain figures and SefClassifier.explain both turn a
 * group head's logits into the probability they show.
 */
public final class Softmax {
    private Softmax() {}

    /** The softmax of {@code logits[offset .. offset + k)}. */
    public static double[] of(float[] logits, int offset, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) max = Math.max(max, logits[offset + j]);
        double[] p = new double[k];
        double sum = 0;
        for (int j = 0; j < k; j++) sum += p[j] = Math.exp(logits[offset + j] - max);
        for (int j = 0; j < k; j++) p[j] /= sum;
        return p;
    }

    /** The index of the largest value, the lower index on a tie. */
    public static int argmax(double[] values) {
        int best = 0;
        for (int j = 1; j < values.length; j++) if (values[j] > values[best]) best = j;
        return best;
    }
}
