package org.sefonnx.validation;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * An independent double-precision reference of the four SEF loss terms, written from docs/sef-method.md as literally as
 * possible (per-sample C x C cosine matrices through Commons Math, explicit block loops), sharing no code with the
 * generator's graph formulation.
 */
public final class SefLossReference {
    /** float32 machine epsilon, as in the authors' code. */
    public static final double EPS = 1.1920929e-07;

    /** All four terms. */
    public record Terms(double crossEntropy, double entropy, double distillation, double grouping) {
        public double total(double lambda, double gamma, double phi) {
            return crossEntropy + lambda * entropy + gamma * distillation + phi * grouping;
        }
    }

    private SefLossReference() {}

    /**
     * @param global     [B][K] global logits
     * @param groups     [G][B][K] group logits
     * @param labels     [B]
     * @param features   [B][C][HW] post-ReLU feature map
     * @param groupChannels channels per group (contiguous)
     * @param paperForm  the paper's ½(‖D‖²_F − 2‖diag D‖²) instead of the code's form
     */
    public static Terms compute(
            double[][] global,
            double[][][] groups,
            long[] labels,
            double[][][] features,
            int[] groupChannels,
            boolean paperForm) {
        int b = global.length;
        double ce = 0, entropy = 0;
        double[][] pw = new double[b][];
        for (int i = 0; i < b; i++) {
            double[] logp = logSoftmax(global[i]);
            ce -= logp[(int) labels[i]] / b;
            pw[i] = new double[logp.length];
            for (int k = 0; k < logp.length; k++) {
                pw[i][k] = Math.exp(logp[k]);
                entropy += pw[i][k] * logp[k] / b;
            }
        }
        double distillation = 0;
        for (double[][] g : groups) {
            for (int i = 0; i < b; i++) {
                double[] logq = logSoftmax(g[i]);
                for (int k = 0; k < logq.length; k++) distillation -= pw[i][k] * logq[k] / (b * (double) groups.length);
            }
        }
        double grouping = paperForm ? paperGrouping(features, groupChannels) : codeGrouping(features, groupChannels);
        return new Terms(ce, entropy, distillation, grouping);
    }

    static double[] logSoftmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v);
        double s = 0;
        for (double v : z) s += Math.exp(v - max);
        double lse = max + Math.log(s);
        double[] r = new double[z.length];
        for (int k = 0; k < z.length; k++) r[k] = z[k] - lse;
        return r;
    }

    /** Q_b = (n nᵀ)² element-wise with n_i = X_i / (‖X_i‖ + ε). */
    static RealMatrix squaredCosines(double[][] x) {
        double[][] n = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double norm = 0;
            for (double v : x[i]) norm += v * v;
            norm = Math.sqrt(norm) + EPS;
            n[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) n[i][j] = x[i][j] / norm;
        }
        RealMatrix nm = new Array2DRowRealMatrix(n, false);
        RealMatrix q = nm.multiply(nm.transpose());
        for (int i = 0; i < q.getRowDimension(); i++) {
            for (int j = 0; j < q.getColumnDimension(); j++) q.setEntry(i, j, q.getEntry(i, j) * q.getEntry(i, j));
        }
        return q;
    }

    static int[] starts(int[] channels) {
        int[] s = new int[channels.length];
        for (int g = 1; g < channels.length; g++) s[g] = s[g - 1] + channels[g - 1];
        return s;
    }

    /** The authors' code: intra from diagonal blocks (diagonal included), inter_i against all earlier groups pooled. */
    static double codeGrouping(double[][][] features, int[] channels) {
        int groups = channels.length, b = features.length;
        int[] start = starts(channels);
        double[] intra = new double[groups], inter = new double[groups];
        for (double[][] xb : features) {
            RealMatrix q = squaredCosines(xb);
            for (int g = 0; g < groups; g++) {
                double s = 0;
                for (int i = start[g]; i < start[g] + channels[g]; i++) {
                    for (int j = start[g]; j < start[g] + channels[g]; j++) s += 1 - q.getEntry(i, j);
                }
                intra[g] += s / ((double) channels[g] * channels[g] * b);
                if (g == 0) continue;
                double t = 0;
                for (int i = start[g]; i < start[g] + channels[g]; i++) {
                    for (int j = 0; j < start[g]; j++) t += q.getEntry(i, j);
                }
                inter[g] += t / ((double) channels[g] * start[g] * b);
            }
        }
        double intraMean = 0, interSum = 0;
        for (int g = 0; g < groups; g++) {
            intraMean += intra[g] / groups;
            interSum += inter[g];
        }
        double pairs = groups * (groups - 1) / 2.0;
        return 0.5 * (intraMean + (groups > 1 ? interSum / pairs : 0));
    }

    /** The paper: D[g][h] = mean of block (g,h) of Q over the batch; ½(‖D‖²_F − 2‖diag D‖²). */
    static double paperGrouping(double[][][] features, int[] channels) {
        int groups = channels.length, b = features.length;
        int[] start = starts(channels);
        double[][] d = new double[groups][groups];
        for (double[][] xb : features) {
            RealMatrix q = squaredCosines(xb);
            for (int g = 0; g < groups; g++) {
                for (int h = 0; h < groups; h++) {
                    double s = 0;
                    for (int i = start[g]; i < start[g] + channels[g]; i++) {
                        for (int j = start[h]; j < start[h] + channels[h]; j++) s += q.getEntry(i, j);
                    }
                    d[g][h] += s / ((double) channels[g] * channels[h] * b);
                }
            }
        }
        double frob = 0, diag = 0;
        for (int g = 0; g < groups; g++) {
            for (int h = 0; h < groups; h++) frob += d[g][h] * d[g][h];
            diag += d[g][g] * d[g][g];
        }
        return 0.5 * (frob - 2 * diag);
    }
}
