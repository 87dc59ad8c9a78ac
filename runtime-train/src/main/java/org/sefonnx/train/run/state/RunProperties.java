package org.sefonnx.train.run.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;

/**
 * A run's {@code run.properties} (its options, its protocol, the --pretrained file's SHA-256) and
 * {@code artifacts/model.properties} (its model spec): what --resume, eval, export and explain rebuild the run from. The
 * one writer and the one reader of both files; every key written here is read back here.
 *
 * @param pretrainedSha256 SHA-256 of the --pretrained file, checked at import and recorded for provenance; null without one
 */
public record RunProperties(TrainOptions options, Protocol protocol, String pretrainedSha256) {
    /** run.properties key of {@link #pretrainedSha256}. */
    public static final String PRETRAINED_SHA = "pretrained.sha256";
    /** run.properties key of {@link TrainOptions.Data#applyExifOrientation}, spelled as preprocessing.properties spells it. */
    static final String EXIF_ORIENTATION = "exifOrientation";
    /** run.properties key of {@link TrainOptions#keepInitialCheckpoint}. */
    static final String KEEP_INITIAL_CHECKPOINT = "keepInitialCheckpoint";

    /** Writes run.properties and artifacts/model.properties, each atomically. */
    public void write(RunDirectory run) throws IOException {
        StringBuilder sb = new StringBuilder(
                "# sef-onnx run: options; the model spec is in artifacts/" + ArtifactLayout.SPEC + "\n");
        optionsMap(options).forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        protocolMap(protocol)
                .forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        if (pretrainedSha256 != null)
            sb.append(PRETRAINED_SHA).append('=').append(pretrainedSha256).append('\n');
        AtomicFiles.writeString(run.runProperties(), sb.toString());
        AtomicFiles.writeString(
                run.artifacts().resolve(ArtifactLayout.SPEC), options.spec().toProperties());
    }

    /**
     * Reads what {@link #write} wrote; {@code outDir} becomes the run's folder. Keys added after a run was made read as
     * that run behaved before them (no protocol keys: the authors' protocol; no cuda keys: CUDA's defaults).
     */
    public static RunProperties read(RunDirectory run) throws IOException {
        Properties p = load(run);
        Path specFile = run.artifacts().resolve(ArtifactLayout.SPEC);
        ModelSpec spec = ModelSpec.parse(Files.readString(specFile), specFile.toString());
        TrainOptions options;
        try {
            options = options(spec, run.root(), p::getProperty);
        } catch (RuntimeException e) {
            throw new InvalidRunException(run.runProperties() + " is damaged: " + e.getMessage());
        }
        return new RunProperties(options, protocol(p::getProperty, run.runProperties()), p.getProperty(PRETRAINED_SHA));
    }

