package org.sefonnx.contract;

import java.util.List;

/**
 * The files of an inference export, what runtime-train writes and runtime-infer (and runtime-spark) read: the
 * inference model, its class names and its evaluation transform, plus the optional explain model.
 */
public final class ExportLayout {
    /** The backbone and the global head: {@link #MODEL_INPUT} in, {@link #MODEL_OUTPUTS} out. */
    public static final String MODEL = "model.onnx";

    public static final String LABELS = LabelFile.FILE_NAME;
    /** The evaluation transform (runtime-infer's PreprocessingSpec). */
    public static final String PREPROCESSING = "preprocessing.properties";
    /** Optional: the same model with {@link #EXPLAIN_MODEL_OUTPUTS}, for SefClassifier.explain. */
    public static final String EXPLAIN_MODEL = "explain_model.onnx";

    /** The files every export holds, in the order runtime-spark's bundle identity lists them. */
    public static final List<String> REQUIRED_FILES = List.of(MODEL, LABELS, PREPROCESSING);

    /** The one input of both models. */
    public static final String MODEL_INPUT = TensorNames.IMAGES;
    /** The outputs ExportModelForInferencing keeps for {@link #MODEL}. */
    public static final List<String> MODEL_OUTPUTS = List.of(TensorNames.LOGITS, TensorNames.PROBABILITIES);
    /** The outputs kept for {@link #EXPLAIN_MODEL}: the model's, then the feature map and the group logits. */
    public static final List<String> EXPLAIN_MODEL_OUTPUTS =
            List.of(TensorNames.LOGITS, TensorNames.PROBABILITIES, TensorNames.FEATURE_MAP, TensorNames.GROUP_LOGITS);

    private ExportLayout() {}
}
