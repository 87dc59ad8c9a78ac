package org.sefonnx.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.imaging.Preprocessor;
import org.sefonnx.imaging.RgbImage;

/** Training-time evaluation and the exported model's preprocessing must feed the network the same floats. */
class EvaluationPreprocessingTest {
    private static final String CUB = "cub/CUB_200_2011/images/";
    private static final List<String> IMAGES = List.of(
            CUB + "001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg",
            CUB + "002.Laysan_Albatross/Laysan_Albatross_0002_1027.jpg", // grayscale JPEG
            CUB + "010.Red_winged_Blackbird/Red_Winged_Blackbird_0002_5140.jpg", // Adobe CMYK JPEG
            "imagefolder/train/cat/b.png",
            "imagefolder/train/dog/d.png", // RGBA PNG
            "cars_annos/car_ims/000001.jpg");

    @Test
    void evaluationTransformsMapToTheirPreprocessingSpecs() {
        assertEquals(
                PreprocessingSpec.resizeAndCenterCrop(600, 600, 448, 448),
                TransformSpec.forLayout(Layout.CUB, TransformSpec.NETWORK_INPUT, false)
                        .toPreprocessingSpec());
        // a training transform's evaluation form: the random crop becomes the centre crop, the flip goes
        assertEquals(
                PreprocessingSpec.resizeAndCenterCrop(600, 600, 448, 448),
                TransformSpec.forLayout(Layout.AIRCRAFT, TransformSpec.NETWORK_INPUT, true)
                        .toPreprocessingSpec());
        assertEquals(
                PreprocessingSpec.resize(448),
                TransformSpec.forLayout(Layout.DOGS, TransformSpec.NETWORK_INPUT, false)
                        .toPreprocessingSpec());
        assertEquals(
                PreprocessingSpec.resize(32),
                TransformSpec.forLayout(Layout.IDX, 32, false).toPreprocessingSpec());
    }

    @Test
    void trainingEvaluationPathAndPreprocessorGiveBitIdenticalFloats() {
        List<TransformSpec> recipes = List.of(
                TransformSpec.forLayout(Layout.CUB, TransformSpec.NETWORK_INPUT, false),
                TransformSpec.forLayout(Layout.CARS, TransformSpec.NETWORK_INPUT, false),
                TransformSpec.forLayout(Layout.IDX, 32, false),
                TransformSpec.resizeAndCrop(40, 28, TransformSpec.Crop.CENTER, false),
                new TransformSpec(57, 33, 21, 30, TransformSpec.Crop.CENTER, false));
        int compared = 0;
        try (ImageDecoder decoder = new ImageDecoder()) {
            for (TransformSpec recipe : recipes) {
                Preprocessor preprocessor = new Preprocessor(recipe.toPreprocessingSpec());
                assertEquals(recipe.floatsPerImage(), preprocessor.floatsPerImage());
                for (String relative : IMAGES) {
                    Path file = Fixtures.data(relative);
                    RgbImage image = new ImageSource.File(file).decode(decoder);
                    FloatBuffer training = FloatBuffer.allocate(recipe.floatsPerImage() + 5);
                    recipe.apply(image, new SplittableRandom(relative.hashCode()), training, 5);
                    float[] expected = new float[recipe.floatsPerImage()];
                    training.get(5, expected);
                    float[] inference = preprocessor.apply(decoder.decode(file));
                    assertArrayEquals(expected, inference, 0f, recipe + " on " + relative);
                    for (int i = 0; i < expected.length; i++) {
                        if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(inference[i])) {
                            throw new AssertionError(
                                    recipe + " on " + relative + ": float " + i + " differs in its bits");
                        }
                    }
                    compared++;
                }
            }
        }
        assertEquals(recipes.size() * IMAGES.size(), compared);
    }
}
