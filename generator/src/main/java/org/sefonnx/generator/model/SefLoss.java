package org.sefonnx.generator.model;

import java.util.ArrayList;
import java.util.List;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.onnx.Dim;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * The SEF objective exactly as the authors' code computes it (docs/sef-method.md, "The objective"):
 * L = CE + λ·E + γ·S + φ·L_group, with P_w not detached.
 */
public final class SefLoss {
    /**
     * Every term, the global prediction's probabilities, and the grouping loss's G x G block sums
     * S[g,h] = mean_b Σ_{i∈g, j∈h} Q_b[i,j] (what the eval graph returns to measure intra- and inter-group correlation).
     */
    public record Terms(
            Value total,
            Value crossEntropy,
            Value entropy,
            Value distillation,
            Value grouping,
            Value probabilities,
            Value groupBlockSums) {}

    /** The grouping loss and the block sums it is a weighted sum of. */
    record Grouping(Value loss, Value blockSums) {}

    private SefLoss() {}

    public static Terms apply(Forward f, ModelSpec spec, SefHeads.Logits logits, Value labels, Value featureMap) {
        Ops ops = f.ops;
        Value ce = ops.softmaxCrossEntropy("ce", logits.global(), labels).get(0);
        Value logPw = ops.logSoftmax("log_p_global", logits.global(), 1);
        Value pw = ops.exp("p_global", logPw);
        Value entropy = entropyTerm(f, pw, logPw);
        Value distillation = distillationTerm(f, pw, logits.groups());
        Grouping grouping = groupingLoss(f, spec, featureMap);
        Value total = ops.sum(
                "loss_sum",
                List.of(
                        ce,
                        ops.mul("entropy_weighted", entropy, f.scalar(spec.lambda())),
                        ops.mul("distillation_weighted", distillation, f.scalar(spec.gamma())),
                        ops.mul("grouping_weighted", grouping.loss(), f.scalar(spec.phi()))));
        return new Terms(total, ce, entropy, distillation, grouping.loss(), pw, grouping.blockSums());
    }

    /** E = (1/B) Σ_b Σ_k P_w log P_w  (= −mean H(P_w)); +λ·E in the loss maximises the entropy. */
    static Value entropyTerm(Forward f, Value pw, Value logPw) {
        Ops ops = f.ops;
        Value perSample =
                ops.reduceSum("entropy.per_sample", ops.mul("entropy.p_logp", pw, logPw), new long[] {1}, false);
        return ops.reduceMean(TensorNames.ENTROPY, perSample, new long[] {0}, false);
    }

    /** S = (1/G) Σ_g (1/B) Σ_b Σ_k −P_w[b,k] · log P_g[b,k]. */
    static Value distillationTerm(Forward f, Value pw, List<Value> groupLogits) {
        Ops ops = f.ops;
        List<Value> perGroup = new ArrayList<>();
        for (int g = 0; g < groupLogits.size(); g++) {
            Value logPg = ops.logSoftmax("group" + g + ".log_p", groupLogits.get(g), 1);
            Value perSample = ops.reduceSum(
                    "group" + g + ".cross.per_sample",
                    ops.mul("group" + g + ".p_logq", pw, logPg),
                    new long[] {1},
                    false);
            perGroup.add(ops.reduceMean("group" + g + ".cross", perSample, new long[] {0}, false));
        }
        Value sum = ops.sum("distillation.sum", perGroup);
        return ops.mul(TensorNames.DISTILLATION, sum, f.scalar(-1.0 / groupLogits.size()));
    }

    /** S = mean_b(Aᵀ Q_b A) with A the C x G one-hot group membership. */
    private static Value blockSumsByCosines(Forward f, Value n, int[] starts, int[] channels, int c) {
        Ops ops = f.ops;
        int groups = starts.length;
        Value cos = ops.matmul("grouping.cos", n, ops.transpose("grouping.n_t", n, 0, 2, 1));
        Value q = ops.mul("grouping.q", cos, cos);
        double[] membership = new double[c * groups];
        double[] membershipT = new double[groups * c];
        for (int g = 0; g < groups; g++) {
            for (int i = starts[g]; i < starts[g] + channels[g]; i++) {
                membership[i * groups + g] = 1;
                membershipT[g * c + i] = 1;
            }
        }
        Value a = ops.graph().constant(f.dtype, Shape.fixed(c, groups), membership);
        Value aT = ops.graph().constant(f.dtype, Shape.fixed(groups, c), membershipT);
        Value blockSums = ops.matmul("grouping.block_sums_b", aT, ops.matmul("grouping.q_a", q, a));
        return ops.reduceMean("grouping.block_sums", blockSums, new long[] {0}, false);
    }

