package org.sefonnx.train.run.int8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ExportManifest;
import org.sefonnx.contract.Int8Model;
import org.sefonnx.contract.OnnxModelScan;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.quantize.CalibrationMethod;
import org.sefonnx.train.cli.SefOnnx;
import org.sefonnx.train.cli.SefOnnxCliTest;
import org.sefonnx.train.data.DemoData;
import org.sefonnx.train.data.ImageSource;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.Trainer;
import org.sefonnx.train.run.loop.RunSplits;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.RunDirectory;

/**
 * The int8 export of a briefly trained demo run (ResNet-18 at 48 px, 2 epochs of 20 batches): written with its report
 * and precision when calibrated on training images, refused (nothing written, the worst layers named) when calibrated
 * on one black image, whose activation ranges clip every real image.
 */
class Int8GateTest {
    @TempDir
    static Path dir;

    private static Path run;

    @BeforeAll
    static void trainABriefDemoRun() throws IOException {
        Path data = DemoData.extract(dir.resolve("demo-data"));
        run = dir.resolve("run");
        TrainOptions o = TrainOptions.builder(ShippedSpecs.demo(), run)
                .data(Layout.IDX, data)
                .epochs(2)
                .maxBatchesPerEpoch(20)
                .seed(3)
                .device(TrainOptions.Device.CPU)
                .threads(2)
                .build();
        new Trainer(o, new PrintStream(PrintStream.nullOutputStream())).train();
    }

    @Test
    void exportWritesTheInt8TwinWithItsReportAndPrecision() throws IOException {
        Path out = dir.resolve("export-int8");
        String[] r = SefOnnxCliTest.run(
                "export",
                "--run",
                run.toString(),
                "--precision",
                "int8",
                "--out",
                out.toString(),
                "--calibration",
                "minmax",
                "--calibration-images",
                "64",
                "--max-accuracy-drop",
                "5");
        assertEquals("0", r[0], r[2]);
        Map<String, String> manifest = ExportManifest.read(out.resolve(ExportLayout.MANIFEST));
        assertEquals(
                List.of(
                        ExportLayout.MODEL,
                        ExportLayout.LABELS,
                        ExportLayout.PREPROCESSING,
                        ExportLayout.QUANTIZATION_REPORT),
                List.copyOf(manifest.keySet()));
        Map<String, String> metadata = OnnxModelScan.metadata(out.resolve(ExportLayout.MODEL));
        assertEquals(Int8Model.INT8, metadata.get(Int8Model.PRECISION_METADATA));
        assertEquals("20", metadata.get(Int8Model.INTEGER_CONVOLUTIONS_METADATA));
        assertEquals("minmax over 64 training images (seed 3)", metadata.get(Int8Model.CALIBRATION_METADATA));
        assertTrue(metadata.get(Int8Model.ACCURACY_METADATA).startsWith("test split, 1000 images: top-1 float32 "));
        assertTrue(
                metadata.get(ExportLayout.GROUP_SPLIT_METADATA) != null, "the explain outputs keep their group split");
        String report = Files.readString(out.resolve(ExportLayout.QUANTIZATION_REPORT));
        assertTrue(report.contains("verdict: ACCEPTED"), report);
        assertEquals(report, Files.readString(new RunDirectory(run).int8Gate()));
        long fp32 = Files.size(new RunDirectory(run).export().resolve(ExportLayout.MODEL));
        assertTrue(Files.size(out.resolve(ExportLayout.MODEL)) * 3.5 < fp32, "int8 weights are a quarter of float32's");

        String[] unknown = SefOnnxCliTest.run(
                "export", "--run", run.toString(), "--precision", "int8", "--float-layers", "layer9.0.conv1");
        assertEquals(Integer.toString(SefOnnx.EXIT_USAGE), unknown[0]);
        assertTrue(
                unknown[2].contains("'layer9.0.conv1' is not a convolution or residual add of the model"), unknown[2]);
    }

    @Test
    void gateRefusesACalibrationOnOneBlackImageAndNamesTheWorstLayers() throws IOException {
        RunDirectory runDir = new RunDirectory(run);
        RunSplits splits = RunSplits.of(runDir);
        Sample black = new Sample(new ImageSource.Gray("black", 0, 28, 28, new byte[28 * 28]), 0);
        RunSplits blackOnly = new RunSplits(
                List.of(black),
                splits.selecting(),
                splits.selectingSplit(),
                splits.evalTransform(),
                splits.loader(),
                splits.classNames(),
                splits.seed(),
                splits.threads());
        Path out = dir.resolve("export-int8-black");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Int8Exporter.Outcome outcome;
        try (OrtAdapter ort = OrtAdapter.create("int8-gate-test")) {
            outcome = Int8Exporter.export(
                    ort,
                    runDir.export(),
                    blackOnly,
                    new Int8Exporter.Settings(1, List.of(new CalibrationMethod.MinMax()), 0.5, Set.of(), 1),
                    out,
                    runDir.int8Gate(),
                    new PrintStream(log, true, StandardCharsets.UTF_8));
        }
        String report = outcome.report();
        assertFalse(outcome.written(), report);
        assertFalse(Files.exists(out.resolve(ExportLayout.MODEL)), "a refused int8 model is not written");
        assertTrue(report.contains("verdict: REFUSED"), report);
        assertTrue(
                report.contains("moved to float32 by the gate"),
                "the gate tried the worst layer in float32 first: " + report);
        assertTrue(
                report.matches("(?s).*worst layers.*\\n  (conv1|layer\\d\\.\\d\\.\\S+) +added \\d\\.\\d{4}.*"), report);
        assertEquals(report, Files.readString(runDir.int8Gate()));
        assertTrue(log.toString(StandardCharsets.UTF_8).contains(report));
    }
}
