package org.sefonnx.validation.infer;

import org.sefonnx.generator.golden.GoldenTensors;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.imaging.Preprocessor;
import org.sefonnx.imaging.ImageDecoder;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The golden model of {@link GoldenTensors} and this module's helpers around it. */
final class GoldenModel extends GoldenTensors {
    static final PreprocessingSpec PREPROCESSING = PreprocessingSpec.resize(32).withModel(SPEC.id(), SPEC.numClasses());

    private GoldenModel() {
    }

    /** runtime-infer's test resources, where the golden file and the pictures live (tests run in the module directory). */
    static Path inferResources() {
        Path module = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
        return module.resolveSibling("runtime-infer").resolve("src/test/resources");
    }

    static Path image(String name) {
        return inferResources().resolve("images").resolve(name);
    }

    /** The pictures decoded and preprocessed as the exported classifier does it: [n, 3, 32, 32] NCHW floats. */
    static float[] preprocessedImages() {
        Preprocessor preprocessor = new Preprocessor(PREPROCESSING);
        int per = preprocessor.floatsPerImage();
        float[] nchw = new float[IMAGES.size() * per];
        try (ImageDecoder decoder = new ImageDecoder()) {
            for (int i = 0; i < IMAGES.size(); i++) {
                preprocessor.apply(decoder.decode(image(IMAGES.get(i))), java.nio.FloatBuffer.wrap(nchw), i * per);
            }
        }
        return nchw;
    }
}
