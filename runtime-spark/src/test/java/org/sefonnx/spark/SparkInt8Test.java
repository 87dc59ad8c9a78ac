package org.sefonnx.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.Int8Model;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.infer.SefClassifier;

/** An int8 export goes through Spark as any export: its rows are SefClassifier's on the same export, bit for bit. */
class SparkInt8Test {
    private static final int IMAGES = 12;

    @Test
    void sparkServesAnInt8ExportAsSefClassifierDoes(@TempDir Path dir) throws IOException {
        Path export = TestExport.writeInt8Export(
                Files.createDirectories(dir.resolve("export-int8")),
                PreprocessingSpec.resize(TestExport.SPEC.imageSize())
                        .withModel(TestExport.SPEC.id(), TestExport.SPEC.numClasses())
                        .toText());
        Path images = Files.createDirectories(dir.resolve("images"));
        TestImages.write(images, IMAGES, 22L);
        List<Row> rows;
        try (SparkClassifier classifier = SparkClassifier.open(
                TestSpark.session(), export, SparkClassifier.Options.defaults().withLogits(true))) {
            rows = classifier
                    .transform(ImageFiles.read(TestSpark.session(), images + "/*"))
                    .drop(SparkClassifier.CONTENT)
                    .collectAsList();
        }
        assertEquals(IMAGES, rows.size());
        try (SefClassifier reference =
                SefClassifier.open(export, SefClassifier.Options.defaults().withIntraOpThreads(1))) {
            assertEquals(Int8Model.INT8, reference.precision());
            for (Row row : rows) {
                Path file = Path.of(URI.create(row.getAs(SparkClassifier.PATH)));
                assertNull(row.getAs(SparkClassifier.ERROR), file.toString());
                assertEquals(reference.predict(file).get(0).label(), row.getAs(SparkClassifier.LABEL), file.toString());
                List<Float> logits = row.getList(row.fieldIndex(SparkClassifier.LOGITS));
                float[] values = new float[logits.size()];
                for (int i = 0; i < values.length; i++) values[i] = logits.get(i);
                assertArrayEquals(reference.logits(file), values, file.toString());
            }
        }
    }
}
