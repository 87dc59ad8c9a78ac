package org.sefonnx.infer;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.generator.golden.GoldenTensors;
import org.sefonnx.imaging.PreprocessingSpec;

/** The golden model of {@link GoldenTensors} and this module's helpers around it. */
final class GoldenModel extends GoldenTensors {
    static final PreprocessingSpec PREPROCESSING = PreprocessingSpec.resize(32).withModel(SPEC.id(), SPEC.numClasses());

    private GoldenModel() {}

    private static Path sharedExport;

    /** One export directory of the golden model for the whole test JVM (building it takes ~3 s); do not modify it. */
    static synchronized Path sharedExport() throws IOException {
        if (sharedExport == null) {
            Path dir = Files.createTempDirectory("sef-golden-export");
            writeExport(dir, tensors(), PREPROCESSING.toText());
            for (String file : List.of(
                    ExportLayout.MODEL, ExportLayout.LABELS, ExportLayout.PREPROCESSING, ExportLayout.MANIFEST)) {
                dir.resolve(file).toFile().deleteOnExit();
            }
            dir.toFile().deleteOnExit();
            sharedExport = dir;
        }
        return sharedExport;
    }

    /** A copy of the shared export whose model gives NaN logits ({@link #copyWithNanWeight}). */
    static Path withNanWeight(Path dir) throws IOException {
        return copyWithNanWeight(sharedExport(), dir);
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
