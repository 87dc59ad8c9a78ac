package org.sefonnx.infer;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ExportManifest;
import org.sefonnx.contract.FileFormatException;
import org.sefonnx.contract.GroupSplit;
import org.sefonnx.contract.LabelFile;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.imaging.PreprocessingSpec;

/**
 * An export directory ({@link ExportLayout}) checked once, before any session opens: every required file present and
 * readable, every file the manifest lists matching its SHA-256, the labels and the evaluation transform readable and
 * agreeing. What {@link SefClassifier#open} loads and runtime-spark's bundle ships; the model's own inputs and outputs
 * are checked against it when a session has read them ({@link #checkModel}). Every disagreement is an
 * {@link InvalidExportException} naming the file, the field and what was expected.
 */
public final class ExportDirectory {
    /** How far the files were checked against their manifest. */
    public enum Integrity {
        /** Every file {@value ExportLayout#MANIFEST} lists matches its SHA-256. */
        VERIFIED,
        /** The export has no {@value ExportLayout#MANIFEST} (written before sef-onnx wrote one): not checked, with a warning. */
        NO_MANIFEST,
        /** The caller turned the check off (an export edited on purpose). */
        NOT_CHECKED
    }

    /** What a session read of one model file of the export, checked against the export's other files. */
    record Signature(int classes, boolean explains, GroupSplit recordedGroups) {}

    private static final System.Logger LOG = System.getLogger(ExportDirectory.class.getName());

    private final Path dir;
    private final PreprocessingSpec preprocessing;
    private final List<String> labels;
    private final Integrity integrity;
    private final Map<String, String> manifest;

    private ExportDirectory(
            Path dir,
            PreprocessingSpec preprocessing,
            List<String> labels,
            Integrity integrity,
            Map<String, String> manifest) {
        this.dir = dir;
        this.preprocessing = preprocessing;
        this.labels = labels;
        this.integrity = integrity;
        this.manifest = manifest;
    }

    /** {@link #open(Path, boolean)} with the manifest check on. */
    public static ExportDirectory open(Path dir) throws IOException {
        return open(dir, true);
    }

    /**
     * Checks {@code dir}: the required files, then (with {@code verifyManifest}) the SHA-256 of every file the manifest
     * lists, then preprocessing.properties and labels.txt. An export without a manifest (written before sef-onnx wrote
     * one) opens with a one-line warning; {@code verifyManifest} false skips the hashes, for exports edited on purpose.
     */
    public static ExportDirectory open(Path dir, boolean verifyManifest) throws IOException {
        for (String name : ExportLayout.REQUIRED_FILES) {
            Path required = dir.resolve(name);
            if (!Files.isRegularFile(required)) {
                throw new InvalidExportException(
                        required,
                        "missing; an export directory holds " + String.join(", ", ExportLayout.REQUIRED_FILES));
            }
            if (!Files.isReadable(required)) {
                throw new InvalidExportException(
                        required,
                        "is not readable by this user (permission denied): make it readable "
                                + "(chmod a+r) or run as its owner");
            }
        }
        Map<String, String> manifest = Map.of();
        Integrity integrity = Integrity.NOT_CHECKED;
        if (verifyManifest) {
            Path manifestFile = dir.resolve(ExportLayout.MANIFEST);
            if (Files.exists(manifestFile)) {
                manifest = verify(dir, manifestFile);
                integrity = Integrity.VERIFIED;
            } else {
                integrity = Integrity.NO_MANIFEST;
                LOG.log(
                        System.Logger.Level.WARNING,
                        dir + ": no " + ExportLayout.MANIFEST + ", so its files are not checked for damage (an export "
                                + "written before sef-onnx wrote one); re-export it, or write one with `sha256sum "
                                + String.join(" ", ExportLayout.REQUIRED_FILES) + " > " + ExportLayout.MANIFEST + "`");
            }
        }
        return new ExportDirectory(dir, readPreprocessing(dir), readLabels(dir), integrity, manifest);
    }

