package org.sefonnx.train.run.int8;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ExportManifest;
import org.sefonnx.contract.Int8Model;
import org.sefonnx.generator.quantize.ActivationHistogram;
import org.sefonnx.generator.quantize.BatchNormFolding;
import org.sefonnx.generator.quantize.CalibrationMethod;
import org.sefonnx.generator.quantize.Int8Arithmetic;
import org.sefonnx.generator.quantize.QdqPlan;
import org.sefonnx.generator.quantize.QdqRewrite;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.loop.RunSplits;

/**
 * The int8 twin of a float32 export (docs/int8.md): BatchNorm folded and checked against the export, activations
 * calibrated on training images, one QDQ model per calibration method scored on the selecting split (each checked to
 * run its convolutions as integer kernels), the best kept; while it loses more top-1 than allowed, the layer that adds
 * most error moves to float32, up to a limit. The export is written only when the gate passes; the gate's report is
 * written either way.
 */
public final class Int8Exporter {
    public static final int DEFAULT_CALIBRATION_IMAGES = 300;
    public static final String DEFAULT_MAX_ACCURACY_DROP = "0.5";
    public static final String DEFAULT_MAX_FLOAT_LAYERS = "2";
    /** Calibration images the per-layer errors are measured on (each runs both models with every tensor an output). */
    static final int INSPECTION_IMAGES = 16;

    /**
     * How the int8 model is made and judged.
     *
     * @param calibrationImages how many training images calibrate the ranges
     * @param methods           the calibration methods tried, in order
     * @param maxAccuracyDrop   the most top-1 (percentage points) the int8 model may lose against float32
     * @param floatLayers       convolutions and adds kept in float32 from the start
     * @param maxFloatLayers    how many more layers the gate may move to float32 before it refuses
     */
    public record Settings(
            int calibrationImages,
            List<CalibrationMethod> methods,
            double maxAccuracyDrop,
            Set<String> floatLayers,
            int maxFloatLayers) {
        public Settings {
            if (calibrationImages < 1)
                throw new IllegalArgumentException("--calibration-images must be >= 1, got " + calibrationImages);
            if (methods.isEmpty()) throw new IllegalArgumentException("--calibration needs at least one method");
            if (!(maxAccuracyDrop >= 0) || !Double.isFinite(maxAccuracyDrop))
                throw new IllegalArgumentException(
                        "--max-accuracy-drop must be a number of points >= 0, got " + maxAccuracyDrop);
            if (maxFloatLayers < 0)
                throw new IllegalArgumentException("--max-float-layers must be >= 0, got " + maxFloatLayers);
            methods = List.copyOf(methods);
            floatLayers = Set.copyOf(new LinkedHashSet<>(floatLayers));
        }
    }

    /** Whether the int8 export was written, where, and the gate's report. */
    public record Outcome(boolean written, Path exportDir, String report) {}

    private Int8Exporter() {}

