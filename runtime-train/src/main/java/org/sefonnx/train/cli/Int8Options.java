package org.sefonnx.train.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import org.sefonnx.generator.quantize.CalibrationMethod;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.int8.Int8Exporter;
import org.sefonnx.train.run.loop.RunSplits;
import org.sefonnx.train.run.state.RunDirectory;
import picocli.CommandLine.Option;

/** How the int8 export is calibrated and gated: shared by `export --precision int8` and `train --export-int8`. */
public final class Int8Options {
    @Option(
            names = "--calibration-images",
            defaultValue = "" + Int8Exporter.DEFAULT_CALIBRATION_IMAGES,
            description = "int8: training images (a seeded sample, the run's seed) whose activations set the ranges.")
    int calibrationImages;

    @Option(
            names = "--calibration",
            defaultValue = "minmax,percentile:99.999,percentile:99.99",
            description = "int8: calibration methods to try (minmax, percentile:P); the one with the best top-1 on the "
                    + "run's selecting split is kept.")
    String calibration;

    @Option(
            names = "--max-accuracy-drop",
            defaultValue = Int8Exporter.DEFAULT_MAX_ACCURACY_DROP,
            description = "int8: the most top-1 (percentage points) the int8 model may lose against float32 on the "
                    + "run's selecting split; beyond it no int8 model is written (exit code 3).")
    double maxAccuracyDrop;

    @Option(
            names = "--float-layers",
            split = ",",
            description = "int8: convolutions or residual adds to keep in float32 (e.g. conv1,layer4.1.conv2).")
    String[] floatLayers;

    @Option(
            names = "--max-float-layers",
            defaultValue = Int8Exporter.DEFAULT_MAX_FLOAT_LAYERS,
            description =
                    "int8: while the drop is too large, how many more layers (the worst first) may move to float32.")
    int maxFloatLayers;

    Int8Exporter.Settings settings() {
        Set<String> floats = floatLayers == null ? Set.of() : new LinkedHashSet<>(Arrays.asList(floatLayers));
        return new Int8Exporter.Settings(
                calibrationImages, CalibrationMethod.parseList(calibration), maxAccuracyDrop, floats, maxFloatLayers);
    }

    /**
     * The int8 twin of the complete float32 export {@code fp32Export} of the run in {@code run}, into {@code out};
     * returns the exit code: 0 written, {@link SefOnnx#EXIT_INT8_REFUSED} refused by the gate.
     */
    int export(Path run, Path fp32Export, Path out, PrintStream log) throws IOException {
        RunDirectory dir = new RunDirectory(run);
        Int8Exporter.Settings s = settings();
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx-int8")) {
            Int8Exporter.Outcome outcome =
                    Int8Exporter.export(ort, fp32Export, RunSplits.of(dir), s, out, dir.int8Gate(), log);
            return outcome.written() ? 0 : SefOnnx.EXIT_INT8_REFUSED;
        }
    }
}
