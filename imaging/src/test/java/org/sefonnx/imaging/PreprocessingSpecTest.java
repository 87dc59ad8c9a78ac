package org.sefonnx.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ExportLayout;

class PreprocessingSpecTest {

    @Test
    void writeThenReadGivesTheSameSpecAndTheDocumentedKeys(@TempDir Path dir) throws IOException {
        PreprocessingSpec cub =
                PreprocessingSpec.resizeAndCenterCrop(600, 600, 448, 448).withModel("cub-r50", 200);
        Path file = dir.resolve(ExportLayout.PREPROCESSING);
        Files.writeString(file, cub.toText());
        assertEquals(cub, PreprocessingSpec.read(file));
        String text = Files.readString(file);
        for (String line : new String[] {
            "resize.width=600",
            "resize.height=600",
            "crop.width=448",
            "crop.height=448",
            "mean=0.485,0.456,0.406",
            "std=0.229,0.224,0.225",
            "interpolation=pil-bilinear-antialias",
            "input=images",
            "outputs=logits,probabilities",
            "layout=NCHW",
            "modelId=cub-r50",
            "numClasses=200",
            "exif.orientation=ignore"
        }) {
            assertTrue(text.contains(line + "\n"), line + " missing from\n" + text);
        }
        assertEquals(3 * 448 * 448, cub.floatsPerImage());
        assertEquals(76, cub.cropLeft());
    }

    @Test
    void aByteOrderMarkIsReadAndBytesThatAreNotTextAreRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        PreprocessingSpec cub =
                PreprocessingSpec.resizeAndCenterCrop(600, 600, 448, 448).withModel("cub-r50", 200);
        Path bom = dir.resolve("bom.properties");
        Files.writeString(bom, "\uFEFF" + cub.toText());
        assertEquals(cub, PreprocessingSpec.read(bom));
        Path random = dir.resolve("random.properties");
        byte[] bytes = new byte[256];
        new java.util.SplittableRandom(3).nextBytes(bytes);
        bytes[0] = (byte) 0xC3; // a UTF-8 lead byte without its continuation: never text
        bytes[1] = (byte) 0x28;
        Files.write(random, bytes);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PreprocessingSpec.read(random));
        assertTrue(
                e.getMessage()
                        .startsWith(random + ": is not UTF-8 text; expected the key=value lines `sef-onnx export`"
                                + " writes (modelId, resize.width, ...)"),
                e.getMessage());
    }

    @Test
    void writeRefusesASpecWithoutItsModel(@TempDir Path dir) {
        IllegalStateException e = assertThrows(
                IllegalStateException.class, () -> PreprocessingSpec.resize(32).toText());
        assertTrue(e.getMessage().contains("withModel"), e.getMessage());
    }

    @Test
    void readErrorsNameTheFileTheKeyAndTheExpectedForm(@TempDir Path dir) throws IOException {
        Path file = dir.resolve(ExportLayout.PREPROCESSING);
        Files.writeString(
                file, PreprocessingSpec.resize(32).withModel("demo", 10).toText());
        String good = Files.readString(file);

        Files.writeString(file, good.replace("crop.width=32", "crop.width=wide"), StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PreprocessingSpec.read(file));
        assertEquals(file + ": key 'crop.width' is 'wide', expected a positive integer", e.getMessage());

        Files.writeString(file, good.replace("mean=0.485,0.456,0.406", "mean=0.5,0.5"), StandardCharsets.UTF_8);
        e = assertThrows(IllegalArgumentException.class, () -> PreprocessingSpec.read(file));
        assertTrue(
                e.getMessage().startsWith(file + ": key 'mean'")
                        && e.getMessage().contains("three comma-separated"),
                e.getMessage());

        Files.writeString(
                file,
                good.replace("interpolation=pil-bilinear-antialias", "interpolation=bicubic"),
                StandardCharsets.UTF_8);
        e = assertThrows(IllegalArgumentException.class, () -> PreprocessingSpec.read(file));
        assertTrue(
                e.getMessage().contains("'interpolation' is 'bicubic'")
                        && e.getMessage().contains("pil-bilinear-antialias"),
                e.getMessage());

        Files.writeString(file, good.replace("numClasses=10\n", ""), StandardCharsets.UTF_8);
        e = assertThrows(IllegalArgumentException.class, () -> PreprocessingSpec.read(file));
        assertEquals(file + ": key 'numClasses' is missing, expected a positive integer", e.getMessage());

        Files.writeString(file, good.replace("crop.width=32", "crop.width=40"), StandardCharsets.UTF_8);
        e = assertThrows(IllegalArgumentException.class, () -> PreprocessingSpec.read(file));
        assertTrue(e.getMessage().startsWith(file + ": crop 40x32 is larger than resize 32x32"), e.getMessage());

        NoSuchFileException missing =
                assertThrows(NoSuchFileException.class, () -> PreprocessingSpec.read(dir.resolve("nope.properties")));
        assertTrue(missing.getMessage().contains("nope.properties"), missing.getMessage());
    }

    @Test
    void nonFiniteOr255ScaleStatisticsUnknownAndRepeatedKeysAreRefused(@TempDir Path dir) throws IOException {
        Path file = dir.resolve(ExportLayout.PREPROCESSING);
        String good = PreprocessingSpec.resize(32).withModel("demo", 10).toText();
        String[][] cases = {
            {
                "mean=0.485,0.456,0.406",
                "mean=NaN,0.456,0.406",
                "key 'mean' is 'NaN,0.456,0.406', expected three finite numbers in [0, 1]"
            },
            {
                "mean=0.485,0.456,0.406",
                "mean=123.675,116.28,103.53",
                "key 'mean' is '123.675,116.28,103.53', expected three finite numbers in [0, 1]"
            },
            {
                "std=0.229,0.224,0.225",
                "std=58.395,57.12,57.375",
                "key 'std' is '58.395,57.12,57.375', expected three finite numbers in (0, 1]"
            },
            {"layout=NCHW\n", "layout=NCHW\nmeans=0.5,0.5,0.5\n", "key 'means' is not supported"},
            {"layout=NCHW\n", "layout=NCHW\nmean=0.5,0.5,0.5\n", "key 'mean' appears twice"},
            {
                "exif.orientation=ignore",
                "exif.orientation=rotate",
                "key 'exif.orientation' is 'rotate', expected ignore or apply"
            },
        };
        for (String[] c : cases) {
            assertTrue(good.contains(c[0]), c[0]);
            Files.writeString(file, good.replace(c[0], c[1]), StandardCharsets.UTF_8);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> PreprocessingSpec.read(file), c[1]);
            assertTrue(e.getMessage().startsWith(file + ": " + c[2]), e.getMessage());
        }
        PreprocessingSpec upright =
                PreprocessingSpec.resize(32).withModel("demo", 10).withExifOrientation(true);
        Files.writeString(file, upright.toText());
        assertTrue(Files.readString(file).contains("exif.orientation=apply\n"));
        assertEquals(upright, PreprocessingSpec.read(file));
        assertTrue(PreprocessingSpec.read(file).applyExifOrientation());
    }
}
