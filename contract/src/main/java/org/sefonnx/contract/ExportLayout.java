package org.sefonnx.contract;

import java.util.ArrayList;
import java.util.List;

/**
 * The files of an inference export, what runtime-train writes and runtime-infer (and runtime-spark) read: one model
 * with the prediction and the explain outputs, its class names, its evaluation transform, and the manifest of their
 * hashes, written last.
 */
public final class ExportLayout {
    /**
     * The backbone and both heads: {@link #MODEL_INPUT} in, {@link #MODEL_OUTPUTS} out. Prediction requests only
     * {@link #PREDICTION_OUTPUTS}; SefClassifier.explain also the {@link #EXPLAIN_OUTPUTS}. One file rather than a
     * second model with the same weights: the explain outputs add the group heads (G x C/G x K weights, 0.4 MB at
     * ResNet-18, K=200) and, measured on a 2-core AMD EPYC (AVX-512) with 2 ORT threads at 224 px, leave prediction's time
     * unchanged (median 43.3 vs 43.2 ms at batch 1, 188.1 vs 187.7 ms at batch 8), while a second file doubled the
     * export (45 MB each at ResNet-18).
     */
    public static final String MODEL = "model.onnx";
    /** The class names in index order ({@link LabelFile}). */
    public static final String LABELS = LabelFile.FILE_NAME;
    /** The evaluation transform (runtime-infer's PreprocessingSpec). */
    public static final String PREPROCESSING = "preprocessing.properties";
    /** The SHA-256 of every other file ({@link ExportManifest}), written last. */
    public static final String MANIFEST = ExportManifest.FILE_NAME;
    /**
     * What exports held before the explain outputs moved into {@link #MODEL}: the same model with {@link #MODEL_OUTPUTS},
     * next to a model.onnx with only {@link #PREDICTION_OUTPUTS}. Read for such exports, never written.
     */
    public static final String LEGACY_EXPLAIN_MODEL = "explain_model.onnx";

    /**
     * An int8 export's record of how it was made and the accuracy gate it passed (calibration, float32 and int8
     * accuracy, the layers kept in float32, the worst layers), listed in its manifest; float32 exports have none.
     */
    public static final String QUANTIZATION_REPORT = "quantization.txt";

    /** The files every export holds besides the manifest, in the order runtime-spark's bundle identity lists them. */
    public static final List<String> REQUIRED_FILES = List.of(MODEL, LABELS, PREPROCESSING);

    /** The one input of the model. */
    public static final String MODEL_INPUT = TensorNames.IMAGES;
    /** What a prediction reads: the global head's logits and probabilities [batch, K]. */
    public static final List<String> PREDICTION_OUTPUTS = List.of(TensorNames.LOGITS, TensorNames.PROBABILITIES);
    /** What an explanation reads besides: the last feature map [batch, C, h, w] and the group heads' logits [batch, G, K]. */
    public static final List<String> EXPLAIN_OUTPUTS = List.of(TensorNames.FEATURE_MAP, TensorNames.GROUP_LOGITS);
    /** The outputs ExportModelForInferencing keeps for {@link #MODEL}: the prediction's, then the explain ones. */
    public static final List<String> MODEL_OUTPUTS = concat(PREDICTION_OUTPUTS, EXPLAIN_OUTPUTS);
    /** The key of {@link #MODEL}'s metadata that records its {@link GroupSplit} ({@link GroupSplit#toText}). */
    public static final String GROUP_SPLIT_METADATA = "sef.group_channels";

    private ExportLayout() {}

    private static List<String> concat(List<String> first, List<String> second) {
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        return List.copyOf(all);
    }
}
