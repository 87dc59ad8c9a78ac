package org.sefonnx.train.run.explain;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.GroupSplit;
import org.sefonnx.contract.LabelFile;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.Softmax;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.imaging.ActivationMaps;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.data.DataCheck;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.ImageSource;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.data.TransformSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.metrics.GroupMetrics;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.session.FinishedRun;
import org.sefonnx.train.run.session.ModelSteps;
import org.sefonnx.train.run.state.InvalidRunException;
import org.sefonnx.train.run.state.RunDirectory;

/**
 * {@code sef-onnx explain}: what a run's groups look at and how they correlate. Runs the eval graph, which returns the
 * last post-ReLU feature map and the group heads' logits besides the loss terms, on chosen images or a fixed sample
 * of the test split, and writes per image the input with one activation overlay per group (the paper's Fig. 4), the
 * channel-correlation matrix with its block means (Fig. 2) and, on the test split, each group head's top-1 (Fig. 3).
 */
public final class Explainer {
    public static final String IMAGES_DIR = "images";
    public static final String CORRELATION_PNG = "correlation.png";
    public static final String CORRELATION_CSV = "correlation-blocks.csv";
    public static final String CORRELATION_JSON = "correlation-blocks.json";
    public static final String GROUP_ACCURACY_CSV = "group-accuracy.csv";

    /** What to explain: image files, or {@code testSamples} images spread evenly over the run's test split. */
    public record Request(
            Path runDir, String checkpoint, List<Path> images, int testSamples, boolean groupAccuracy, Path outDir) {
        public Request {
            images = List.copyOf(images);
            if (images.isEmpty() == (testSamples <= 0)) {
                throw new IllegalArgumentException(
                        "give either --images FILE... or --test-samples N (N >= 1), not both and not neither");
            }
        }
    }

    /** One explained image: its PNG, the global prediction and each group head's. */
    public record Explained(
            String source,
            Path png,
            int predicted,
            double probability,
            int[] groupPredicted,
            double[] groupProbability) {}

    /** What explain wrote and measured; {@code groupTop1} is null when the test split was not scored. */
    public record Result(
            List<Explained> images,
            ChannelCorrelation correlation,
            GroupMetrics.Summary groupTop1,
            List<String> classNames,
            Path outDir) {}

    private Explainer() {}

    /**
     * Explains as {@code r} asks. Everything that can be refused (the run, the checkpoint, the images, the --out
     * folder) is checked before the model is loaded, and a failed pass leaves no empty folder behind.
     */
    public static Result explain(Request r, PrintStream log) throws IOException {
        RunDirectory run = new RunDirectory(r.runDir());
        if (!Files.isRegularFile(run.state())) {
            throw new InvalidRunException(
                    "--run " + r.runDir() + ": no " + run.state() + "; give a folder written by `sef-onnx train`");
        }
        FinishedRun finished = FinishedRun.read(r.runDir());
        Path checkpoint = finished.checkpoint(r.checkpoint());
        for (Path p : r.images()) {
            if (Files.isDirectory(p))
                throw new IllegalArgumentException("--images " + p + " is a folder; give image files (JPEG or PNG),"
                        + " e.g. --images " + p.resolve("*.jpg") + " (the shell expands it)");
            if (!Files.isRegularFile(p))
                throw new IllegalArgumentException("--images " + p + ": no such file; give image files (JPEG or PNG)");
        }
        requireOutFolder(run, r.outDir());
        boolean outExisted = Files.exists(r.outDir());
        try {
            return explain(r, finished, checkpoint, log);
        } catch (IOException | RuntimeException | Error e) {
            removeEmpty(r.outDir().resolve(IMAGES_DIR), e);
            if (!outExisted) removeEmpty(r.outDir(), e);
            throw e;
        }
    }

    /** The files an explain pass writes into its --out folder. */
    static final List<String> OUTPUTS =
            List.of(IMAGES_DIR, CORRELATION_PNG, CORRELATION_CSV, CORRELATION_JSON, GROUP_ACCURACY_CSV);

