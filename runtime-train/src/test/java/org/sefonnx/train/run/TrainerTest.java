package org.sefonnx.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ExportManifest;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.graphs.DemoR18Model;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.data.TransformSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.report.Console;
import org.sefonnx.train.run.session.ModelSteps;
import org.sefonnx.train.run.session.Sessions;
import org.sefonnx.train.run.state.InvalidRunException;
import org.sefonnx.train.run.state.RunCommits;
import org.sefonnx.train.run.state.TrainingDivergedException;

class TrainerTest {
    @TempDir
    static Path shared;

    static Path data;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @BeforeAll
    static void data() throws Exception {
        data = SmallRun.data(shared);
    }

    @Test
    void resumedRunEndsWithTheSameWeightsAsAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Trainer.Result full = new Trainer(SmallRun.options(data, dir.resolve("full"), 3, 0.02), QUIET).train();
        new Trainer(SmallRun.options(data, dir.resolve("split"), 1, 0.02), QUIET).train();
        Trainer.Result resumed = Trainer.resume(dir.resolve("split"), 3, QUIET);

        Checkpoint a = CheckpointReader.read(full.run().checkpoint("last"));
        Checkpoint b = CheckpointReader.read(resumed.run().checkpoint("last"));
        double worst = 0;
        for (Checkpoint.Tensor t : a.trainable())
            worst = Math.max(worst, maxAbsDiff(t.data(), b.tensor(t.name()).data()));
        for (Checkpoint.Tensor t : a.frozen())
            worst = Math.max(worst, maxAbsDiff(t.data(), b.tensor(t.name()).data()));
        System.out.printf("[resume] max |w_resumed - w_uninterrupted| over all checkpoint tensors: %.3g%n", worst);
        assertTrue(worst < 1e-6, "resumed weights, momentum and BN statistics differ by " + worst);
        assertEquals(3L, b.intProperties().get(RunCommits.PROP_EPOCHS_DONE));
        assertEquals(full.metrics().size(), resumed.metrics().size());
        // the learning rate follows StepLR (step 1, γ 0.5) across the resume
        assertEquals(0.005, resumed.metrics().get(2).learningRate(), 1e-12);
        for (String f : List.of(
                "metrics.csv",
                "metrics.jsonl",
                "plots/loss.png",
                "plots/accuracy.png",
                "labels.txt",
                "confusion-best.csv",
                "summary.txt")) {
            assertTrue(Files.size(resumed.run().root().resolve(f)) > 0, f);
        }
        assertEquals(4, Files.readAllLines(resumed.run().metricsCsv()).size(), "header + 3 epochs");
    }

    @Test
    void aRunForAnotherSpecIsRefusedBeforeAnythingIsOverwritten(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        new Trainer(SmallRun.options(data, run, 1, 0.02), QUIET).train();
        byte[] before = Files.readAllBytes(run.resolve("checkpoints/epoch-0001.ckpt"));
        // another spec in run's model.properties: as if the user pointed --resume at a run of another model
        ModelSpec other = ShippedSpecs.demo().withLosses(1, 0.05, 1, ModelSpec.GroupingLossForm.PAPER);
        Files.writeString(run.resolve("artifacts/model.properties"), other.toProperties());
        var e = assertThrows(InvalidRunException.class, () -> Trainer.resume(run, 2, QUIET));
        assertTrue(
                e.getMessage().contains("another model spec") && e.getMessage().contains("groupingLoss"),
                e.getMessage());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(run.resolve("checkpoints/epoch-0001.ckpt"))));
        var again = assertThrows(
                IllegalArgumentException.class, () -> new Trainer(SmallRun.options(data, run, 1, 0.02), QUIET).train());
        assertTrue(again.getMessage().contains("already holds a run"), again.getMessage());
    }

    @Test
    void aDivergingRunStopsNamingTheStepAndTheLastGoodCheckpoint(@TempDir Path dir) {
        var e = assertThrows(
                TrainingDivergedException.class,
                () -> new Trainer(SmallRun.options(data, dir.resolve("nan"), 2, 1e12), QUIET).train());
        assertTrue(e.getMessage().contains("epoch 1, step") && e.getMessage().contains("checkpoint"), e.getMessage());
    }

    @Test
    void exportedModelGivesEvalStepsOutputsRecordsItsGroupsAndHoldsNoTrainingNodes(@TempDir Path dir) throws Exception {
        Trainer.Result r = new Trainer(SmallRun.options(data, dir.resolve("run"), 1, 0.02), QUIET).train();
        Path model = r.export().resolve(ExportLayout.MODEL);
        ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(model));
        assertEquals(
                List.of(ExportLayout.GROUP_SPLIT_METADATA + "=256,256"),
                proto.getMetadataPropsList().stream()
                        .map(p -> p.getKey() + "=" + p.getValue())
                        .toList());
        // one model file, and the manifest written last vouches for the three
        assertEquals(
                ExportLayout.REQUIRED_FILES,
                List.copyOf(ExportManifest.read(r.export().resolve(ExportLayout.MANIFEST))
                        .keySet()));
        for (String file : ExportLayout.REQUIRED_FILES) {
            assertEquals(
                    ExportManifest.sha256(r.export().resolve(file)),
                    ExportManifest.read(r.export().resolve(ExportLayout.MANIFEST))
                            .get(file));
        }
        assertFalse(Files.exists(r.export().resolve(ExportLayout.LEGACY_EXPLAIN_MODEL)));
        assertEquals(
                List.of(ExportLayout.MODEL_INPUT),
                proto.getGraph().getInputList().stream().map(v -> v.getName()).toList());
        assertEquals(
                ExportLayout.MODEL_OUTPUTS,
                proto.getGraph().getOutputList().stream().map(v -> v.getName()).toList());
        long params = 0;
        for (var init : proto.getGraph().getInitializerList()) {
            assertFalse(init.getName().endsWith(".momentum"), init.getName());
            if (DemoR18Model.TRAINABLE_NAMES.contains(init.getName())) {
                long n = 1;
                for (long dim : init.getDimsList()) n *= dim;
                params += n;
            }
        }
        // torchvision resnet18 backbone + the global head + two group heads Linear(256, 10) for explain
        assertEquals(11_176_512L + 512L * 10 + 10 + 2 * (256L * 10 + 10), params);
        for (var node : proto.getGraph().getNodeList()) {
            assertFalse(
                    node.getDomain().equals("com.microsoft")
                            || node.getOpType().contains("Grad")
                            || node.getOpType().equals("SoftmaxCrossEntropyLoss"),
                    node.getOpType());
        }
        try (OrtAdapter ort = OrtAdapter.create("test");
                OrtAdapter.Training t = Sessions.open(
                        ort,
                        DemoR18Model.INSTANCE,
                        r.run().artifacts(),
                        r.run().checkpoint("best"),
                        TrainOptions.Device.CPU,
                        1,
                        OrtAdapter.CudaOptions.defaults(),
                        QUIET);
                OrtAdapter.Inference inf =
                        ort.openInference(model, OrtAdapter.SessionConfig.cpu(1).withoutGraphOptimizations());
                OrtAdapter.Inference fused = ort.openInference(model, OrtAdapter.SessionConfig.cpu(1));
                BatchLoader loader = new BatchLoader(
                        Datasets.open(Layout.IDX, data).test(),
                        TransformSpec.forLayout(Layout.IDX, DemoR18Model.IMAGE_SIZE_PX, false),
                        LoaderOptions.evaluation(8));
                BatchLoader.Epoch it = loader.epoch(0);
                Batch b = it.next()) {
            HostTensor x = HostTensor.view(b.images(), b.shape());
            ModelSteps.Outputs evalOutputs =
                    new ModelSteps(DemoR18Model.INSTANCE, t).eval(x, HostTensor.longs(b.labels(), b.size()));
            float[] eval = evalOutputs.floats(TensorNames.LOGITS);
            float[] exported = inf.run(List.of(ExportLayout.MODEL_INPUT), List.of(x), List.of(TensorNames.LOGITS))
                    .get(0)
                    .toFloats();
            List<HostTensor> explained =
                    inf.run(List.of(ExportLayout.MODEL_INPUT), List.of(x), ExportLayout.EXPLAIN_OUTPUTS);
            for (int i = 0; i < ExportLayout.EXPLAIN_OUTPUTS.size(); i++) {
                String name = ExportLayout.EXPLAIN_OUTPUTS.get(i);
                float[] expected = evalOutputs.floats(name);
                double size = 0;
                for (float v : expected) size = Math.max(size, Math.abs(v));
                assertEquals(0.0, maxAbsDiff(expected, explained.get(i).toFloats()), 2e-6 * Math.max(1, size), name);
            }
            float[] optimized = fused.run(List.of(ExportLayout.MODEL_INPUT), List.of(x), List.of(TensorNames.LOGITS))
                    .get(0)
                    .toFloats();
            double scale = 0;
            for (float v : eval) scale = Math.max(scale, Math.abs(v));
            System.out.printf(
                    "[export] max|logit| %.3g; exported vs EvalStep: %.3g unoptimised, %.3g with ORT's graph fusions%n",
                    scale, maxAbsDiff(eval, exported), maxAbsDiff(eval, optimized));
            assertEquals(0.0, maxAbsDiff(eval, exported), 2e-6 * Math.max(1, scale), "same graph, unoptimised");
            // ORT folds each BatchNorm into its conv once the weights are constants: float32 rounding differs
            assertEquals(0.0, maxAbsDiff(eval, optimized), 1e-5 * Math.max(1, scale));
        }

        // re-exporting over an older export replaces its second model (explain_model.onnx) by model.onnx's outputs
        Path legacy = Files.writeString(r.export().resolve(ExportLayout.LEGACY_EXPLAIN_MODEL), "an older export's");
        String[] cli = org.sefonnx.train.cli.SefOnnxCliTest.run(
                "export", "--run", r.run().root().toString());
        assertEquals("0", cli[0], cli[2]);
        assertFalse(Files.exists(legacy));
        assertEquals(
                ExportLayout.REQUIRED_FILES,
                List.copyOf(ExportManifest.read(r.export().resolve(ExportLayout.MANIFEST))
                        .keySet()));
    }

    @Test
    void pretrainedBackboneIsImportedRecordedAndExportedBackToSafetensors(@TempDir Path dir) throws Exception {
        // a "pretrained" file: another seed's backbone, written under torchvision names
        Path weights = dir.resolve("resnet18.safetensors");
        org.sefonnx.generator.weights.SafeTensorsExport.write(
                org.sefonnx.generator.artifacts.ArtifactWriter.initialCheckpoint(ShippedSpecs.demo(), 99),
                ShippedSpecs.demo(),
                weights);
        TrainOptions base = SmallRun.options(data, dir.resolve("run"), 1, 0.02);
        TrainOptions o = base.toBuilder()
                .epochs(1)
                .threads(1)
                .workers(1)
                .pretrained(weights)
                .keepInitialCheckpoint(true)
                .build();
        Trainer.Result r = new Trainer(o, QUIET).train();
        Checkpoint initial = CheckpointReader.read(r.run().artifacts().resolve("checkpoint"));
        Checkpoint source = org.sefonnx.generator.artifacts.ArtifactWriter.initialCheckpoint(ShippedSpecs.demo(), 99);
        assertEquals(
                0.0,
                maxAbsDiff(
                        source.tensor("layer2.0.conv1.weight").data(),
                        initial.tensor("layer2.0.conv1.weight").data()));
        assertEquals(
                0.0,
                maxAbsDiff(
                        source.tensor("layer2.0.bn1.running_var").data(),
                        initial.tensor("layer2.0.bn1.running_var").data()));
        assertTrue(
                maxAbsDiff(
                                source.tensor("fc.weight").data(),
                                initial.tensor("fc.weight").data())
                        > 0,
                "the global head starts fresh");
        String sha = CheckpointReader.readHeader(r.run().checkpoint("last"))
                .stringProperties()
                .get("pretrained_sha256");
        assertEquals(64, sha.length(), "the run's checkpoints record the source's SHA-256");
        assertTrue(Files.readString(r.run().runProperties()).contains("pretrained.sha256=" + sha));

        String[] cli = org.sefonnx.train.cli.SefOnnxCliTest.run(
                "export", "--run", r.run().root().toString(), "--format", "safetensors", "--checkpoint", "last");
        assertEquals("0", cli[0], cli[2]);
        var exported =
                org.sefonnx.generator.weights.SafeTensors.read(r.run().export().resolve("model.safetensors"));
        Checkpoint last = CheckpointReader.read(r.run().checkpoint("last"));
        float[] conv = exported.tensor("conv1.weight").toFloats();
        assertEquals(0.0, maxAbsDiff(last.tensor("conv1.weight").data(), conv));
    }

    @Test
    void aSlowCpuRunSaysItOnceFromItsTimedFirstBatches(@TempDir Path dir) throws Exception {
        // every reading of the clock is 20 minutes later: the timed batches make the run look days long
        AtomicLong now = new AtomicLong();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(out, true, StandardCharsets.UTF_8);
        Console slow = new Console(log, log, false, () -> now.addAndGet(1_200_000_000_000L));
        TrainOptions o = SmallRun.options(data, dir.resolve("run"), 2, 0.02);
        new Trainer(o, Protocol.AUTHORS, slow).train();
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(1, printed.lines().filter(l -> l.startsWith("estimate: ")).count(), printed);
        assertTrue(printed.contains("for the whole run's 2 epochs on this CPU"), printed);
        assertTrue(printed.contains("--device cuda"), printed);
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