    /**
     * Makes the int8 export of {@code fp32Export} (a complete float32 export directory) into {@code outDir}, calibrated
     * on {@code splits}' training images and gated on its selecting split; the report goes to {@code gateReport}.
     */
    public static Outcome export(
            OrtAdapter ort,
            Path fp32Export,
            RunSplits splits,
            Settings settings,
            Path outDir,
            Path gateReport,
            PrintStream log)
            throws IOException {
        Path fp32Path = fp32Export.resolve(ExportLayout.MODEL);
        ModelProto fp32 = ModelProto.parseFrom(Files.readAllBytes(fp32Path));
        BatchNormFolding.Result folded = BatchNormFolding.fold(fp32);
        QdqPlan.of(folded.model(), settings.floatLayers()); // refuses an unknown --float-layers name before any work
        List<Sample> calibration = Calibration.sample(splits.train(), settings.calibrationImages(), splits.seed());
        if (calibration.isEmpty())
            throw new IllegalArgumentException("the run's training split has no images to calibrate on");
        String modelId = PreprocessingSpec.read(fp32Export.resolve(ExportLayout.PREPROCESSING))
                .modelId();
        Path work = Files.createTempDirectory("sef-onnx-int8-");
        try {
            log.printf(
                    Locale.ROOT,
                    "int8: BatchNorm folded into %d convolutions; calibrating on %d training images%n",
                    folded.foldedConvolutions().size(),
                    calibration.size());
            Calibration.Result cal = Calibration.run(
                    ort,
                    fp32Path,
                    folded.model(),
                    QdqPlan.calibrationCandidates(folded.model()),
                    calibration,
                    splits,
                    work);
            Accuracy fp32Accuracy = Accuracy.of(ort, fp32Path, splits, null, work);
            log.printf(
                    Locale.ROOT,
                    "int8: float32 %s top-1 %.2f %%%n",
                    splits.selectingSplit(),
                    100 * fp32Accuracy.top1());
            Builder builder = new Builder(folded.model(), cal, calibration.size(), splits.seed(), work);

            List<GateReport.Trial> trials = new ArrayList<>();
            for (CalibrationMethod method : settings.methods()) {
                trials.add(builder.score(ort, method, settings.floatLayers(), splits, log));
            }
            GateReport.Trial chosen = trials.stream()
                    .max(Comparator.comparingLong(
                                    (GateReport.Trial t) -> t.accuracy().correct())
                            .thenComparingDouble(t -> t.accuracy().meanClassAccuracy())
                            .thenComparing(t -> -trials.indexOf(t)))
                    .orElseThrow();
            Set<String> floats = new LinkedHashSet<>(settings.floatLayers());
            List<String> moved = new ArrayList<>();
            List<LayerErrors.LayerError> worst = builder.layerErrors(ort, chosen, calibration, splits);
            while (fp32Accuracy.dropTo(chosen.accuracy()) > settings.maxAccuracyDrop()
                    && moved.size() < settings.maxFloatLayers()) {
                String next = worst.stream()
                        .map(LayerErrors.LayerError::layer)
                        .filter(l -> !floats.contains(l))
                        .findFirst()
                        .orElse(null);
                if (next == null) break;
                floats.add(next);
                moved.add(next);
                log.println("int8: the top-1 drop is above " + settings.maxAccuracyDrop() + " points; " + next
                        + " (the layer adding most error) moves to float32");
                chosen = builder.score(ort, chosen.method(), floats, splits, log);
                trials.add(chosen);
                worst = builder.layerErrors(ort, chosen, calibration, splits);
            }
            QdqPlan plan = QdqPlan.of(folded.model(), Set.copyOf(floats));
            GateReport report = new GateReport(
                    modelId,
                    splits.selectingSplit(),
                    fp32Accuracy,
                    trials,
                    chosen,
                    plan.floatWeightedLayers(),
                    moved,
                    settings.maxAccuracyDrop(),
                    calibration.size(),
                    splits.seed(),
                    cal.foldDifference(),
                    plan.integerConvolutions(),
                    Files.size(fp32Path),
                    builder.model(plan, chosen.method(), null).getSerializedSize(),
                    worst);
            String text = report.render();
            AtomicFiles.writeString(gateReport, text);
            log.print(text);
            if (!report.accepted()) return new Outcome(false, null, text);
            write(builder.model(plan, chosen.method(), report), fp32Export, outDir, text);
            log.println("export: " + outDir + " (int8 " + ExportLayout.MODEL + ", " + ExportLayout.LABELS + ", "
                    + ExportLayout.PREPROCESSING + ", " + ExportLayout.QUANTIZATION_REPORT + ", "
                    + ExportLayout.MANIFEST + ")");
            return new Outcome(true, outDir, text);
        } finally {
            deleteTree(work);
        }
    }

