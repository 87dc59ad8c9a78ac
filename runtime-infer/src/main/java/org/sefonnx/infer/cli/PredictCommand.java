package org.sefonnx.infer.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.infer.InvalidExportException;
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
            "3:the export directory is missing or inconsistent",
            "4:out of memory (raise -Xmx)"
        })
public final class PredictCommand implements Callable<Integer> {
    public static final int EXIT_BAD_IMAGE = 1;
    public static final int EXIT_BAD_MODEL = 3;
    public static final int EXIT_OUT_OF_MEMORY = 4;

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

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "JPEG or PNG files.")
    List<Path> images;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
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
                .withDevice(device);
        try (SefClassifier classifier = SefClassifier.open(model, options)) {
            StringBuilder text = new StringBuilder(json ? "[" : "");
            int bad = 0;
            List<SefClassifier.ImageResult> results = classifier.predictEach(images);
            for (int i = 0; i < results.size(); i++) {
                SefClassifier.ImageResult r = results.get(i);
                if (!r.ok()) {
                    bad++;
                    err.println("predict: " + r.error().getMessage());
                }
                if (json) appendJson(text.append(i == 0 ? "\n  " : ",\n  "), r);
                else if (r.ok()) appendText(text, r.image(), r.predictions());
            }
            out.print(json ? text.append("\n]\n") : text);
            out.flush();
            if (bad > 0) err.println("predict: " + bad + " of " + results.size() + " images could not be classified");
            return bad > 0 ? EXIT_BAD_IMAGE : 0;
        } catch (InvalidExportException | IOException | IllegalStateException e) {
            // IllegalStateException: CUDA asked for but unavailable
            err.println("predict: " + e.getMessage());
            return EXIT_BAD_MODEL;
        } catch (OutOfMemoryError e) {
            // a valid image the heap cannot hold is not a bad image
            err.println("predict: out of memory (" + e.getMessage() + "; the JVM may use "
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MB): run java with a larger -Xmx");
            return EXIT_OUT_OF_MEMORY;
        }
    }

    private static void appendText(StringBuilder text, Path image, List<Prediction> predictions) {
        text.append(image).append('\n');
        for (int rank = 0; rank < predictions.size(); rank++) {
            Prediction p = predictions.get(rank);
            text.append(String.format(
                    Locale.ROOT, "  %d. %-30s %8.4f  (class %d)%n", rank + 1, p.label(), p.probability(), p.index()));
        }
    }

    private static void appendJson(StringBuilder text, SefClassifier.ImageResult r) {
        text.append("{\"image\": ").append(quote(r.image().toString()));
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
