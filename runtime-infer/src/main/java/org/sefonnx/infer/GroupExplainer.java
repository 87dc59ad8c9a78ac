package org.sefonnx.infer;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.GroupSplit;
import org.sefonnx.contract.Softmax;
import org.sefonnx.contract.TensorNames;

/**
 * SEF's explanation of one image from the model's explain outputs (the paper's Fig. 4): per channel group its
 * activation map (the mean over the group's channels of the last feature map) and its head's top-1, with the group
 * split the export records (older exports: derived by SEF's rule from the outputs' shapes) and the same arithmetic
 * as the trainer's explain figures ({@link GroupSplit#map}, {@link Softmax}). The outputs come from model.onnx, or for
 * an older export from its explain_model.onnx, which this explainer then opened and owns.
 */
final class GroupExplainer implements AutoCloseable {
    private final OrtSession session;
    private final boolean ownsSession;
    private final Path modelFile;
    private final GroupSplit recorded;
    private final ImageTranslator translator;
    private final List<String> labels;

    private GroupExplainer(
            OrtSession session,
            boolean ownsSession,
            Path modelFile,
            GroupSplit recorded,
            ImageTranslator translator,
            List<String> labels) {
        this.session = session;
        this.ownsSession = ownsSession;
        this.modelFile = modelFile;
        this.recorded = recorded;
        this.translator = translator;
        this.labels = labels;
    }

    /**
     * The explainer of {@code export}: on {@code model} when its signature has the explain outputs, else on the older
     * export's explain_model.onnx; an export with neither is refused naming model.onnx.
     */
    static GroupExplainer open(
            ExportDirectory export,
            OrtSessions.Checked model,
            SefClassifier.Options options,
            ImageTranslator translator) {
        Path modelFile = export.file(ExportLayout.MODEL);
        if (model.signature().explains()) {
            return new GroupExplainer(
                    model.session(), false, modelFile, model.signature().recordedGroups(), translator, export.labels());
        }
        Path legacy = export.legacyExplainModel()
                .orElseThrow(() -> new InvalidExportException(
                        modelFile,
                        "has no explain outputs " + ExportLayout.EXPLAIN_OUTPUTS + " (an older export) and the export "
                                + "has no " + ExportLayout.LEGACY_EXPLAIN_MODEL + " its manifest vouches for: export "
                                + "the run again with `sef-onnx export --run DIR`, which writes them into "
                                + ExportLayout.MODEL));
        OrtSessions.Checked opened = OrtSessions.open(export, legacy, options);
        if (!opened.signature().explains()) {
            InvalidExportException e = new InvalidExportException(
                    legacy, "has no explain outputs " + ExportLayout.EXPLAIN_OUTPUTS + ": export the run again");
            OrtSessions.close(opened.session(), e);
            throw e;
        }
        return new GroupExplainer(
                opened.session(), true, legacy, opened.signature().recordedGroups(), translator, export.labels());
    }

    /** The session whose run gives {@link ExportLayout#MODEL_OUTPUTS}. */
    OrtSession session() {
        return session;
    }

    /**
     * The explanation of one image from a run of {@link #session} on it alone: the global top-{@code k}, then per
     * group the map of {@code feature_map} [1, C, h, w] and the top-1 of {@code group_logits} [1, G, K]; a NaN or
     * infinite output is a {@link NonFiniteOutputException}, never an explanation.
     */
    Explanation explain(String image, String modelId, OrtSession.Result result, int k) {
        SefClassifier.ImageResult global = translator.processOutput(
                image,
                modelId,
                OrtSessions.rows(result, TensorNames.LOGITS, 1)[0],
                OrtSessions.rows(result, TensorNames.PROBABILITIES, 1)[0],
                k,
                false);
        if (!global.ok()) throw global.error();
        float[] groupLogits = OrtSessions.rows(result, TensorNames.GROUP_LOGITS, 1)[0];
        NonFiniteOutputException groupsFailed =
                ImageTranslator.nonFinite(image, modelId, TensorNames.GROUP_LOGITS, groupLogits);
        if (groupsFailed != null) throw groupsFailed;
        float[] featureMap = OrtSessions.rows(result, TensorNames.FEATURE_MAP, 1)[0];
        long[] featureShape = OrtSessions.shape(result, TensorNames.FEATURE_MAP);
        int h = (int) featureShape[2], w = (int) featureShape[3], classes = labels.size();
        GroupSplit split = ExportDirectory.groupsOf(
                modelFile, recorded, featureShape[1], OrtSessions.shape(result, TensorNames.GROUP_LOGITS)[1]);
        List<float[]> maps = new ArrayList<>(split.groups());
        List<Prediction> groupPredictions = new ArrayList<>(split.groups());
        for (int g = 0; g < split.groups(); g++) {
            maps.add(split.map(featureMap, 0, h * w, g));
            double[] p = Softmax.of(groupLogits, g * classes, classes);
            int best = Softmax.argmax(p);
            groupPredictions.add(new Prediction(labels.get(best), best, (float) p[best]));
        }
        return new Explanation(global.predictions(), h, w, maps, groupPredictions);
    }

    /** Closes the older export's explain session if this explainer opened one. */
    @Override
    public void close() throws OrtException {
        if (ownsSession) session.close();
    }
}
