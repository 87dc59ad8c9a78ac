package org.sefonnx.infer.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.infer.InvalidExportException;
import org.sefonnx.infer.NonFiniteOutputException;
import org.sefonnx.infer.Prediction;
import org.sefonnx.infer.SefClassifier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code predict --model DIR [--top-k N] [--json] image...}: ranked labels of images from an export directory. */
@Command(
        name = "predict",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Classifies images with an exported SEF model (" + ExportLayout.MODEL + ", " + ExportLayout.LABELS
                + ", " + ExportLayout.PREPROCESSING + ").",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:every image classified",
            "1:one or more images could not be read or decoded (the others are printed)",
            "2:invalid command line",
            "3:the export directory is missing, inconsistent or damaged (files that do not match its "
                    + ExportLayout.MANIFEST + ", or NaN/infinite scores from the model)",
            "4:out of memory (raise -Xmx; the images classified before are printed)"
        })
public final class PredictCommand implements Callable<Integer> {
    public static final int EXIT_BAD_IMAGE = 1;
    public static final int EXIT_BAD_MODEL = 3;
    public static final int EXIT_OUT_OF_MEMORY = 4;
    /** java.util.logging's one-line format property (SimpleFormatter). */
    private static final String LOG_FORMAT = "java.util.logging.SimpleFormatter.format";

    @Option(
            names = "--model",
            required = true,
            paramLabel = "DIR",
            description = "Export directory of the trained model.")
    Path model;

    @Option(
            names = "--top-k",
            paramLabel = "N",
            defaultValue = "" + SefClassifier.Options.DEFAULT_TOP_K,
            description = "Classes to print per image (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--json", description = "Print one JSON array instead of text lines.")
    boolean json;

    @Option(
            names = "--threads",
            paramLabel = "N",
            defaultValue = "0",
            description = "Intra-op threads of ONNX Runtime; 0 = one per physical core (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(
            names = "--device",
            paramLabel = "DEVICE",
            defaultValue = "CPU",
            description = "CPU or CUDA (CUDA needs the onnxruntime_gpu jar; default: ${DEFAULT-VALUE}).")
    SefClassifier.Device device;

    @Option(
            names = "--no-verify-manifest",
            description = "Load the export without checking its files against " + ExportLayout.MANIFEST
                    + " (for an export edited on purpose).")
    boolean noVerifyManifest;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "JPEG or PNG files.")
    List<Path> images;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // the library's warnings (an export without a manifest) as one line on stderr, unless the user configured JUL
        if (System.getProperty(LOG_FORMAT) == null) System.setProperty(LOG_FORMAT, "predict: %4$s: %5$s%n");
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command with the given streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new PredictCommand()).setCaseInsensitiveEnumValuesAllowed(true);
        cli.setOut(out);
        cli.setErr(err);
        return cli.execute(args);
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (topK < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--top-k must be >= 1, got " + topK);
        if (threads < 0)
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--threads must be >= 0 (0: one per physical core), got " + threads);
        SefClassifier.Options options = SefClassifier.Options.defaults()
                .withTopK(topK)
                .withIntraOpThreads(threads)
                .withDevice(device)
                .withVerifyManifest(!noVerifyManifest);
        int bad = 0, damaged = 0, done = 0;
        boolean arrayOpen = false;
        try (SefClassifier classifier = SefClassifier.open(model, options)) {
            if (json) {
                out.print("[");
                arrayOpen = true;
            }
            // a batch at a time, each printed when done: a later OutOfMemoryError costs only the batch it hit
            for (int from = 0; from < images.size(); from += options.maxBatch()) {
                List<Path> batch = images.subList(from, Math.min(images.size(), from + options.maxBatch()));
                StringBuilder text = new StringBuilder();
                for (SefClassifier.ImageResult r : classifier.predictEach(batch)) {
                    if (r.error() instanceof NonFiniteOutputException) damaged++;
                    else if (!r.ok()) bad++;
                    if (!r.ok()) err.println("predict: " + r.error().getMessage());
                    if (json) appendJson(text.append(done == 0 ? "\n  " : ",\n  "), r);
                    else if (r.ok()) appendText(text, r.image(), r.predictions());
                    done++;
                }
                out.print(text);
                out.flush();
            }
        } catch (InvalidExportException | IOException | IllegalStateException e) {
            // IllegalStateException: CUDA asked for but unavailable
            err.println("predict: " + e.getMessage());
            return EXIT_BAD_MODEL;
        } catch (OutOfMemoryError e) {
            // a valid image the heap cannot hold is not a bad image; what was classified before it is already printed
            err.println("predict: out of memory after " + done + " of " + images.size() + " images ("
                    + e.getMessage() + "; the JVM may use "
                    + (Runtime.getRuntime().maxMemory() >> 20)
                    + " MB): run java with a larger -Xmx");
            return EXIT_OUT_OF_MEMORY;
        } finally {
            // whatever stopped the run, what stdout holds is one whole JSON array
            if (arrayOpen) {
                out.print("\n]\n");
                out.flush();
            }
        }
        if (damaged > 0) {
            err.println("predict: the model gave non-finite scores for " + damaged + " of " + images.size()
                    + " images: the export is damaged");
            return EXIT_BAD_MODEL;
        }
        if (bad > 0) err.println("predict: " + bad + " of " + images.size() + " images could not be classified");
        return bad > 0 ? EXIT_BAD_IMAGE : 0;
    }

    private static void appendText(StringBuilder text, String image, List<Prediction> predictions) {
        text.append(image).append('\n');
        for (int rank = 0; rank < predictions.size(); rank++) {
            Prediction p = predictions.get(rank);
            text.append(String.format(
                    Locale.ROOT, "  %d. %-30s %8.4f  (class %d)%n", rank + 1, p.label(), p.probability(), p.index()));
        }
    }

    private static void appendJson(StringBuilder text, SefClassifier.ImageResult r) {
        text.append("{\"image\": ").append(quote(r.image()));
        if (!r.ok()) {
            text.append(", \"error\": ").append(quote(r.error().getMessage())).append('}');
            return;
        }
        text.append(", \"predictions\": [");
        List<Prediction> predictions = r.predictions();
        for (int rank = 0; rank < predictions.size(); rank++) {
            Prediction p = predictions.get(rank);
            text.append(rank == 0 ? "" : ", ")
                    .append("{\"label\": ")
                    .append(quote(p.label()))
                    .append(", \"index\": ")
                    .append(p.index())
                    .append(", \"probability\": ")
                    .append(Float.toString(p.probability()))
                    .append('}');
        }
        text.append("]}");
    }

    private static String quote(String s) {
        StringBuilder q = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> q.append("\\\"");
                case '\\' -> q.append("\\\\");
                case '\n' -> q.append("\\n");
                case '\r' -> q.append("\\r");
                case '\t' -> q.append("\\t");
                default -> {
                    if (c < 0x20) q.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    else q.append(c);
                }
            }
        }
        return q.append('"').toString();
    }
}
