package org.sefonnx.train.run.metrics;

import java.util.Arrays;

/**
 * What the grouping does on the test split, accumulated batch by batch from the eval graph's outputs: the mean
 * squared cosine between channels of the same group (intra) and of different groups (inter), from the grouping loss's
 * block sums S[g,h] = mean_b Σ_{i∈g, j∈h} Q_b[i,j], and each group head's top-1 (the paper's Fig. 3).
 */
public final class GroupMetrics {
    private final int[] groupChannels;
    private final int classes;
    private final double[] blockSums;
    private final long[] groupCorrect;
    private long images;

    public GroupMetrics(int[] groupChannels, int classes) {
        this.groupChannels = groupChannels.clone();
        this.classes = classes;
        this.blockSums = new double[groupChannels.length * groupChannels.length];
        this.groupCorrect = new long[groupChannels.length];
    }

    /**
     * One eval batch: {@code batchBlockSums} [G, G] is a mean over the batch (so it is weighted by the batch size),
     * {@code groupLogits} [batch, G, K].
     */
    public void addBatch(float[] batchBlockSums, float[] groupLogits, long[] labels) {
        int groups = groupChannels.length;
        if (batchBlockSums.length != groups * groups || groupLogits.length != labels.length * groups * classes) {
            throw new IllegalArgumentException(
                    "group outputs of " + batchBlockSums.length + " block sums and " + groupLogits.length
                            + " group logits do not fit G=" + groups + ", K=" + classes + ", batch " + labels.length);
        }
        for (int i = 0; i < blockSums.length; i++) blockSums[i] += batchBlockSums[i] * (double) labels.length;
        for (int b = 0; b < labels.length; b++) {
            for (int g = 0; g < groups; g++) {
                if (argmax(groupLogits, (b * groups + g) * classes, classes) == labels[b]) groupCorrect[g]++;
            }
        }
        images += labels.length;
    }

    /** The metrics so far; NaN before the first batch. */
    public Summary summary() {
        int groups = groupChannels.length;
        double[] blockMeans = blockMeans();
        double intra = 0, inter = 0;
        int pairs = 0;
        for (int g = 0; g < groups; g++) {
            intra += blockMeans[g * groups + g] / groups;
            for (int h = 0; h < g; h++, pairs++) inter += blockMeans[g * groups + h];
        }
        double[] top1 = new double[groups];
        for (int g = 0; g < groups; g++) top1[g] = images == 0 ? Double.NaN : groupCorrect[g] / (double) images;
        return new Summary(intra, pairs == 0 ? Double.NaN : inter / pairs, top1);
    }

    /** G x G mean squared cosine of each block over the images so far (diagonal blocks include each channel with itself). */
    public double[] blockMeans() {
        int groups = groupChannels.length;
        double[] means = new double[groups * groups];
        for (int g = 0; g < groups; g++) {
            for (int h = 0; h < groups; h++) {
                means[g * groups + h] = images == 0
                        ? Double.NaN
                        : blockSums[g * groups + h] / images / ((double) groupChannels[g] * groupChannels[h]);
            }
        }
        return means;
    }

    private static int argmax(float[] v, int offset, int n) {
        int best = 0;
        for (int k = 1; k < n; k++) if (v[offset + k] > v[offset + best]) best = k;
        return best;
    }

    /**
     * One epoch's group metrics: mean intra-group and inter-group squared cosine (a grouping that forms raises the
     * first and lowers the second) and each group head's top-1; NONE for rows that predate them.
     */
    public record Summary(double intraSquaredCosine, double interSquaredCosine, double[] groupTop1) {
        public static final Summary NONE = new Summary(Double.NaN, Double.NaN, new double[0]);

        public Summary {
            groupTop1 = groupTop1.clone();
        }

        /** intra − inter: how much more a channel correlates with its own group than with the others. */
        public double gap() {
            return intraSquaredCosine - interSquaredCosine;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Summary s
                    && Double.compare(s.intraSquaredCosine, intraSquaredCosine) == 0
                    && Double.compare(s.interSquaredCosine, interSquaredCosine) == 0
                    && Arrays.equals(s.groupTop1, groupTop1);
        }

        @Override
        public int hashCode() {
            return 31 * Double.hashCode(intraSquaredCosine)
                    + 17 * Double.hashCode(interSquaredCosine)
                    + Arrays.hashCode(groupTop1);
        }

        @Override
        public String toString() {
            return "Summary[intra=" + intraSquaredCosine + ", inter=" + interSquaredCosine + ", groupTop1="
                    + Arrays.toString(groupTop1) + "]";
        }
    }
}
