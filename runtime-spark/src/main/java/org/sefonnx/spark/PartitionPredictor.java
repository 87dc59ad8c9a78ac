package org.sefonnx.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.stream.Stream;
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
import org.apache.spark.util.TaskCompletionListener;
import org.sefonnx.imaging.ImageDecodeException;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.Preprocessor;
import org.sefonnx.infer.Prediction;
import org.sefonnx.infer.SefClassifier;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The executor side of {@link SparkClassifier#transform}: pulls a partition's rows in batches, runs each batch through
 * this JVM's shared classifier and appends the prediction columns, lazily, so a partition never sits in memory whole.
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

    /** Where this JVM writes the model and the batches' image files: Spark's per-application scratch directory. */
    static Path scratchRoot() {
        return Path.of(SparkFiles.getRootDirectory()).toAbsolutePath();
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) throws IOException {
        if (!rows.hasNext()) return rows; // an empty partition opens nothing
        SefClassifier classifier =
                ExecutorClassifiers.get(sha256, intraOpThreads, bundle::value, scratchRoot(), () -> sessions.add(1));
        Batches batches = new Batches(rows, classifier, Files.createTempDirectory(scratchRoot(), "sef-batch-"));
        TaskContext task = TaskContext.get();
        if (task != null) task.addTaskCompletionListener((TaskCompletionListener) context -> batches.close());
        return batches;
    }

    /** The lazy output iterator of one partition, with the scratch files and decoder it owns. */
    private final class Batches implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final SefClassifier classifier;
        private final Path scratch;
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private ImageDecoder decoder;
        private long rowsSeen;

        Batches(Iterator<Row> rows, SefClassifier classifier, Path scratch) {
            this.rows = rows;
            this.classifier = classifier;
            this.scratch = scratch;
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && rows.hasNext()) {
                List<Row> batch = new ArrayList<>(batchSize);
                while (batch.size() < batchSize && rows.hasNext()) batch.add(rows.next());
                classify(batch);
            }
            if (ready.isEmpty()) close();
            return !ready.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) throw new NoSuchElementException("partition exhausted");
            return ready.poll();
        }

        private void classify(List<Row> batch) {
            int n = batch.size();
            String[] origins = new String[n];
            Path[] files = new Path[n];
            String[] errors = new String[n];
            for (int i = 0; i < n; i++) {
                Row row = batch.get(i);
                origins[i] = originIndex >= 0 && !row.isNullAt(originIndex)
                        ? row.getString(originIndex)
                        : "row " + (rowsSeen + i) + " of partition " + partitionId();
                try {
                    files[i] = localFile(row, i);
                } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
                    errors[i] = origins[i] + ": cannot read: " + e.getMessage();
                }
            }
            rowsSeen += n;
            List<Integer> good = new ArrayList<>(n);
            for (int i = 0; i < n; i++) if (errors[i] == null) good.add(i);
            List<List<Prediction>> predictions = predict(good, files, errors, origins);
            float[][] scores = logits ? logitsOf(good, files) : null;
            long failed = 0;
            for (int i = 0, g = 0; i < n; i++) {
                Object[] values = new Object[batch.get(i).length() + (logits ? 5 : 4)];
                for (int c = 0; c < batch.get(i).length(); c++)
                    values[c] = batch.get(i).get(c);
                int at = batch.get(i).length();
                if (errors[i] == null) {
                    List<Prediction> ranked = predictions.get(g);
                    List<Row> top = new ArrayList<>(Math.min(topK, ranked.size()));
                    for (Prediction p : ranked.subList(0, Math.min(topK, ranked.size())))
                        top.add(RowFactory.create(p.label(), p.probability()));
                    values[at] = ranked.get(0).label();
                    values[at + 1] = ranked.get(0).probability();
                    // Row's external type for an array column is a Scala Seq
                    values[at + 2] = CollectionConverters.asScala(top).toSeq();
                    if (logits) values[at + 3] = scores[g];
                    g++;
                } else {
                    values[values.length - 1] = errors[i];
                    failed++;
                }
                ready.add(RowFactory.create(values));
            }
            images.add(n);
            failures.add(failed);
            for (Path file : files) {
                if (file != null && file.startsWith(scratch)) deleteQuietly(file);
            }
        }

        /**
         * Predictions of the images {@code good}, which loses the ones that do not decode. SefClassifier.predictBatch
         * fails as a whole on one bad image, so the usual case (all good) is settled by the batch itself; after a
         * failure every image is decoded on its own to find all the bad ones, and the rest is batched again: a bad
         * image costs its batch one extra decode of each image, never its batch-mates' predictions.
         */
        private List<List<Prediction>> predict(List<Integer> good, Path[] files, String[] errors, String[] origins) {
            try {
                return classifier.predictBatch(paths(good, files));
            } catch (ImageDecodeException batchFailed) {
                for (Iterator<Integer> it = good.iterator(); it.hasNext(); ) {
                    int i = it.next();
                    try {
                        decoder().decode(files[i]);
                    } catch (ImageDecodeException e) {
                        errors[i] = origins[i] + problem(e);
                        it.remove();
                    }
                }
                return classifier.predictBatch(paths(good, files));
            }
        }

        private List<Path> paths(List<Integer> indices, Path[] files) {
            List<Path> paths = new ArrayList<>(indices.size());
            for (int i : indices) paths.add(files[i]);
            return paths;
        }

        /** Logits of the good images in one ORT run, from the same decode and preprocessing as SefClassifier's. */
        private float[][] logitsOf(List<Integer> good, Path[] files) {
            if (good.isEmpty()) return new float[0][];
            Preprocessor preprocessor = new Preprocessor(classifier.preprocessing());
            int per = preprocessor.floatsPerImage();
            float[] nchw = new float[good.size() * per];
            for (int g = 0; g < good.size(); g++) {
                System.arraycopy(preprocessor.apply(decoder().decode(files[good.get(g)])), 0, nchw, g * per, per);
            }
            return classifier.logitsOfPreprocessed(nchw);
        }

        /** The row's image as a local file: a path as it is, bytes or a remote path copied into the scratch directory. */
        private Path localFile(Row row, int i) throws IOException {
            if (row.isNullAt(inputIndex)) throw new IllegalArgumentException("image column is null");
            Path file = scratch.resolve(i + ".img");
            if (inputIsBytes) {
                return Files.write(file, (byte[]) row.get(inputIndex));
            }
            org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(row.getString(inputIndex));
            FileSystem fs = path.getFileSystem(hadoop.value().get());
            if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
                return Path.of(fs.makeQualified(path).toUri());
            }
            try (InputStream in = fs.open(path)) {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            }
            return file;
        }

        private ImageDecoder decoder() {
            if (decoder == null) decoder = new ImageDecoder();
            return decoder;
        }

        void close() {
            if (decoder != null) {
                decoder.close();
                decoder = null;
            }
            if (Files.exists(scratch)) {
                try (Stream<Path> left = Files.walk(scratch)) {
                    left.sorted(Comparator.reverseOrder()).forEach(PartitionPredictor::deleteQuietly);
                } catch (IOException e) {
                    throw new UncheckedIOException("cleaning the scratch directory " + scratch, e);
                }
            }
        }
    }

    /** The exception's message without the (scratch) file name it starts with. */
    private static String problem(ImageDecodeException e) {
        String prefix = e.source() + ":";
        return e.getMessage().startsWith(prefix)
                ? e.getMessage().substring(e.source().length())
                : ": " + e.getMessage();
    }

    private static int partitionId() {
        TaskContext task = TaskContext.get();
        return task == null ? -1 : task.partitionId();
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // scratch space Spark removes with the application anyway; a leftover file is not worth failing a task
        }
    }
}
