package org.sefonnx.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.sefonnx.infer.ImageInput;
import org.sefonnx.infer.Prediction;
import org.sefonnx.infer.SefClassifier;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The executor side of {@link SparkClassifier#transform}: pulls a partition's rows in batches, hands each batch to
 * this JVM's shared classifier ({@link SefClassifier#predictImages}: the image bytes as they are, each decoded once by
 * the export's EXIF rule, a bad one an error of its own) and appends the prediction columns, lazily, so a partition
 * never sits in memory whole.
 */
final class PartitionPredictor implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<ExportBundle> bundle;
    private final String sha256;
    private final int intraOpThreads;
    private final int topK;
    private final int batchSize;
    private final boolean logits;
    private final int inputIndex;
    private final boolean inputIsBytes;
    /** Column that names a row in its error (the path), or -1 to name it by its position in the partition. */
    private final int originIndex;

    private final Broadcast<HadoopConfiguration> hadoop;
    private final LongAccumulator images;
    private final LongAccumulator failures;
    private final LongAccumulator sessions;

    PartitionPredictor(
            Broadcast<ExportBundle> bundle,
            String sha256,
            int intraOpThreads,
            SparkClassifier.Options options,
            int inputIndex,
            boolean inputIsBytes,
            int originIndex,
            Broadcast<HadoopConfiguration> hadoop,
            LongAccumulator images,
            LongAccumulator failures,
            LongAccumulator sessions) {
        this.bundle = bundle;
        this.sha256 = sha256;
        this.intraOpThreads = intraOpThreads;
        this.topK = options.topK();
        this.batchSize = options.batchSize();
        this.logits = options.logits();
        this.inputIndex = inputIndex;
        this.inputIsBytes = inputIsBytes;
        this.originIndex = originIndex;
        this.hadoop = hadoop;
        this.images = images;
        this.failures = failures;
        this.sessions = sessions;
    }

    /** Where this JVM writes the model: Spark's per-application scratch directory. */
    static Path scratchRoot() {
        return Path.of(SparkFiles.getRootDirectory()).toAbsolutePath();
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        if (!rows.hasNext()) return rows; // an empty partition opens nothing
        SefClassifier classifier =
                ExecutorClassifiers.get(sha256, intraOpThreads, bundle::value, scratchRoot(), () -> sessions.add(1));
        return new Batches(rows, classifier);
    }

    /** The lazy output iterator of one partition. */
    private final class Batches implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final SefClassifier classifier;
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private long rowsSeen;

        Batches(Iterator<Row> rows, SefClassifier classifier) {
            this.rows = rows;
            this.classifier = classifier;
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && rows.hasNext()) {
                List<Row> batch = new ArrayList<>(batchSize);
                while (batch.size() < batchSize && rows.hasNext()) batch.add(rows.next());
                classify(batch);
            }
            return !ready.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) throw new NoSuchElementException("partition exhausted");
            return ready.poll();
        }

        /** One predictImages call for the batch's readable rows; every row, read or not, gets its output row. */
        private void classify(List<Row> batch) {
            int n = batch.size();
            String[] unreadable = new String[n];
            List<ImageInput> inputs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Row row = batch.get(i);
                String origin = originIndex >= 0 && !row.isNullAt(originIndex)
                        ? row.getString(originIndex)
                        : "row " + (rowsSeen + i) + " of partition " + partitionId();
                try {
                    inputs.add(input(row, origin));
                } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
                    unreadable[i] = origin + ": cannot read: " + e.getMessage();
                }
            }
            rowsSeen += n;
            Iterator<SefClassifier.ImageResult> results =
                    classifier.predictImages(inputs, logits).iterator();
            long failed = 0;
            for (int i = 0; i < n; i++) {
                Row row = batch.get(i);
                SefClassifier.ImageResult result = unreadable[i] == null ? results.next() : null;
                String error = result == null
                        ? unreadable[i]
                        : result.ok() ? null : result.error().getMessage();
                Object[] values = new Object[row.length() + (logits ? 5 : 4)];
                for (int c = 0; c < row.length(); c++) values[c] = row.get(c);
                int at = row.length();
                if (error == null) {
                    List<Prediction> ranked = result.predictions();
                    List<Row> top = new ArrayList<>(Math.min(topK, ranked.size()));
                    for (Prediction p : ranked.subList(0, Math.min(topK, ranked.size())))
                        top.add(RowFactory.create(p.label(), p.probability()));
                    values[at] = ranked.get(0).label();
                    values[at + 1] = ranked.get(0).probability();
                    // Row's external type for an array column is a Scala Seq
                    values[at + 2] = CollectionConverters.asScala(top).toSeq();
                    if (logits) values[at + 3] = result.logits();
                } else {
                    values[values.length - 1] = error;
                    failed++;
                }
                ready.add(RowFactory.create(values));
            }
            images.add(n);
            failures.add(failed);
        }

        /**
         * The row's image: its bytes as they are, a local path as a file, a remote path's bytes read through Hadoop;
         * named by {@code origin} in errors.
         */
        private ImageInput input(Row row, String origin) throws IOException {
            if (row.isNullAt(inputIndex)) throw new IllegalArgumentException("image column is null");
            if (inputIsBytes) return ImageInput.of((byte[]) row.get(inputIndex), origin);
            org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(row.getString(inputIndex));
            FileSystem fs = path.getFileSystem(hadoop.value().get());
            if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
                return ImageInput.of(Path.of(fs.makeQualified(path).toUri()));
            }
            try (InputStream in = fs.open(path)) {
                return ImageInput.of(in.readAllBytes(), origin);
            }
        }
    }

    private static int partitionId() {
        TaskContext task = TaskContext.get();
        return task == null ? -1 : task.partitionId();
    }
}