    /**
     * --out is new, empty or a previous explain output (its images are replaced); never a folder of the run's other
     * files (its export/ above all) or one holding anything else.
     */
    static void requireOutFolder(RunDirectory run, Path out) throws IOException {
        Path at = out.toAbsolutePath().normalize();
        for (Path own : List.of(run.root(), run.export(), run.checkpoints(), run.artifacts(), run.plots())) {
            if (at.equals(own.toAbsolutePath().normalize()))
                throw new IllegalArgumentException(
                        "--out " + out + " is the run's own " + run.root().relativize(own)
                                + " folder; explain writes images and tables there: give a folder of its own, e.g. "
                                + run.root().resolve("explain-last"));
        }
        if (Files.exists(out) && !Files.isDirectory(out))
            throw new IllegalArgumentException("--out " + out + " is a file, not a folder");
        if (!Files.isDirectory(out)) return;
        List<String> foreign = new ArrayList<>();
        try (var children = Files.list(out)) {
            for (Path child : children.toList()) {
                String name = child.getFileName().toString();
                if (!OUTPUTS.contains(name) && !AtomicFiles.isTemp(child)) foreign.add(name);
            }
        }
        if (!foreign.isEmpty())
            throw new IllegalArgumentException(
                    "--out " + out + " holds " + String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
                            + (foreign.size() > 5 ? " and " + (foreign.size() - 5) + " more" : "")
                            + ", which is not the output of an earlier explain; nothing was written. Give a new or empty folder");
        Path images = out.resolve(IMAGES_DIR);
        if (Files.isDirectory(images)) {
            try (var old = Files.list(images)) {
                for (Path png : old.toList()) {
                    if (!png.getFileName().toString().endsWith(".png"))
                        throw new IllegalArgumentException("--out " + out + ": " + png
                                + " is not an explain image; nothing was written. Give a new or empty folder");
                }
            }
        }
    }

