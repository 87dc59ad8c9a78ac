package org.sefonnx.validation.infer;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import org.sefonnx.generator.golden.GoldenTensors;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.imaging.Preprocessor;

/**
 * The golden model of {@link GoldenTensors} and this module's helpers around it. The golden file and the pictures are
 * runtime-infer's committed test resources, read here from its test-jar (on the classpath, never written).
 */
final class GoldenModel extends GoldenTensors {
    static final PreprocessingSpec PREPROCESSING = PreprocessingSpec.resize(32).withModel(SPEC.id(), SPEC.numClasses());

    private GoldenModel() {}

    /** The committed golden file, as runtime-infer's GoldenLogitsTest reads it. */
    static Properties committedGolden() throws IOException {
        Properties golden = new Properties();
        try (Reader in = new InputStreamReader(resource(GOLDEN_FILE), StandardCharsets.UTF_8)) {
            golden.load(in);
        }
        return golden;
    }

    /**
     * Where {@code -Dsef.regenerateGoldens=true} writes a new golden file: this module's build folder (tests run in
     * the module directory); a person reviews it and copies it over runtime-infer's {@link #GOLDEN_FILE}.
     */
    static Path regeneratedGolden() {
        Path module = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
        return module.resolve("target/regenerated-goldens").resolve(GOLDEN_FILE);
    }

    /** The pictures decoded and preprocessed as the exported classifier does it: [n, 3, 32, 32] NCHW floats. */
    static float[] preprocessedImages() {
        Preprocessor preprocessor = new Preprocessor(PREPROCESSING);
        int per = preprocessor.floatsPerImage();
        float[] nchw = new float[IMAGES.size() * per];
        try (ImageDecoder decoder = new ImageDecoder()) {
            for (int i = 0; i < IMAGES.size(); i++) {
                String name = "images/" + IMAGES.get(i);
                byte[] bytes;
                try (InputStream in = resource(name)) {
                    bytes = in.readAllBytes();
                } catch (IOException e) {
                    throw new UncheckedIOException(name, e);
                }
                preprocessor.apply(decoder.decode(bytes, name), java.nio.FloatBuffer.wrap(nchw), i * per);
            }
        }
        return nchw;
    }

    private static InputStream resource(String relative) {
        InputStream in = GoldenModel.class.getResourceAsStream("/" + relative);
        if (in == null) {
            throw new IllegalStateException(
                    "test resource " + relative + " is missing: it comes from sef-onnx-runtime-infer's test-jar");
        }
        return in;
    }
}