    /** S[g,h] = mean_b ⟨M_g, M_h⟩_F with M_g = N_gᵀ N_g the HW x HW Gram matrix of group g's normalised channels. */
    private static Value blockSumsByGroupGrams(Ops ops, Value n, int[] starts, int[] channels, int hw) {
        List<Value> grams = new ArrayList<>();
        for (int g = 0; g < starts.length; g++) {
            Value ng = ops.slice(
                    "grouping.n" + g, n, new long[] {starts[g]}, new long[] {starts[g] + channels[g]}, new long[] {1});
            Value gram = ops.matmul("grouping.gram" + g, ops.transpose("grouping.n" + g + "_t", ng, 0, 2, 1), ng);
            grams.add(ops.reshape("grouping.gram" + g + "_row", gram, 0, 1, (long) hw * hw));
        }
        Value stacked = grams.size() == 1 ? grams.get(0) : ops.concat("grouping.grams", grams, 1, Dim.of(grams.size()));
        Value blockSums =
                ops.matmul("grouping.block_sums_b", stacked, ops.transpose("grouping.grams_t", stacked, 0, 2, 1));
        return ops.reduceMean("grouping.block_sums", blockSums, new long[] {0}, false);
    }

    /**
     * Grouping loss on the post-ReLU map X (C x HW per sample): n_i = X_i / (‖X_i‖ + ε), Q = (n nᵀ)². Every term of
     * the authors' code is a weighted sum of block sums of Q, so Q is reduced to the G x G block sums
     * S[g,h] = mean_b Σ_{i∈g, j∈h} Q_b[i,j] and weighted by a G x G constant. S is computed whichever way is cheaper
     * (equal up to float rounding): through Q itself (C²·HW multiply-adds per sample), or, when the map has fewer
     * cells than channels, through each group's HW x HW Gram matrix M_g = Σ_{i∈g} n_i n_iᵀ, since
     * Σ_{i∈g, j∈h} (n_i·n_j)² = ⟨M_g, M_h⟩_F (C·HW² multiply-adds: 128x fewer for ResNet-18 at 64 px, and at 32 px,
     * where HW = 1, no C x C matrix at all).
     */
    static Grouping groupingLoss(Forward f, ModelSpec spec, Value featureMap) {
        Ops ops = f.ops;
        int c = spec.featureChannels(), groups = spec.groups();
        int hw = spec.featureMapSize() * spec.featureMapSize();
        // normalisation and Gram sums in float32 under mixed precision
        Value x = ops.reshape("grouping.x", f.toLoss(featureMap), 0, c, hw);
        Value norm = ops.reduceL2("grouping.norm", x, new long[] {2}, true);
        Value n = ops.div("grouping.n", x, ops.add("grouping.norm_eps", norm, f.scalar(ModelSpec.GROUPING_EPSILON)));
        int[] starts = spec.groupStarts(), channels = spec.groupChannels();
        Value s = hw < c
                ? blockSumsByGroupGrams(ops, n, starts, channels, hw)
                : blockSumsByCosines(f, n, starts, channels, c);

        double[] w = new double[groups * groups];
        if (spec.groupingLoss() == ModelSpec.GroupingLossForm.CODE) {
            // 0.5·((1/G) Σ_g intra_g + Σ_i inter_i / (G(G−1)/2)), intra_g = 1 − mean of block (g,g),
            // inter_i = mean of block [group i] x [groups 0..i−1]
            double pairs = groups * (groups - 1) / 2.0;
            for (int g = 0; g < groups; g++) {
                w[g * groups + g] = -0.5 / (groups * (double) channels[g] * channels[g]);
                for (int h = 0; h < g; h++) w[g * groups + h] = 0.5 / (pairs * channels[g] * (double) starts[g]);
            }
            Value weights = ops.graph().constant(f.dtype, Shape.fixed(groups, groups), w);
            Value weighted =
                    ops.reduceSum("grouping.weighted", ops.mul("grouping.terms", s, weights), new long[] {0, 1}, false);
            return new Grouping(ops.add(TensorNames.GROUPING, weighted, f.scalar(0.5)), s);
        }
        // paper: ½(‖D‖²_F − 2‖diag D‖²) with D[g,h] the mean of block (g,h)
        double[] inv = new double[groups * groups];
        for (int g = 0; g < groups; g++) {
            for (int h = 0; h < groups; h++) {
                inv[g * groups + h] = 1.0 / ((double) channels[g] * channels[h]);
                w[g * groups + h] = g == h ? -0.5 : 0.5;
            }
        }
        Value d = ops.mul("grouping.d", s, ops.graph().constant(f.dtype, Shape.fixed(groups, groups), inv));
        Value weighted = ops.mul(
                "grouping.terms",
                ops.mul("grouping.d2", d, d),
                ops.graph().constant(f.dtype, Shape.fixed(groups, groups), w));
        return new Grouping(ops.reduceSum(TensorNames.GROUPING, weighted, new long[] {0, 1}, false), s);
    }
}