    /** Deletes {@code dir} when it exists and is empty; a failure to do so is attached to {@code cause}. */
    private static void removeEmpty(Path dir, Throwable cause) {
        try (var children = Files.list(dir)) {
            if (children.findAny().isEmpty()) Files.delete(dir);
        } catch (java.nio.file.NoSuchFileException e) {
            // nothing was created
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    private static Result explain(Request r, FinishedRun run, Path checkpoint, PrintStream log) throws IOException {
        TrainOptions o = run.options();
        ModelSpec spec = o.spec();
        List<String> classNames = LabelFile.read(run.dir().labels());
        Dataset data = r.images().isEmpty() || r.groupAccuracy() ? run.dataset() : null;
        if (data != null) DataCheck.requireTestImages(data, data.test());
        List<Sample> samples = new ArrayList<>();
        List<String> sources = new ArrayList<>();
        for (Path p : r.images()) {
            samples.add(new Sample(new ImageSource.File(p), 0));
            sources.add(p.getFileName().toString());
        }
        if (r.images().isEmpty()) {
            List<Sample> test = data.test();
            int n = Math.min(r.testSamples(), test.size());
            for (int i = 0; i < n; i++) {
                int at = (int) ((long) i * test.size() / n);
                samples.add(test.get(at));
                sources.add("test-" + at);
            }
        }
        TransformSpec transform = o.transform(false);
        LoaderOptions loading = LoaderOptions.evaluation(o.schedule().batchSize())
                .withWorkers(o.compute().decodeWorkers())
                .withExifOrientation(o.data().applyExifOrientation());
        ChannelCorrelation correlation = new ChannelCorrelation(spec.groupChannels());
        List<Explained> explained = new ArrayList<>();
        GroupMetrics.Summary groupTop1 = null;
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx-explain");
                FinishedRun.EvalSession session = run.openEvalSession(
                        ort, checkpoint, TrainOptions.Device.CPU, new PrintStream(PrintStream.nullOutputStream()))) {
            // Sessions.open refused a run whose eval graph lacks the explain outputs, saying how to regenerate it
            ModelSteps steps = session.steps();
            try (BatchLoader loader = new BatchLoader(samples, transform, loading);
                    BatchLoader.Epoch it = loader.epoch(0)) {
                while (it.hasNext()) {
                    try (Batch b = it.next()) {
                        ModelSteps.Outputs out = steps.eval(
                                HostTensor.view(b.images(), b.shape()), HostTensor.longs(b.labels(), b.size()));
                        explainBatch(
                                b,
                                out,
                                spec,
                                transform.toPreprocessingSpec(),
                                classNames,
                                sources,
                                r,
                                correlation,
                                explained,
                                r.images().isEmpty());
                    }
                }
            }
            if (r.groupAccuracy())
                groupTop1 = scoreGroups(steps, session.descriptor(), data.test(), transform, loading);
        }
        removeStaleImages(r.outDir().resolve(IMAGES_DIR), explained);
        writeFigures(r.outDir(), correlation, groupTop1, spec);
        log.printf(
                Locale.ROOT,
                "explain: %d images, squared cosine over them intra %.4f inter %.4f%s -> %s%n",
                explained.size(),
                correlation.intra(),
                correlation.inter(),
                groupTop1 == null ? "" : ", group-head top-1 " + top1Text(groupTop1),
                r.outDir());
        return new Result(explained, correlation, groupTop1, classNames, r.outDir());
    }

    private static void explainBatch(
            Batch b,
            ModelSteps.Outputs out,
            ModelSpec spec,
            PreprocessingSpec transformSpec,
            List<String> classNames,
            List<String> sources,
            Request r,
            ChannelCorrelation correlation,
            List<Explained> explained,
            boolean labelled)
            throws IOException {
        HostTensor fm = out.get(TensorNames.FEATURE_MAP);
        long[] shape = fm.shape();
        int c = (int) shape[1],
                h = (int) shape[2],
                w = (int) shape[3],
                cells = h * w,
                k = spec.numClasses(),
                groups = spec.groups();
        float[] features = fm.toFloats(),
                probabilities = out.floats(TensorNames.PROBABILITIES),
                groupLogits = out.floats(TensorNames.GROUP_LOGITS);
        FloatView images = new FloatView(b, transformSpec);
        for (int i = 0; i < b.size(); i++) {
            int sample = b.sampleIndices()[i];
            correlation.add(features, i * c * cells, cells);
            int predicted = Softmax.argmax(Softmax.of(probabilities, i * k, k));
            int[] groupPredicted = new int[groups];
            double[] groupProbability = new double[groups];
            List<float[]> maps = new ArrayList<>();
            GroupSplit split = spec.groupSplit();
            for (int g = 0; g < groups; g++) {
                double[] p = Softmax.of(groupLogits, (i * groups + g) * k, k);
                groupPredicted[g] = Softmax.argmax(p);
                groupProbability[g] = p[groupPredicted[g]];
                maps.add(split.map(features, i * c * cells, cells, g));
            }
            BufferedImage input = images.picture(i);
            String truth = labelled ? " (true: " + classNames.get((int) b.labels()[i]) + ")" : "";
            String title = String.format(
                    Locale.ROOT,
                    "%s%s — global: %s %.1f%%",
                    sources.get(sample),
                    truth,
                    classNames.get(predicted),
                    100 * probabilities[i * k + predicted]);
            List<String> captions = new ArrayList<>();
            for (int g = 0; g < groups; g++) {
                captions.add(String.format(
                        Locale.ROOT,
                        "group %d: %s %.1f%%",
                        g,
                        classNames.get(groupPredicted[g]),
                        100 * groupProbability[g]));
            }
            BufferedImage panel = panel(input, maps, h, w, title, captions);
            // not Files.createDirectories' return value: it is made absolute when a parent had to be created, and
            // the paths of one pass must all have the form of --out for removeStaleImages and the run's report
            Path imagesDir = r.outDir().resolve(IMAGES_DIR);
            Files.createDirectories(imagesDir);
            String stem = sources.get(sample).replaceFirst("(?i)\\.(png|jpe?g)$", "");
            Path png = imagesDir.resolve(String.format(Locale.ROOT, "%03d-%s.png", sample, safe(stem)));
            Pictures.writePng(panel, png);
            explained.add(new Explained(
                    sources.get(sample),
                    png,
                    predicted,
                    probabilities[i * k + predicted],
                    groupPredicted,
                    groupProbability));
        }
    }

    /** An earlier explain's images in a reused --out folder, besides this pass's: they would mix two passes. */
    private static void removeStaleImages(Path images, List<Explained> explained) throws IOException {
        if (!Files.isDirectory(images)) return;
        Set<Path> current = explained.stream().map(e -> e.png().getFileName()).collect(Collectors.toSet());
        try (var all = Files.list(images)) {
            for (Path png : all.toList()) if (!current.contains(png.getFileName())) Files.delete(png);
        }
    }

    /** The input, then one overlay per group, each with its caption; the title above. */
    static BufferedImage panel(
            BufferedImage input, List<float[]> maps, int h, int w, String title, List<String> captions) {
        int side = Math.max(Pictures.MIN_TILE_PX, input.getWidth());
        int gap = 8, top = 26, bottom = 22;
        BufferedImage out = new BufferedImage(
                gap + (side + gap) * (maps.size() + 1), top + side + bottom, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Pictures.canvas(out);
        g.drawImage(Pictures.scaled(input, side), gap, top, null);
        g.setColor(Color.BLACK);
        g.drawString(title, gap, 17);
        g.drawString("input (eval transform)", gap, top + side + 15);
        for (int i = 0; i < maps.size(); i++) {
            float[] heat = ActivationMaps.normalised(ActivationMaps.upsample(maps.get(i), h, w, side, side));
            g.drawImage(Pictures.overlay(Pictures.scaled(input, side), heat), gap + (side + gap) * (i + 1), top, null);
            g.setColor(Color.BLACK);
            g.drawString(captions.get(i), gap + (side + gap) * (i + 1), top + side + 15);
        }
        g.dispose();
        return out;
    }

    /** The batch's normalised CHW floats turned back into the 8-bit picture the model saw. */
    private static final class FloatView {
        private final Batch b;
        private final PreprocessingSpec normalisation;

        FloatView(Batch b, PreprocessingSpec normalisation) {
            this.b = b;
            this.normalisation = normalisation;
        }

        BufferedImage picture(int i) {
            int h = b.height(), w = b.width(), plane = h * w;
            var images = b.images();
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            float[] mean = normalisation.mean(), std = normalisation.std();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = 0;
                    for (int ch = 0; ch < 3; ch++) {
                        float v = images.get(i * 3 * plane + ch * plane + y * w + x) * std[ch] + mean[ch];
                        rgb = (rgb << 8) | Math.max(0, Math.min(255, Math.round(v * 255)));
                    }
                    img.setRGB(x, y, rgb);
                }
            }
            return img;
        }
    }

