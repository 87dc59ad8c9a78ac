package org.sefonnx.train.run.export;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ExportManifest;
import org.sefonnx.contract.GroupSplit;
import org.sefonnx.contract.LabelFile;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.train.data.TransformSpec;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.session.FinishedRun;
import org.sefonnx.train.run.state.CommitStep;
import org.sefonnx.train.run.state.RunDirectory;

/**
 * The inference export ({@link ExportLayout}): ORT's ExportModelForInferencing of the eval graph pruned to
 * {@link ExportLayout#MODEL_OUTPUTS} (the backbone, the global head and the group heads; the losses fall away), with
 * the group split recorded in its metadata, the labels file, the evaluation preprocessing (so runtime-infer reproduces
 * the test transform without retyping it), and last the SHA-256 manifest of them all.
 */
public final class Exporter {
    private Exporter() {}

    /**
     * The run's end: exports the best checkpoint, verified again before it is read, into the run's export/ (the commit
     * step {@link CommitStep#EXPORT}).
     */
    public static TrainingListener listener(
            RunDirectory run, ModelDescriptor d, TrainOptions o, List<String> classNames, PrintStream log) {
        return new TrainingListener() {
            @Override
            public CommitStep endStep() {
                return CommitStep.EXPORT;
            }

            @Override
            public void runFinished(RunEnd end) throws IOException {
                export(
                        end.ort(),
                        d,
                        run.artifacts(),
                        end.state().verified(run, "best"),
                        o.transform(false),
                        o.data().applyExifOrientation(),
                        classNames,
                        run.export(),
                        log);
            }
        };
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
        try (FinishedRun.EvalSession t = FinishedRun.openEvalSession(
                ort,
                d,
                artifacts,
                checkpoint,
                TrainOptions.Device.CPU,
                1,
                new PrintStream(PrintStream.nullOutputStream()))) {
            AtomicFiles.writeVia(outDir.resolve(ExportLayout.MODEL), model -> {
                t.session().exportForInference(model, ExportLayout.MODEL_OUTPUTS);
                recordGroupSplit(model, new GroupSplit(d.groupChannels()));
            });
        }
        LabelFile.write(outDir.resolve(ExportLayout.LABELS), classNames);
        AtomicFiles.writeString(
                outDir.resolve(ExportLayout.PREPROCESSING),
                evalTransform
                        .toPreprocessingSpec()
                        .withModel(d.modelId(), d.numClasses())
                        .withExifOrientation(applyExifOrientation)
                        .toText());
        // an older export's second model: its outputs are model.onnx's now, and the manifest must not vouch for it
        Files.deleteIfExists(outDir.resolve(ExportLayout.LEGACY_EXPLAIN_MODEL));
        ExportManifest.write(outDir, ExportLayout.REQUIRED_FILES);
        log.println("export: " + outDir + " (" + ExportLayout.MODEL + " from " + checkpoint.getFileName() + ", "
                + ExportLayout.LABELS + ", " + ExportLayout.PREPROCESSING + ", " + ExportLayout.MANIFEST + ")");
        return outDir;
    }

    /** Adds the group split to {@code model}'s metadata ({@link ExportLayout#GROUP_SPLIT_METADATA}), in place. */
    static void recordGroupSplit(Path model, GroupSplit split) throws IOException {
        ModelProto.Builder m = ModelProto.parseFrom(Files.readAllBytes(model)).toBuilder();
        for (int i = m.getMetadataPropsCount() - 1; i >= 0; i--) {
            if (m.getMetadataProps(i).getKey().equals(ExportLayout.GROUP_SPLIT_METADATA)) m.removeMetadataProps(i);
        }
        m.addMetadataProps(StringStringEntryProto.newBuilder()
                .setKey(ExportLayout.GROUP_SPLIT_METADATA)
                .setValue(split.toText()));
        Files.write(model, m.build().toByteArray());
    }
}
