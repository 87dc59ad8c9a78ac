package org.sefonnx.train.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.weights.Fixtures;
import org.sefonnx.generator.weights.PretrainedImport;
import org.sefonnx.generator.weights.SafeTensors;
import picocli.CommandLine;

/** `sef-onnx generate --pretrained`: the imported checkpoint is what is written, and a misfit is refused before any write. */
class GenerateCommandTest {
    static final ModelSpec SPEC = Fixtures.R18;

    @TempDir
    Path dir;

    @Test
    void generateWithPretrainedWritesTheImportedCheckpoint() throws Exception {
        Map<String, float[]> values = Fixtures.pretrained(SPEC, 12);
        Path weights = dir.resolve("resnet18.safetensors");
        SafeTensors.write(weights, Fixtures.safeTensors(SPEC, values, ""), Map.of());
        Path out = dir.resolve("artifacts");
        int code = new CommandLine(new GenerateCommand())
                .execute(
                        "--id",
                        SPEC.id(),
                        "--depth",
                        "18",
                        "--classes",
                        "5",
                        "--groups",
                        "2",
                        "--image-size",
                        "32",
                        "--seed",
                        "3",
                        "--pretrained",
                        weights.toString(),
                        "--out",
                        out.toString());
        assertEquals(0, code);
        Checkpoint ck = CheckpointReader.read(out.resolve(ArtifactLayout.CHECKPOINT));
        assertArrayEquals(
                values.get("layer2.1.conv1.weight"),
                ck.tensor("layer2.1.conv1.weight").data());
        assertArrayEquals(
                values.get("bn1.running_mean"), ck.tensor("bn1.running_mean").data());
        assertArrayEquals(
                ArtifactWriter.initialCheckpoint(SPEC, 3)
                        .tensor("group_fc.0.weight")
                        .data(),
                ck.tensor("group_fc.0.weight").data());
        String sha256 =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(weights)));
        assertEquals(sha256, ck.stringProperties().get(PretrainedImport.PROP_PRETRAINED_SHA256));
        assertNotNull(ck.tensor("fc.weight.momentum"));
        for (TrainingTarget t : TrainingTarget.values())
            assertTrue(Files.exists(out.resolve(t.modelFile())), t.modelFile());
    }

    @Test
    void generateRefusesAMisfitBeforeWritingAnything() throws Exception {
        Map<String, float[]> values = Fixtures.pretrained(SPEC, 12);
        values.remove("layer4.0.downsample.0.weight");
        Path weights = dir.resolve("partial.safetensors");
        SafeTensors.write(weights, Fixtures.safeTensors(SPEC, values, ""), Map.of());
        Path out = dir.resolve("never");
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(captured, true));
            code = new CommandLine(new GenerateCommand())
                    .execute(
                            "--id",
                            SPEC.id(),
                            "--depth",
                            "18",
                            "--classes",
                            "5",
                            "--groups",
                            "2",
                            "--image-size",
                            "32",
                            "--pretrained",
                            weights.toString(),
                            "--out",
                            out.toString());
        } finally {
            System.setErr(err);
        }
        assertEquals(2, code);
        assertFalse(Files.exists(out), "nothing written");
        assertTrue(
                captured.toString().contains("missing: layer4.0.downsample.0.weight [512, 256, 1, 1]"),
                captured.toString());
    }
}
