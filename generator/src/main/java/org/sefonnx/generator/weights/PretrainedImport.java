package org.sefonnx.generator.weights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;

/**
 * Starts a spec's checkpoint from ImageNet-pretrained torchvision ResNet weights, as every published SEF number does
 * (docs/sef-method.md, "Training recipe"): the backbone's parameters and BatchNorm running statistics come from the file,
 * the global head and the group heads start fresh from the seed, as the authors replace the fc layer.
 *
 * <p>The file is a safetensors file (e.g. timm's {@code resnet50.tv_in1k} / {@code resnet18.tv_in1k}, torchvision's V1
 * weights under torchvision's names) or an ONNX model exported from torchvision. Names must be torchvision's
 * state_dict names, optionally all behind one prefix ({@code model.}, {@code module.}, {@code backbone.}, ...), which
 * is found by vote. Not supported: exports that renamed the tensors (e.g. an ONNX export in eval mode, which folds
 * each BatchNorm into its conv as {@code onnx::Conv_NNN}), other ResNet layouts (timm's {@code resnet50d},
 * Hugging Face transformers' {@code ResNetModel}), and pickled {@code .pth} files.
 */
public final class PretrainedImport {
    /** Checkpoint property: the file name the initial weights came from. */
    public static final String PROP_PRETRAINED_FILE = "pretrained_file";
    /** Checkpoint property: that file's SHA-256. */
    public static final String PROP_PRETRAINED_SHA256 = "pretrained_sha256";
    /** Checkpoint property: the prefix the file's names carried, set only when they carried one. */
    public static final String PROP_PRETRAINED_PREFIX = "pretrained_prefix";

    /** How many names of each kind the mismatch message lists before summarising. */
    static final int LISTED_PER_KIND = 12;

    /** A torchvision backbone tensor's name. */
    private static final Pattern BACKBONE_NAME = Pattern.compile("^(conv1|bn1|layer\\d+)\\..*");
    /** A block convolution's weight: layer, block and convolution. */
    private static final Pattern BLOCK = Pattern.compile("^layer(\\d+)\\.(\\d+)\\.(conv\\d+)\\.weight$");
    /** The suffix of PyTorch's BatchNorm step counter, which the checkpoint has no tensor for. */
    private static final String NUM_BATCHES_TRACKED = ".num_batches_tracked";

    /** Which file tensor feeds which checkpoint tensor, and what was left aside. */
    public record Match(
            String prefix, Map<String, String> sourceByTarget, List<String> skipped, List<String> ignored) {}

    private PretrainedImport() {}

    /**
     * The spec's initial checkpoint ({@link ArtifactWriter#initialCheckpoint}) with its backbone and BatchNorm
     * statistics replaced by the file's; the property bag records the file's name and SHA-256. Throws
     * {@link PretrainedMismatchException} when the file does not fit the backbone.
     */
    public static Checkpoint initialCheckpoint(ModelSpec spec, long seed, Path file) throws IOException {
        WeightsFile weights = WeightsFile.read(file);
        Match match = match(spec, weights);
        Map<String, float[]> values = new HashMap<>();
        for (Map.Entry<String, String> e : match.sourceByTarget().entrySet()) {
            float[] v = weights.tensors().get(e.getValue()).values().get();
            for (float f : v) {
                if (!Float.isFinite(f))
                    throw new IllegalArgumentException(
                            weights.source() + ": tensor '" + e.getValue() + "' holds NaN or infinite values");
            }
            values.put(e.getKey(), v);
        }
        Checkpoint base = ArtifactWriter.initialCheckpoint(spec, seed);
        Map<String, String> strings = new LinkedHashMap<>(base.stringProperties());
        strings.put(PROP_PRETRAINED_FILE, file.getFileName().toString());
        strings.put(PROP_PRETRAINED_SHA256, weights.sha256());
        if (!match.prefix().isEmpty()) strings.put(PROP_PRETRAINED_PREFIX, match.prefix());
        return new Checkpoint(
                replace(base.trainable(), values),
                replace(base.frozen(), values),
                base.intProperties(),
                base.floatProperties(),
                strings);
    }