    /** The int8 files, then the manifest last (an export is whole exactly when its manifest exists and matches). */
    private static void write(ModelProto int8, Path fp32Export, Path outDir, String report) throws IOException {
        Files.createDirectories(outDir);
        AtomicFiles.write(outDir.resolve(ExportLayout.MODEL), int8.toByteArray());
        for (String copied : List.of(ExportLayout.LABELS, ExportLayout.PREPROCESSING)) {
            AtomicFiles.write(outDir.resolve(copied), Files.readAllBytes(fp32Export.resolve(copied)));
        }
        AtomicFiles.writeString(outDir.resolve(ExportLayout.QUANTIZATION_REPORT), report);
        Files.deleteIfExists(outDir.resolve(ExportLayout.LEGACY_EXPLAIN_MODEL));
        List<String> files = new ArrayList<>(ExportLayout.REQUIRED_FILES);
        files.add(ExportLayout.QUANTIZATION_REPORT);
        ExportManifest.write(outDir, files);
    }

    /** Builds and scores the QDQ models of one folded model and its calibration. */
    private static final class Builder {
        private final ModelProto folded;
        private final Calibration.Result calibration;
        private final int calibrationImages;
        private final long seed;
        private final Path work;

        Builder(ModelProto folded, Calibration.Result calibration, int calibrationImages, long seed, Path work) {
            this.folded = folded;
            this.calibration = calibration;
            this.calibrationImages = calibrationImages;
            this.seed = seed;
            this.work = work;
        }

        /** The int8 model of {@code plan} with {@code method}'s ranges; {@code report} adds the gate's numbers to its metadata. */
        ModelProto model(QdqPlan plan, CalibrationMethod method, GateReport report) {
            return QdqRewrite.rewrite(plan, ranges(plan, method), metadata(plan, method, report), false);
        }

        Map<String, Int8Arithmetic.ActivationParams> ranges(QdqPlan plan, CalibrationMethod method) {
            Map<String, Int8Arithmetic.ActivationParams> params = new LinkedHashMap<>();
            for (String t : plan.calibratedTensors()) {
                ActivationHistogram h = calibration.histograms().get(t);
                float[] range = h.range(method);
                params.put(t, Int8Arithmetic.activation(range[0], range[1]));
            }
            return params;
        }

        Map<String, String> metadata(QdqPlan plan, CalibrationMethod method, GateReport report) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put(Int8Model.PRECISION_METADATA, Int8Model.INT8);
            m.put(Int8Model.INTEGER_CONVOLUTIONS_METADATA, Integer.toString(plan.integerConvolutions()));
            m.put(Int8Model.FLOAT_LAYERS_METADATA, String.join(",", plan.floatWeightedLayers()));
            m.put(
                    Int8Model.CALIBRATION_METADATA,
                    method + " over " + calibrationImages + " training images (seed " + seed + ")");
            if (report != null) m.put(Int8Model.ACCURACY_METADATA, report.accuracyLine());
            return m;
        }

        GateReport.Trial score(
                OrtAdapter ort, CalibrationMethod method, Set<String> floatLayers, RunSplits splits, PrintStream log)
                throws IOException {
            QdqPlan plan = QdqPlan.of(folded, Set.copyOf(floatLayers));
            Path file = work.resolve("candidate.onnx");
            Map<String, String> metadata = metadata(plan, method, null);
            Files.write(
                    file,
                    QdqRewrite.rewrite(plan, ranges(plan, method), metadata, false)
                            .toByteArray());
            Accuracy a = Accuracy.of(ort, file, splits, metadata, work);
            log.printf(
                    Locale.ROOT,
                    "int8: %s%s: %s top-1 %.2f %%%n",
                    method,
                    floatLayers.isEmpty() ? "" : " (float32: " + String.join(", ", floatLayers) + ")",
                    splits.selectingSplit(),
                    100 * a.top1());
            return new GateReport.Trial(method, List.copyOf(floatLayers), a);
        }

        List<LayerErrors.LayerError> layerErrors(
                OrtAdapter ort, GateReport.Trial trial, List<Sample> calibrationImages, RunSplits splits)
                throws IOException {
            QdqPlan plan = QdqPlan.of(folded, Set.copyOf(trial.floatLayers()));
            ModelProto inspected = QdqRewrite.rewrite(plan, ranges(plan, trial.method()), Map.of(), true);
            return LayerErrors.measure(
                    ort,
                    plan,
                    inspected,
                    calibrationImages.subList(0, Math.min(INSPECTION_IMAGES, calibrationImages.size())),
                    splits,
                    work);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