    private static Properties load(RunDirectory run) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(run.runProperties())) {
            p.load(in);
        } catch (NoSuchFileException e) {
            throw new InvalidRunException(
                    run.runProperties() + " is missing: " + run.root() + " is not a complete sef-onnx run directory");
        }
        return p;
    }

    // ---- the options
    // -------------------------------------------------------------------------------------------------

    /** The options' keys, in file order; {@code cuda.*} holds the CUDA provider's settings. */
    public static Map<String, String> optionsMap(TrainOptions o) {
        TrainOptions.Data data = o.data();
        TrainOptions.Schedule schedule = o.schedule();
        TrainOptions.Compute compute = o.compute();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("data.layout", data.isDemo() ? "demo" : data.layout().name().toLowerCase(Locale.ROOT));
        m.put(
                "data.root",
                data.root() == null ? "" : data.root().toAbsolutePath().toString());
        m.put("epochs", Integer.toString(schedule.epochs()));
        m.put("batchSize", Integer.toString(schedule.batchSize()));
        m.put("learningRate", Double.toString(schedule.learningRate()));
        m.put("lrStepEpochs", Integer.toString(schedule.lrStepEpochs()));
        m.put("lrGamma", Double.toString(schedule.lrGamma()));
        m.put("seed", Long.toString(o.seed()));
        m.put("device", compute.device().name().toLowerCase(Locale.ROOT));
        m.put("threads", Integer.toString(compute.threads()));
        m.put("workers", Integer.toString(compute.workers()));
        m.put("skipBadImages", Boolean.toString(o.badImages().skip()));
        m.put("maxBatchesPerEpoch", Integer.toString(schedule.maxBatchesPerEpoch()));
        m.put(
                "pretrained",
                o.pretrained() == null ? "" : o.pretrained().toAbsolutePath().toString());
        m.put("maxBadImages", Integer.toString(o.badImages().max()));
        m.put(
                EXIF_ORIENTATION,
                data.applyExifOrientation()
                        ? PreprocessingSpec.EXIF_ORIENTATION_APPLY
                        : PreprocessingSpec.EXIF_ORIENTATION_IGNORE);
        OrtAdapter.CudaOptions c = compute.cuda();
        m.put("cuda.convAlgorithmSearch", c.convAlgorithmSearch().name().toLowerCase(Locale.ROOT));
        m.put("cuda.maxWorkspace", Boolean.toString(c.maxWorkspace()));
        m.put("cuda.tf32", Boolean.toString(c.tf32()));
        m.put(KEEP_INITIAL_CHECKPOINT, Boolean.toString(o.keepInitialCheckpoint()));
        return m;
    }

    /** The options {@link #optionsMap} recorded, for {@code spec} in {@code outDir}. */
    static TrainOptions options(ModelSpec spec, Path outDir, Function<String, String> p) {
        String layout = value(p, "data.layout", "demo"),
                root = value(p, "data.root", ""),
                pretrained = value(p, "pretrained", ""),
                exif = value(p, EXIF_ORIENTATION, PreprocessingSpec.EXIF_ORIENTATION_IGNORE);
        if (!exif.equals(PreprocessingSpec.EXIF_ORIENTATION_IGNORE)
                && !exif.equals(PreprocessingSpec.EXIF_ORIENTATION_APPLY))
            throw new IllegalArgumentException(EXIF_ORIENTATION + " is '" + exif + "', expected "
                    + PreprocessingSpec.EXIF_ORIENTATION_IGNORE + " or " + PreprocessingSpec.EXIF_ORIENTATION_APPLY);
        return TrainOptions.builder(spec, outDir)
                .data(
                        layout.equals("demo") ? null : Layout.valueOf(layout.toUpperCase(Locale.ROOT)),
                        root.isEmpty() ? null : Path.of(root))
                .epochs(Integer.parseInt(p.apply("epochs")))
                .batchSize(Integer.parseInt(p.apply("batchSize")))
                .learningRate(Double.parseDouble(p.apply("learningRate")))
                .lrStepEpochs(Integer.parseInt(p.apply("lrStepEpochs")))
                .lrGamma(Double.parseDouble(p.apply("lrGamma")))
                .seed(Long.parseLong(p.apply("seed")))
                .device(TrainOptions.Device.valueOf(p.apply("device").toUpperCase(Locale.ROOT)))
                .threads(Integer.parseInt(p.apply("threads")))
                .workers(Integer.parseInt(p.apply("workers")))
                .skipBadImages(Boolean.parseBoolean(p.apply("skipBadImages")))
                .maxBatchesPerEpoch(Integer.parseInt(value(p, "maxBatchesPerEpoch", "0")))
                .pretrained(pretrained.isEmpty() ? null : Path.of(pretrained))
                .maxBadImages(Integer.parseInt(
                        value(p, "maxBadImages", Integer.toString(TrainOptions.BadImages.DEFAULT_MAX))))
                .applyExifOrientation(exif.equals(PreprocessingSpec.EXIF_ORIENTATION_APPLY))
                .cuda(cudaFrom(p))
                // runs made before the key kept their initial checkpoint
                .keepInitialCheckpoint(Boolean.parseBoolean(value(p, KEEP_INITIAL_CHECKPOINT, "true")))
                .build();
    }

    /** Reads the {@code cuda.*} keys of {@link #optionsMap} (absent keys: the defaults, as in runs made before them). */
    public static OrtAdapter.CudaOptions cudaFrom(Function<String, String> properties) {
        OrtAdapter.CudaOptions d = OrtAdapter.CudaOptions.defaults();
        String search = properties.apply("cuda.convAlgorithmSearch"),
                workspace = properties.apply("cuda.maxWorkspace"),
                tf32 = properties.apply("cuda.tf32");
        return new OrtAdapter.CudaOptions(
                search == null
                        ? d.convAlgorithmSearch()
                        : OrtAdapter.CudaOptions.ConvAlgorithmSearch.valueOf(search.toUpperCase(Locale.ROOT)),
                workspace == null ? d.maxWorkspace() : Boolean.parseBoolean(workspace),
                tf32 == null ? d.tf32() : Boolean.parseBoolean(tf32));
    }

    private static String value(Function<String, String> p, String key, String absent) {
        String v = p.apply(key);
        return v == null ? absent : v;
    }

    // ---- the protocol
    // ------------------------------------------------------------------------------------------------

    /** The protocol's keys, in file order. */
    public static Map<String, String> protocolMap(Protocol protocol) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("protocol.valSplit", protocol.valSplit().name().toLowerCase(Locale.ROOT));
        m.put("protocol.valFraction", Double.toString(protocol.valFraction()));
        m.put("protocol.selectOn", protocol.selectOn().name().toLowerCase(Locale.ROOT));
        m.put("protocol.strictSplits", Boolean.toString(protocol.strictSplits()));
        return m;
    }

    /** Reads {@link #protocolMap}'s keys from {@code file}; a run made before them has the authors' protocol. */
    static Protocol protocol(Function<String, String> properties, Path file) {
        String split = properties.apply("protocol.valSplit");
        if (split == null) return Protocol.AUTHORS;
        try {
            return new Protocol(
                    Protocol.ValSplit.valueOf(split.toUpperCase(Locale.ROOT)),
                    Double.parseDouble(properties.apply("protocol.valFraction")),
                    Protocol.SelectOn.valueOf(
                            properties.apply("protocol.selectOn").toUpperCase(Locale.ROOT)),
                    Boolean.parseBoolean(properties.apply("protocol.strictSplits")));
        } catch (RuntimeException e) {
            throw new InvalidRunException(file + " is damaged: its protocol.* keys (" + e.getMessage()
                    + ") are not what sef-onnx wrote; " + "restore the file or start a new run");
        }
    }

    // ---- the spec
    // ----------------------------------------------------------------------------------------------------

    /** Refuses a checkpoint made for another spec (shapes, K, G) before anything is overwritten. */
    public static void requireSameSpec(ModelSpec expected, Checkpoint header, Path file) {
        String stored = header.stringProperties().get(ArtifactWriter.PROP_SPEC);
        if (stored == null) {
            throw new InvalidRunException(
                    file + ": not a sef-onnx checkpoint (no '" + ArtifactWriter.PROP_SPEC + "' property)");
        }
        ModelSpec found = ModelSpec.parse(stored, file.toString());
        if (found.equals(expected)) return;
        List<String> diffs = new ArrayList<>();
        Map<String, String> a = expected.asMap(), b = found.asMap();
        for (String k : a.keySet()) {
            if (!a.get(k).equals(b.get(k))) diffs.add(k + ": run wants " + a.get(k) + ", checkpoint has " + b.get(k));
        }
        throw new InvalidRunException(
                file + " was trained for another model spec; nothing was overwritten. " + String.join("; ", diffs));
    }
}
