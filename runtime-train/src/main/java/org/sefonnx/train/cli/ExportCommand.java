package org.sefonnx.train.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.LabelFile;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.weights.SafeTensorsExport;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.export.Exporter;
import org.sefonnx.train.run.session.SpecDescriptor;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunProperties;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `sef-onnx export`: the inference model (backbone + global head) of a run's best or last checkpoint. */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "Export a run's checkpoint as an inference model (" + ExportLayout.MODEL + " + "
                + ExportLayout.LABELS + " + " + ExportLayout.PREPROCESSING + ") for runtime-infer.")
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "Run directory written by `sef-onnx train`.")
    Path runDir;

    @Option(
            names = "--checkpoint",
            defaultValue = "best",
            description = "best (highest test top-1, as the paper reports), last, or a checkpoint file.")
    String checkpoint;

    @Option(names = "--out", description = "Output directory (default: <run>/export, int8: <run>/export-int8).")
    Path out;

    /** What --format writes. */
    enum Format {
        ONNX,
        SAFETENSORS
    }

    static final class Formats extends EnumOption<Format> {
        Formats() {
            super(Format.values());
        }
    }

    /** What --precision writes: the export's arithmetic (not the training arithmetic of a spec's fp32/fp16). */
    enum ExportPrecision {
        FP32,
        INT8
    }

    static final class ExportPrecisions extends EnumOption<ExportPrecision> {
        ExportPrecisions() {
            super(ExportPrecision.values());
        }
    }

    @Option(
            names = "--precision",
            defaultValue = "fp32",
            converter = ExportPrecisions.class,
            completionCandidates = ExportPrecisions.class,
            description = "${COMPLETION-CANDIDATES}: fp32, or int8: a calibrated QDQ model that ONNX Runtime's CPU "
                    + "provider runs in integer kernels, written only when it passes the accuracy gate (README, "
                    + "\"INT8 serving\").")
    ExportPrecision precision;

    @Mixin
    Int8Options int8 = new Int8Options();

    @Option(
            names = "--format",
            defaultValue = "onnx",
            converter = Formats.class,
            completionCandidates = Formats.class,
            description = "${COMPLETION-CANDIDATES}: onnx (" + ExportLayout.MODEL + " + labels + preprocessing, for "
                    + "runtime-infer) or safetensors (model.safetensors under torchvision names, for PyTorch).")
    Format format;

    @Option(
            names = "--with-group-heads",
            description = "safetensors only: also write the SEF group heads (group_fc.*).")
    boolean withGroupHeads;

    @Override
    public Integer call() throws Exception {
        RunDirectory run = new RunDirectory(runDir);
        Path ckpt = run.checkpoint(checkpoint);
        Path specFile = run.artifacts().resolve(ArtifactLayout.SPEC);
        ModelSpec spec = ModelSpec.parse(Files.readString(specFile), specFile.toString());
        ModelDescriptor d = SpecDescriptor.of(spec);
        Path dir = out != null ? out : run.export();
        if (format == Format.SAFETENSORS) {
            if (precision != ExportPrecision.FP32)
                throw new IllegalArgumentException("--format safetensors writes float32 weights; drop --precision");
            Path file = dir.resolve("model.safetensors");
            SafeTensorsExport.write(CheckpointReader.read(ckpt), spec, file, withGroupHeads);
            System.out.println("export: " + file + " (torchvision names; load with resnet" + spec.depth()
                    + "(num_classes=" + spec.numClasses() + ").load_state_dict)");
            return 0;
        }
        if (precision == ExportPrecision.FP32) {
            exportFloat(run, d, ckpt, spec, dir, System.out);
            return 0;
        }
        int8.settings(); // bad int8 options are refused before any work
        // the int8 model is made from the float32 export of the same checkpoint, written aside first (a temporary
        // folder, so that the run folder never holds half of one)
        Path fp32 = Files.createTempDirectory("sef-onnx-export-fp32-");
        try {
            exportFloat(run, d, ckpt, spec, fp32, new PrintStream(PrintStream.nullOutputStream()));
            return int8.export(runDir, fp32, out != null ? out : run.int8Export(), System.out);
        } finally {
            try (var files = Files.list(fp32)) {
                for (Path f : files.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(fp32);
        }
    }

    private static void exportFloat(
            RunDirectory run, ModelDescriptor d, Path ckpt, ModelSpec spec, Path dir, PrintStream log)
            throws java.io.IOException {
        var options = RunProperties.read(run).options();
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx-export")) {
            Exporter.export(
                    ort,
                    d,
                    run.artifacts(),
                    ckpt,
                    options.data().transform(spec.imageSize(), false),
                    options.data().applyExifOrientation(),
                    LabelFile.read(run.labels()),
                    dir,
                    log);
        }
    }
}