    private static Map<String, String> verify(Path dir, Path manifestFile) throws IOException {
        Map<String, String> entries;
        try {
            entries = ExportManifest.read(manifestFile);
        } catch (FileFormatException e) {
            throw new InvalidExportException(e.file(), e.problem(), e);
        }
        for (String name : ExportLayout.REQUIRED_FILES) {
            if (!entries.containsKey(name)) {
                throw new InvalidExportException(
                        manifestFile,
                        "does not list " + name + ", so it is not this export's manifest; re-export the run "
                                + "(sef-onnx export --run DIR), which writes it last");
            }
        }
        for (Map.Entry<String, String> entry : entries.entrySet()) {
            Path file = dir.resolve(entry.getKey());
            if (!Files.isRegularFile(file)) {
                throw new InvalidExportException(file, "listed in " + ExportLayout.MANIFEST + " but missing");
            }
            String actual = ExportManifest.sha256(file);
            if (!actual.equals(entry.getValue())) {
                throw new InvalidExportException(
                        file,
                        "its SHA-256 is " + actual + ", but " + ExportLayout.MANIFEST + " records " + entry.getValue()
                                + ": the file was damaged or changed after the export. Re-export the run (sef-onnx export "
                                + "--run DIR); if you changed it on purpose, rewrite the manifest (sha256sum) or turn the "
                                + "check off (predict --no-verify-manifest, Options.withVerifyManifest(false))");
            }
        }
        return Map.copyOf(entries);
    }

    private static PreprocessingSpec readPreprocessing(Path dir) throws IOException {
        Path file = dir.resolve(ExportLayout.PREPROCESSING);
        try {
            return PreprocessingSpec.read(file);
        } catch (IllegalArgumentException e) {
            String prefix = file + ": ";
            String problem =
                    e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
            throw new InvalidExportException(file, problem, e);
        }
    }

    private static List<String> readLabels(Path dir) throws IOException {
        try {
            return LabelFile.read(dir.resolve(ExportLayout.LABELS));
        } catch (FileFormatException e) {
            throw new InvalidExportException(e.file(), e.problem(), e);
        }
    }

    /** The directory. */
    public Path dir() {
        return dir;
    }

    /** {@code name}'s path in the directory. */
    public Path file(String name) {
        return dir.resolve(name);
    }

    /** Class names in index order. */
    public List<String> labels() {
        return labels;
    }

    /** The evaluation transform, with the EXIF rule images are decoded by. */
    public PreprocessingSpec preprocessing() {
        return preprocessing;
    }

    public Integrity integrity() {
        return integrity;
    }

    /** The SHA-256 the manifest records for {@code name}; empty when the files were not checked or it is not listed. */
    public Optional<String> recordedSha256(String name) {
        return Optional.ofNullable(manifest.get(name));
    }

    /**
     * An older export's separate explain model, if it has one: with a verified manifest only when the manifest lists
     * it (a file it does not vouch for is not read).
     */
    Optional<Path> legacyExplainModel() {
        Path file = dir.resolve(ExportLayout.LEGACY_EXPLAIN_MODEL);
        boolean vouched = integrity != Integrity.VERIFIED || manifest.containsKey(ExportLayout.LEGACY_EXPLAIN_MODEL);
        return Files.isRegularFile(file) && vouched ? Optional.of(file) : Optional.empty();
    }

