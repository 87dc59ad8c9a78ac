package org.sefonnx.train.cli;

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

    @Option(names = "--out", description = "Output directory (default: <run>/export).")
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
            Path file = dir.resolve("model.safetensors");
            SafeTensorsExport.write(CheckpointReader.read(ckpt), spec, file, withGroupHeads);
            System.out.println("export: " + file + " (torchvision names; load with resnet" + spec.depth()
                    + "(num_classes=" + spec.numClasses() + ").load_state_dict)");
            return 0;
        }
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
                    System.out);
        }
        return 0;
    }
}