    private static List<Checkpoint.Tensor> replace(List<Checkpoint.Tensor> tensors, Map<String, float[]> values) {
        List<Checkpoint.Tensor> r = new ArrayList<>(tensors.size());
        for (Checkpoint.Tensor t : tensors) {
            float[] v = values.get(t.name());
            r.add(v == null ? t : new Checkpoint.Tensor(t.name(), t.dims(), v));
        }
        return r;
    }

    /** The checkpoint tensors an import fills: every parameter and running statistic but the heads'. */
    public static List<CheckpointTensor> backboneTensors(ModelSpec spec) {
        return SefModel.modelTensors(spec).stream()
                .filter(t -> !isHead(t.name()))
                .toList();
    }

    static boolean isHead(String name) {
        return name.startsWith("fc.") || name.startsWith("group_fc.");
    }

    /** Maps the file's tensors onto the spec's backbone, or throws one exception that lists every misfit. */
    public static Match match(ModelSpec spec, WeightsFile weights) {
        Map<String, CheckpointTensor> expected = new LinkedHashMap<>();
        for (CheckpointTensor t : backboneTensors(spec)) expected.put(t.name(), t);
        String prefix = prefix(expected.keySet(), weights.tensors().keySet());

        Map<String, String> sourceByTarget = new LinkedHashMap<>();
        List<String> unexpected = new ArrayList<>(), skipped = new ArrayList<>(), ignored = new ArrayList<>();
        List<PretrainedMismatchException.MisShaped> misShaped = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (WeightsFile.Entry e : weights.tensors().values()) {
            if (!e.name().startsWith(prefix)) {
                ignored.add(e.name());
                continue;
            }
            String name = e.name().substring(prefix.length());
            CheckpointTensor target = expected.get(name);
            if (target != null) {
                seen.add(name);
                if (!e.floating() || !Arrays.equals(e.shape(), target.shape())) {
                    misShaped.add(new PretrainedMismatchException.MisShaped(
                            name, target.shape(), e.dtype() + " " + Arrays.toString(e.shape())));
                } else {
                    sourceByTarget.put(name, e.name());
                }
            } else if (isHead(name) || name.endsWith(NUM_BATCHES_TRACKED)) {
                skipped.add(e.name());
            } else if (BACKBONE_NAME.matcher(name).matches()) {
                unexpected.add(name + " " + Arrays.toString(e.shape()));
            } else {
                ignored.add(e.name());
            }
        }
        List<String> missing = new ArrayList<>();
        for (CheckpointTensor t : expected.values())
            if (!seen.contains(t.name())) missing.add(t.name() + " " + Arrays.toString(t.shape()));
        if (missing.isEmpty() && unexpected.isEmpty() && misShaped.isEmpty())
            return new Match(prefix, sourceByTarget, skipped, ignored);
        throw new PretrainedMismatchException(
                message(
                        spec,
                        weights,
                        prefix,
                        expected.size(),
                        missing,
                        unexpected,
                        misShaped,
                        sourceByTarget.isEmpty()),
                missing,
                unexpected,
                misShaped);
    }

    /**
     * The one prefix behind which the file keeps torchvision's names: each file name votes for every prefix that,
     * cut off at a '.', '/' or ':', leaves a known torchvision name; the most voted wins (the shorter on a tie).
     */
    static String prefix(Set<String> expected, Set<String> sourceNames) {
        Set<String> known = new LinkedHashSet<>(expected);
        known.add("fc.weight");
        known.add("fc.bias");
        Map<String, Integer> votes = new TreeMap<>();
        for (String s : sourceNames) {
            for (int p = 0; p < s.length(); p++) {
                if (p > 0 && "./:".indexOf(s.charAt(p - 1)) < 0) continue;
                String rest = s.substring(p);
                if (known.contains(rest)
                        || rest.endsWith(NUM_BATCHES_TRACKED)
                                && known.contains(rest.replace(NUM_BATCHES_TRACKED, ".running_mean"))) {
                    votes.merge(s.substring(0, p), 1, Integer::sum);
                }
            }
        }
        String best = "";
        int bestVotes = 0;
        for (Map.Entry<String, Integer> e : votes.entrySet()) {
            if (e.getValue() > bestVotes
                    || e.getValue() == bestVotes && e.getKey().length() < best.length()) {
                best = e.getKey();
                bestVotes = e.getValue();
            }
        }
        return best;
    }

