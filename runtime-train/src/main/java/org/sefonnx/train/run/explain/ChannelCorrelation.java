package org.sefonnx.train.run.explain;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sefonnx.contract.AtomicFiles;

/**
 * The C x C mean over images of the squared cosines Q = (n nᵀ)² the grouping loss uses (docs/sef-method.md), channels in
 * group order, and its G x G block means: the paper's Fig. 2. Diagonal blocks include each channel with itself, as
 * the loss's intra term does.
 */
public final class ChannelCorrelation {
    /** The grouping loss's ε (float32 machine epsilon), so a dead channel gets n = 0 as in the graph. */
    private static final double EPSILON = 1.1920929e-07;

    private final int channels;
    private final int[] groupStarts;
    private final int[] groupChannels;
    private final double[] sum;
    private int images;

    public ChannelCorrelation(int[] groupChannels) {
        this.groupChannels = groupChannels.clone();
        this.groupStarts = new int[groupChannels.length];
        int c = 0;
        for (int g = 0; g < groupChannels.length; g++) {
            groupStarts[g] = c;
            c += groupChannels[g];
        }
        this.channels = c;
        this.sum = new double[c * c];
    }

    /** Adds one image's post-ReLU map, {@code cells} values per channel starting at {@code offset} of {@code featureMap}. */
    public void add(float[] featureMap, int offset, int cells) {
        double[] n = new double[channels * cells];
        for (int i = 0; i < channels; i++) {
            double norm = 0;
            for (int p = 0; p < cells; p++)
                norm += (double) featureMap[offset + i * cells + p] * featureMap[offset + i * cells + p];
            double scale = 1 / (Math.sqrt(norm) + EPSILON);
            for (int p = 0; p < cells; p++) n[i * cells + p] = featureMap[offset + i * cells + p] * scale;
        }
        for (int i = 0; i < channels; i++) {
            for (int j = i; j < channels; j++) {
                double dot = 0;
                for (int p = 0; p < cells; p++) dot += n[i * cells + p] * n[j * cells + p];
                double q = dot * dot;
                sum[i * channels + j] += q;
                if (j != i) sum[j * channels + i] += q;
            }
        }
        images++;
    }

    public int images() {
        return images;
    }

    public int channels() {
        return channels;
    }

    public int[] groupStarts() {
        return groupStarts.clone();
    }

    /** Mean Q[i][j] over the images added. */
    public double mean(int i, int j) {
        return sum[i * channels + j] / Math.max(images, 1);
    }

    /** G x G mean of each block of the mean Q, row-major. */
    public double[] blockMeans() {
        int groups = groupChannels.length;
        double[] means = new double[groups * groups];
        for (int g = 0; g < groups; g++) {
            for (int h = 0; h < groups; h++) {
                double s = 0;
                for (int i = groupStarts[g]; i < groupStarts[g] + groupChannels[g]; i++) {
                    for (int j = groupStarts[h]; j < groupStarts[h] + groupChannels[h]; j++) s += sum[i * channels + j];
                }
                means[g * groups + h] = s / Math.max(images, 1) / ((double) groupChannels[g] * groupChannels[h]);
            }
        }
        return means;
    }

    /** Mean of the diagonal blocks' means. */
    public double intra() {
        int groups = groupChannels.length;
        double[] b = blockMeans();
        double s = 0;
        for (int g = 0; g < groups; g++) s += b[g * groups + g];
        return s / groups;
    }

    /** Mean of the off-diagonal blocks' means (NaN for G = 1). */
    public double inter() {
        int groups = groupChannels.length;
        double[] b = blockMeans();
        double s = 0;
        int pairs = 0;
        for (int g = 0; g < groups; g++) for (int h = 0; h < g; h++, pairs++) s += b[g * groups + h];
        return pairs == 0 ? Double.NaN : s / pairs;
    }

    /** block-means CSV: one row per group, one column per group. */
    public void writeCsv(Path file) throws IOException {
        int groups = groupChannels.length;
        double[] b = blockMeans();
        StringBuilder sb = new StringBuilder("group");
        for (int h = 0; h < groups; h++) sb.append(",group").append(h);
        sb.append('\n');
        for (int g = 0; g < groups; g++) {
            sb.append("group").append(g);
            for (int h = 0; h < groups; h++)
                sb.append(',').append(String.format(Locale.ROOT, "%.6f", b[g * groups + h]));
            sb.append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    /** block means, intra, inter and the channel split as JSON. */
    public void writeJson(Path file) throws IOException {
        int groups = groupChannels.length;
        double[] b = blockMeans();
        List<String> rows = new ArrayList<>();
        for (int g = 0; g < groups; g++) {
            List<String> row = new ArrayList<>();
            for (int h = 0; h < groups; h++) row.add(String.format(Locale.ROOT, "%.6f", b[g * groups + h]));
            rows.add("[" + String.join(", ", row) + "]");
        }
        List<String> split = new ArrayList<>();
        for (int c : groupChannels) split.add(Integer.toString(c));
        AtomicFiles.writeString(
                file,
                String.format(
                        Locale.ROOT,
                        "{\"images\": %d, \"group_channels\": [%s], \"block_means\": [%s], \"intra\": %.6f, \"inter\": %s, \"gap\": %s}%n",
                        images,
                        String.join(", ", split),
                        String.join(", ", rows),
                        intra(),
                        json(inter()),
                        json(intra() - inter())));
    }

    private static String json(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6f", v) : "null";
    }
}
