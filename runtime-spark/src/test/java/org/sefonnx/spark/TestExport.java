package org.sefonnx.spark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.generator.golden.GoldenTensors;
import org.sefonnx.imaging.PreprocessingSpec;

/**
 * Export directories of the golden model of {@link GoldenTensors} (ResNet-18, 5 classes, 32 px), built by the generator;
 * the copies carry no manifest (as older exports), the shared one does.
 */
final class TestExport extends GoldenTensors {
    private static Path shared;

    private TestExport() {}

    /** One export for the whole test JVM (building it takes seconds); do not modify it. */
    static synchronized Path shared() throws IOException {
        if (shared == null) {
            Path dir = writeExport(
                    Files.createTempDirectory("sef-spark-export"),
                    tensors(),
                    PreprocessingSpec.resize(SPEC.imageSize())
                            .withModel(SPEC.id(), SPEC.numClasses())
                            .toText());
            for (String file : ExportLayout.REQUIRED_FILES)
                dir.resolve(file).toFile().deleteOnExit();
            dir.resolve(ExportLayout.MANIFEST).toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            shared = dir;
        }
        return shared;
    }

    /** A copy of the shared export whose preprocessing applies the EXIF orientation ({@code exif.orientation=apply}). */
    static Path exifApplied(Path into) throws IOException {
        for (String file : ExportLayout.REQUIRED_FILES) Files.copy(shared().resolve(file), into.resolve(file));
        Files.writeString(
                into.resolve(ExportLayout.PREPROCESSING),
                PreprocessingSpec.resize(SPEC.imageSize())
                        .withModel(SPEC.id(), SPEC.numClasses())
                        .withExifOrientation(true)
                        .toText());
        return into;
    }

    /** A copy of the shared export whose model gives NaN logits ({@link #copyWithNanWeight}). */
    static Path withNanWeight(Path into) throws IOException {
        return copyWithNanWeight(shared(), into);
    }

    /** A copy of the shared export with other class names in labels.txt: the same weights under a new identity. */
    static Path relabelled(Path into, String labelPrefix) throws IOException {
        for (String file : ExportLayout.REQUIRED_FILES) Files.copy(shared().resolve(file), into.resolve(file));
        List<String> labels = LABELS.stream().map(label -> labelPrefix + label).toList();
        Files.write(into.resolve(ExportLayout.LABELS), labels, StandardCharsets.UTF_8);
        return into;
    }
}