    private static String message(
            ModelSpec spec,
            WeightsFile weights,
            String prefix,
            int expectedCount,
            List<String> missing,
            List<String> unexpected,
            List<PretrainedMismatchException.MisShaped> misShaped,
            boolean nothingMatched) {
        StringBuilder sb = new StringBuilder();
        sb.append(weights.source())
                .append(" does not fit the ResNet-")
                .append(spec.depth())
                .append(" backbone of spec ")
                .append(spec.id())
                .append(" (")
                .append(expectedCount)
                .append(" tensors expected under torchvision's names");
        if (!prefix.isEmpty()) sb.append(" behind the prefix '").append(prefix).append('\'');
        sb.append("): ")
                .append(missing.size())
                .append(" missing, ")
                .append(unexpected.size())
                .append(" unexpected, ")
                .append(misShaped.size())
                .append(" mis-shaped. Nothing was written.");
        String looksLike = guessDepth(weights, prefix);
        if (looksLike != null && !looksLike.startsWith("ResNet-" + spec.depth() + " ")) {
            sb.append("\n  the file looks like ")
                    .append(looksLike)
                    .append("; the spec wants ResNet-")
                    .append(spec.depth());
        }
        if (nothingMatched && weights.tensors().keySet().stream().anyMatch(n -> n.startsWith("onnx::"))) {
            sb.append(
                    "\n  the ONNX export renamed the weights (onnx::...): export in training mode, torch.onnx.export(..., "
                            + "training=torch.onnx.TrainingMode.TRAINING), so BatchNorms stay unfolded under their names, or pass a safetensors file");
        }
        list(sb, "missing", missing);
        list(sb, "unexpected", unexpected);
        List<String> shaped = new ArrayList<>();
        for (PretrainedMismatchException.MisShaped m : misShaped)
            shaped.add(m.name() + " expected " + Arrays.toString(m.expectedShape()) + ", found " + m.found());
        list(sb, "mis-shaped", shaped);
        return sb.toString();
    }

    private static void list(StringBuilder sb, String kind, List<String> items) {
        if (items.isEmpty()) return;
        sb.append("\n  ").append(kind).append(": ");
        for (int i = 0; i < Math.min(items.size(), LISTED_PER_KIND); i++)
            sb.append(i == 0 ? "" : ", ").append(items.get(i));
        if (items.size() > LISTED_PER_KIND)
            sb.append(", ... and ").append(items.size() - LISTED_PER_KIND).append(" more");
    }

    /** "ResNet-50 (Bottleneck blocks 3-4-6-3)" from the file's layer names, or null when it has none. */
    static String guessDepth(WeightsFile weights, String prefix) {
        int[] blocks = new int[4];
        boolean bottleneck = false, any = false;
        for (String n : weights.tensors().keySet()) {
            if (!n.startsWith(prefix)) continue;
            Matcher m = BLOCK.matcher(n.substring(prefix.length()));
            if (!m.matches()) continue;
            int stage = Integer.parseInt(m.group(1)) - 1;
            if (stage < 0 || stage > 3) continue;
            any = true;
            blocks[stage] = Math.max(blocks[stage], Integer.parseInt(m.group(2)) + 1);
            bottleneck |= m.group(3).equals("conv3");
        }
        if (!any) return null;
        String layout = blocks[0] + "-" + blocks[1] + "-" + blocks[2] + "-" + blocks[3];
        String depth = switch ((bottleneck ? "B" : "b") + layout) {
            case "b2-2-2-2" -> "ResNet-18";
            case "b3-4-6-3" -> "ResNet-34";
            case "B3-4-6-3" -> "ResNet-50";
            case "B3-4-23-3" -> "ResNet-101";
            case "B3-8-36-3" -> "ResNet-152";
            default -> "a ResNet";
        };
        return depth + " (" + (bottleneck ? "Bottleneck" : "BasicBlock") + " blocks " + layout + ")";
    }
}
