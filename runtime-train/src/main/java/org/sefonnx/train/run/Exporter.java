package org.sefonnx.train.run;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.LabelFile;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.TransformSpec;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * The inference export ({@link ExportLayout}): ORT's ExportModelForInferencing of the eval graph pruned to logits and probabilities (the
 * backbone and the global head only; the group heads and losses fall away), the labels file, and the evaluation
 * preprocessing, so runtime-infer reproduces the test transform without retyping it.
 */
public final class Exporter {
    private Exporter() {}

    static Path export(
            OrtAdapter ort,
            ModelDescriptor d,
            RunDirectory run,
            TrainOptions o,
            Path checkpoint,
            List<String> classNames,
            PrintStream log)
            throws IOException {
        return export(
                ort,
                d,
                run.artifacts(),
                checkpoint,
                Trainer.transform(o.layout(), o.spec().imageSize(), false),
                o.applyExifOrientation(),
                classNames,
                run.export(),
                log);
    }

    /**
     * Exports {@code checkpoint} (a CPU session is enough: export only reads the weights); {@code applyExifOrientation}
     * is recorded so runtime-infer decodes as training did.
     */
    public static Path export(
            OrtAdapter ort,
            ModelDescriptor d,
            Path artifacts,
            Path checkpoint,
            TransformSpec evalTransform,
            boolean applyExifOrientation,
            List<String> classNames,
            Path outDir,
            PrintStream log)
            throws IOException {
        ModelDescriptor cpu = d;
        Path models = artifacts;
        ModelSpec spec = ModelSpec.parse(d.specProperties(), d.modelId());
        if (spec.precision() != ModelSpec.Precision.FP32) {
            models = ModelArtifacts.float32Twin(spec, artifacts);
            cpu = SpecDescriptor.of(spec.withPrecision(ModelSpec.Precision.FP32));
        }
        try (OrtAdapter.Training t = Sessions.open(
                ort,
                cpu,
                models,
                checkpoint,
                TrainOptions.Device.CPU,
                1,
                false,
                new PrintStream(PrintStream.nullOutputStream()))) {
            t.exportForInference(outDir.resolve(ExportLayout.MODEL), ExportLayout.MODEL_OUTPUTS);
            t.exportForInference(outDir.resolve(ExportLayout.EXPLAIN_MODEL), ExportLayout.EXPLAIN_MODEL_OUTPUTS);
        }
        LabelFile.write(outDir.resolve(ExportLayout.LABELS), classNames);
        AtomicFiles.writeString(
                outDir.resolve(ExportLayout.PREPROCESSING),
                evalTransform
                        .toPreprocessingSpec()
                        .withModel(d.modelId(), d.numClasses())
                        .withExifOrientation(applyExifOrientation)
                        .toText());
        log.println("export: " + outDir + " (" + ExportLayout.MODEL + " and " + ExportLayout.EXPLAIN_MODEL + " from "
                + checkpoint.getFileName() + ", " + ExportLayout.LABELS + ", " + ExportLayout.PREPROCESSING + ")");
        return outDir;
    }
}