    /** Each group head's top-1 (and the graph's intra/inter squared cosines) over the whole test split. */
    private static GroupMetrics.Summary scoreGroups(
            ModelSteps steps, ModelDescriptor d, List<Sample> test, TransformSpec transform, LoaderOptions loading) {
        GroupMetrics metrics = new GroupMetrics(d.groupChannels(), d.numClasses());
        try (BatchLoader loader = new BatchLoader(test, transform, loading);
                BatchLoader.Epoch it = loader.epoch(0)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    ModelSteps.Outputs out =
                            steps.eval(HostTensor.view(b.images(), b.shape()), HostTensor.longs(b.labels(), b.size()));
                    metrics.addBatch(
                            out.floats(TensorNames.GROUP_BLOCK_SUMS), out.floats(TensorNames.GROUP_LOGITS), b.labels());
                }
            }
        }
        return metrics.summary();
    }

    private static void writeFigures(
            Path outDir, ChannelCorrelation correlation, GroupMetrics.Summary groupTop1, ModelSpec spec)
            throws IOException {
        Pictures.writePng(
                Pictures.matrixHeatMap(
                        correlation,
                        String.format(
                                Locale.ROOT,
                                "mean squared cosine Q of the %d channels over %d images (G=%d; intra %.3f, inter %.3f)",
                                correlation.channels(),
                                correlation.images(),
                                spec.groups(),
                                correlation.intra(),
                                correlation.inter())),
                outDir.resolve(CORRELATION_PNG));
        correlation.writeCsv(outDir.resolve(CORRELATION_CSV));
        correlation.writeJson(outDir.resolve(CORRELATION_JSON));
        if (groupTop1 != null) {
            StringBuilder sb = new StringBuilder("group,channels,test_top1\n");
            for (int g = 0; g < groupTop1.groupTop1().length; g++) {
                sb.append(String.format(
                        Locale.ROOT,
                        "%d,%d,%.6f%n",
                        g,
                        spec.groupChannels()[g],
                        groupTop1.groupTop1()[g]));
            }
            AtomicFiles.writeString(outDir.resolve(GROUP_ACCURACY_CSV), sb.toString());
        }
    }

    static String top1Text(GroupMetrics.Summary s) {
        List<String> parts = new ArrayList<>();
        for (double v : s.groupTop1()) parts.add(String.format(Locale.ROOT, "%.2f%%", 100 * v));
        return String.join(" / ", parts);
    }

    private static String safe(String name) {
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