    /**
     * Checks what a session read of {@code modelFile} against the contract and the other files: input float
     * [batch, 3, H, W] with H x W the crop, {@link ExportLayout#PREDICTION_OUTPUTS} [batch, K] with K labels and the
     * transform's numClasses K; the {@link ExportLayout#EXPLAIN_OUTPUTS} both or neither, with the recorded group split
     * (metadata {@value ExportLayout#GROUP_SPLIT_METADATA}) agreeing with their shapes.
     */
    Signature checkModel(
            Path modelFile, Map<String, NodeInfo> inputs, Map<String, NodeInfo> outputs, Map<String, String> metadata) {
        NodeInfo input = inputs.get(ExportLayout.MODEL_INPUT);
        if (input == null || inputs.size() != 1) {
            throw new InvalidExportException(
                    modelFile,
                    "inputs are " + inputs.keySet() + ", expected exactly ['" + ExportLayout.MODEL_INPUT
                            + "'] (float [batch, 3, H, W])");
        }
        long[] inputShape = floatTensorShape(modelFile, input);
        if (inputShape.length != 4
                || inputShape[1] != 3
                || !fits(inputShape[2], preprocessing.cropHeight())
                || !fits(inputShape[3], preprocessing.cropWidth())) {
            throw new InvalidExportException(
                    modelFile,
                    "input '" + ExportLayout.MODEL_INPUT + "' has shape " + Arrays.toString(inputShape) + ", but "
                            + ExportLayout.PREPROCESSING + " crops to " + preprocessing.cropWidth() + "x"
                            + preprocessing.cropHeight() + ": expected [batch, 3, " + preprocessing.cropHeight() + ", "
                            + preprocessing.cropWidth() + "]");
        }
        long classes = -1;
        for (String name : ExportLayout.PREDICTION_OUTPUTS) {
            long[] shape = outputShape(modelFile, outputs, name);
            if (shape.length != 2 || shape[1] < 1 || (classes != -1 && shape[1] != classes)) {
                throw new InvalidExportException(
                        modelFile,
                        "output '" + name + "' has shape " + Arrays.toString(shape)
                                + ", expected [batch, K] with K fixed and equal for logits and probabilities");
            }
            classes = shape[1];
        }
        if (labels.size() != classes) {
            throw new InvalidExportException(
                    file(ExportLayout.LABELS),
                    labels.size() + " labels, but output '" + TensorNames.LOGITS + "' of " + modelFile.getFileName()
                            + " has " + classes + " classes (one label per line, in class-index order)");
        }
        if (preprocessing.numClasses() != classes) {
            throw new InvalidExportException(
                    file(ExportLayout.PREPROCESSING),
                    "numClasses is " + preprocessing.numClasses() + ", but output '" + TensorNames.LOGITS + "' of "
                            + modelFile.getFileName() + " has " + classes + " classes");
        }
        long present = ExportLayout.EXPLAIN_OUTPUTS.stream()
                .filter(outputs::containsKey)
                .count();
        if (present == 0) return new Signature((int) classes, false, null);
        if (present != ExportLayout.EXPLAIN_OUTPUTS.size()) {
            throw new InvalidExportException(
                    modelFile,
                    "has only some of the explain outputs " + ExportLayout.EXPLAIN_OUTPUTS + " (outputs: "
                            + outputs.keySet() + "); re-export the run");
        }
        long[] features = outputShape(modelFile, outputs, TensorNames.FEATURE_MAP);
        long[] groupLogits = outputShape(modelFile, outputs, TensorNames.GROUP_LOGITS);
        if (features.length != 4 || groupLogits.length != 3 || !fits(groupLogits[2], classes)) {
            throw new InvalidExportException(
                    modelFile,
                    "explain outputs '" + TensorNames.FEATURE_MAP + "' " + Arrays.toString(features) + " and '"
                            + TensorNames.GROUP_LOGITS + "' " + Arrays.toString(groupLogits)
                            + ", expected [batch, C, h, w] and [batch, G, " + classes + "]");
        }
        String recorded = metadata.get(ExportLayout.GROUP_SPLIT_METADATA);
        GroupSplit groups = null;
        if (recorded != null) {
            try {
                groups = GroupSplit.parse(recorded);
            } catch (IllegalArgumentException e) {
                throw new InvalidExportException(
                        modelFile, "metadata '" + ExportLayout.GROUP_SPLIT_METADATA + "': " + e.getMessage(), e);
            }
            checkGroups(modelFile, groups, features[1], groupLogits[1]);
        }
        return new Signature((int) classes, true, groups);
    }

    /** The recorded split, or SEF's split derived from the outputs' shapes (older exports record none); checked against them. */
    static GroupSplit groupsOf(Path modelFile, GroupSplit recorded, long featureChannels, long groups) {
        GroupSplit split = recorded != null ? recorded : GroupSplit.even((int) featureChannels, (int) groups);
        checkGroups(modelFile, split, featureChannels, groups);
        return split;
    }

    private static void checkGroups(Path modelFile, GroupSplit split, long featureChannels, long groups) {
        if (!fits(featureChannels, split.featureChannels()) || !fits(groups, split.groups())) {
            throw new InvalidExportException(
                    modelFile,
                    "metadata '" + ExportLayout.GROUP_SPLIT_METADATA + "' is " + split.toText() + " ("
                            + split.groups() + " groups of " + split.featureChannels()
                            + " channels), but its outputs have "
                            + groups + " group heads and a feature map of " + featureChannels + " channels");
        }
    }

    private static long[] outputShape(Path modelFile, Map<String, NodeInfo> outputs, String name) {
        NodeInfo output = outputs.get(name);
        if (output == null) {
            throw new InvalidExportException(
                    modelFile, "has no output '" + name + "' (outputs: " + outputs.keySet() + ")");
        }
        return floatTensorShape(modelFile, output);
    }

    private static boolean fits(long modelDim, long wanted) {
        return modelDim < 0 || modelDim == wanted;
    }

    private static long[] floatTensorShape(Path modelFile, NodeInfo node) {
        if (!(node.getInfo() instanceof TensorInfo tensor) || tensor.type != OnnxJavaType.FLOAT) {
            throw new InvalidExportException(
                    modelFile, "'" + node.getName() + "' is " + node.getInfo() + ", expected a float tensor");
        }
        return tensor.getShape();
    }
}
