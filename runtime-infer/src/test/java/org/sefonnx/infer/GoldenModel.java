package org.sefonnx.infer;

import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.InferenceGraph;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.imaging.PreprocessingSpec;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model behind the golden logits, rebuilt without ONNX Runtime's training API: the initial checkpoint of
 * {@link #SPEC} drawn from {@link #INIT_SEED}, with every BatchNorm's weight, bias, running mean and running variance
 * replaced by a fixed formula so that eval-mode normalisation is not the identity. The validation module holds a
 * copy of this class (validation/.../infer/GoldenModel.java, which feeds the same tensors to a training session's
 * EvalStep); the golden file records {@link #sha256} of the tensors, so the two copies cannot drift apart unnoticed.
 */
final class GoldenModel {
    static final ModelSpec SPEC = ModelSpec.of("golden-r18", 18, 5, 2, 32);
    static final long INIT_SEED = 20240611L;
    static final List<String> LABELS = List.of("albatross", "blackbird", "finch", "gull", "warbler");
    /** Under src/test/resources/images (made by {@link FixtureImages}). */
    static final List<String> IMAGES = List.of("bird_on_branch.jpg", "sunset_silhouette.png", "gull_grayscale.jpg", "finch_rgba.png");
    /** Under src/test/resources. */
    static final String GOLDEN_FILE = "golden/golden-r18-logits.properties";
    static final PreprocessingSpec PREPROCESSING = PreprocessingSpec.resize(32).withModel(SPEC.id(), SPEC.numClasses());

    private GoldenModel() {
    }

    /** Checkpoint tensors by name, in the spec's graph order (momentum buffers left out: inference ignores them). */
    static Map<String, float[]> tensors() {
        Map<String, float[]> all = InferenceGraph.tensors(ArtifactWriter.initialCheckpoint(SPEC, INIT_SEED));
        Map<String, float[]> model = new LinkedHashMap<>();
        int layer = 0;
        for (CheckpointTensor t : SefModel.modelTensors(SPEC)) model.put(t.name(), all.get(t.name()));
        for (CheckpointTensor t : SefModel.modelTensors(SPEC)) {
            if (!t.name().endsWith(".running_mean")) continue;
            String prefix = t.name().substring(0, t.name().length() - ".running_mean".length());
            layer++;
            float[] weight = model.get(prefix + ".weight"), bias = model.get(prefix + ".bias");
            float[] mean = model.get(prefix + ".running_mean"), variance = model.get(prefix + ".running_var");
            for (int c = 0; c < mean.length; c++) {
                // StrictMath: bit-identical on every JVM, so the copy in validation computes the same floats
                weight[c] = (float) (1.0 + 0.25 * StrictMath.sin(0.37 * c + layer));
                bias[c] = (float) (0.1 * StrictMath.cos(0.23 * c + 2 * layer));
                mean[c] = (float) (0.2 * StrictMath.sin(0.71 * c + 3 * layer));
                variance[c] = (float) (1.5 + StrictMath.cos(0.29 * c + 5 * layer));
            }
        }
        return model;
    }

    /** SHA-256 of the tensors' names and little-endian float bits, in map order. */
    static String sha256(Map<String, float[]> tensors) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, float[]> e : tensors.entrySet()) {
                digest.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                ByteBuffer bytes = ByteBuffer.allocate(e.getValue().length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(e.getValue());
                digest.update(bytes.array());
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes a complete export directory (model.onnx from {@link InferenceGraph}, labels, preprocessing) into {@code dir}. */
    static Path writeExport(Path dir, Map<String, float[]> tensors) throws IOException {
        InferenceGraph.write(SPEC, tensors, dir.resolve(SefClassifier.MODEL_FILE));
        Files.write(dir.resolve(SefClassifier.LABELS_FILE), LABELS, StandardCharsets.UTF_8);
        PREPROCESSING.write(dir.resolve(PreprocessingSpec.FILE_NAME));
        return dir;
    }

    private static Path sharedExport;

    /** One export directory of the golden model for the whole test JVM (building it takes ~3 s); do not modify it. */
    static synchronized Path sharedExport() throws IOException {
        if (sharedExport == null) {
            Path dir = Files.createTempDirectory("sef-golden-export");
            writeExport(dir, tensors());
            for (String file : List.of(SefClassifier.MODEL_FILE, SefClassifier.LABELS_FILE, PreprocessingSpec.FILE_NAME)) {
                dir.resolve(file).toFile().deleteOnExit();
            }
            dir.toFile().deleteOnExit();
            sharedExport = dir;
        }
        return sharedExport;
    }

    /** The committed golden file (see validation's InferenceExportTest for how it is made). */
    static java.util.Properties golden() throws IOException {
        java.util.Properties golden = new java.util.Properties();
        try (java.io.Reader in = Files.newBufferedReader(resource(GOLDEN_FILE), StandardCharsets.UTF_8)) {
            golden.load(in);
        }
        return golden;
    }

    /** Golden logits of picture {@code image}. */
    static float[] goldenLogits(java.util.Properties golden, String image) {
        String[] values = golden.getProperty("logits." + image).split(",");
        float[] logits = new float[values.length];
        for (int k = 0; k < values.length; k++) logits[k] = Float.parseFloat(values[k]);
        return logits;
    }

    static Path resource(String relative) {
        try {
            return Path.of(GoldenModel.class.getResource("/" + relative).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource " + relative + " is missing", e);
        }
    }

    static Path image(String name) {
        return resource("images/" + name);
    }
}
