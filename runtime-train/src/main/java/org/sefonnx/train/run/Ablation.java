package org.sefonnx.train.run;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.run.metrics.ConfusionMatrix;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunProperties;
import org.sefonnx.train.run.state.RunState;

/**
 * `sef-onnx ablate`: the paper's Table III settings as ordinary run folders under one directory (one per row, each
 * resumable), then ablation.md and ablation.csv with our numbers beside the paper's. Running it again continues where
 * it stopped: a finished row (its run state complete and summary.txt written, the last step of a run) is read, not
 * retrained; a half-done row is resumed from its committed state.
 */
public final class Ablation {
    /** One Table III setting: the loss weights of L = CE + λ·E + γ·S + φ·L_group. */
    public record Row(String name, double lambda, double gamma, double phi) {
        String weights() {
            return String.format(Locale.ROOT, "λ=%s γ=%s φ=%s", number(lambda), number(gamma), number(phi));
        }
    }

    /** The rows of the paper's Table III, in its order; "sef" is the shipped recipe. */
    public static final List<Row> TABLE_III = List.of(
            new Row("baseline", 0, 0, 0),
            new Row("grouping", 0, 0, 1),
            new Row("entropy-distill", 0.05, 0.05, 0),
            new Row("entropy-distill-grouping", 0.05, 0.05, 1),
            new Row("sef", 1, 0.05, 1));

    /** The tables ablate writes into its folder: our numbers beside the paper's, as Markdown and as CSV. */
    static final String TABLE_MD = "ablation.md", TABLE_CSV = "ablation.csv";

    /** What one row's run gave, read from its committed state, and the settings its run.properties recorded. */
    public record Outcome(
            Row row,
            Path run,
            int epochs,
            int bestEpoch,
            double selectedTop1,
            double testTop1,
            double testMeanClassAccuracy,
            Settings settings) {}

    /** The options that make rows comparable besides the loss weights; the table states them. */
    public record Settings(long seed, int batchSize, int maxBatchesPerEpoch, Path dataRoot) {
        static Settings of(TrainOptions o) {
            Path root = o.data().root();
            return new Settings(
                    o.seed(),
                    o.schedule().batchSize(),
                    o.schedule().maxBatchesPerEpoch(),
                    root == null ? null : root.toAbsolutePath());
        }

        /** "seed 42, batch size 32, every batch" as the table and the refusal say it. */
        String describe() {
            return String.format(
                    Locale.ROOT,
                    "seed %d, batch size %d, %s",
                    seed,
                    batchSize,
                    maxBatchesPerEpoch == 0
                            ? "every batch"
                            : "at most " + maxBatchesPerEpoch + (maxBatchesPerEpoch == 1 ? " batch" : " batches")
                                    + " per epoch");
        }
    }

    private final TrainOptions template;
    private final Protocol protocol;
    private final PrintStream log;
    /** --force-rows: keep rows made with another seed, batch size or batch limit (the table then states each row's). */
    private final boolean forceRows;
    /** Called after each row's run is complete; tests throw from it to stop an ablation between rows, as a kill would. */
    interface AfterRow {
        AfterRow NONE = row -> {};

        void finished(Row row) throws IOException;
    }

    AfterRow afterRow = AfterRow.NONE;

    /** {@code template} holds the base spec and every option; its out folder is the ablation's, each row gets a subfolder. */
    public Ablation(TrainOptions template, Protocol protocol, PrintStream log) {
        this(template, protocol, false, log);
    }

    /** The same; {@code forceRows} keeps rows whose seed, batch size or batch limit differ from {@code template}'s. */
    public Ablation(TrainOptions template, Protocol protocol, boolean forceRows, PrintStream log) {
        this.template = template;
        this.protocol = protocol;
        this.forceRows = forceRows;
        this.log = log;
    }

    /** Parses --rows: comma-separated row names; null or empty means every row. */
    public static List<Row> rows(String names) {
        if (names == null || names.isBlank()) return TABLE_III;
        List<Row> out = new ArrayList<>();
        for (String name : names.split(",")) {
            Row row = TABLE_III.stream()
                    .filter(r -> r.name().equals(name.strip()))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("--rows: unknown row '" + name.strip()
                            + "'; the rows are "
                            + String.join(
                                    ", ", TABLE_III.stream().map(Row::name).toList())));
            if (out.contains(row)) throw new IllegalArgumentException("--rows names " + row.name() + " twice");
            out.add(row);
        }
        return out;
    }

    /** The row's options: the base spec with the row's loss weights (its own id unless they are the base's), in DIR/row. */
    TrainOptions optionsFor(Row row) {
        ModelSpec base = template.spec();
        ModelSpec spec = base.withLosses(row.lambda(), row.gamma(), row.phi(), base.groupingLoss());
        if (!spec.equals(base)) spec = spec.withId(base.id() + "-" + row.name());
        return template.withRun(spec, template.outDir().resolve(row.name()));
    }

    /** Runs (or continues) every row, then writes and prints the table. */
    public List<Outcome> run(List<Row> rows) throws IOException {
        for (Row row : rows) requireSameRun(row);
        Files.createDirectories(template.outDir());
        List<Outcome> outcomes = new ArrayList<>();
        for (Row row : rows) {
            TrainOptions o = optionsFor(row);
            RunDirectory run = new RunDirectory(o.outDir());
            if (finished(run, o.schedule().epochs())) {
                log.println("ablate: row " + row.name() + " (" + row.weights() + ") finished earlier in " + run.root()
                        + "; kept");
            } else if (RunState.exists(run)) {
                log.println("ablate: row " + row.name() + " (" + row.weights() + ") continues in " + run.root());
                Trainer.resume(run.root(), o.schedule().epochs(), false, protocol, log);
            } else {
                // a row whose start was killed before its first run state is begun again by the trainer, which
                // deletes that start's own files and nothing else (UnfinishedStart)
                log.println("ablate: row " + row.name() + " (" + row.weights() + ") in " + run.root());
                new Trainer(o, protocol, log).train();
            }
            afterRow.finished(row);
            outcomes.add(outcome(row, run));
        }
        Layout layout = template.data().layout();
        String md = markdown(
                layout, template.spec().depth(), protocol, template.data().root(), outcomes);
        AtomicFiles.writeString(template.outDir().resolve(TABLE_MD), md);
        AtomicFiles.writeString(
                template.outDir().resolve(TABLE_CSV),
                csv(layout, template.spec().depth(), protocol, outcomes));
        log.print(md);
        return outcomes;
    }

    /** A row folder made by another ablation (other data, spec or protocol) is refused before any row runs. */
    private void requireSameRun(Row row) throws IOException {
        TrainOptions o = optionsFor(row);
        RunDirectory run = new RunDirectory(o.outDir());
        if (!RunState.exists(run)) return;
        RunProperties recorded = RunProperties.read(run);
        TrainOptions saved = recorded.options();
        String dataRoot = o.data().root() == null
                ? null
                : o.data().root().toAbsolutePath().toString();
        String savedRoot = saved.data().root() == null
                ? null
                : saved.data().root().toAbsolutePath().toString();
        if (!saved.spec().equals(o.spec())
                || saved.data().layout() != o.data().layout()
                || !java.util.Objects.equals(dataRoot, savedRoot)) {
            throw new IllegalArgumentException(run.root() + " holds a run of another data set or model ("
                    + saved.spec().id() + " on " + savedRoot + ", this ablation wants "
                    + o.spec().id() + " on " + dataRoot + "); give ablate another --out");
        }
        recorded.protocol().requireSame(protocol, run.root());
        Settings asked = Settings.of(o), found = Settings.of(saved);
        if (!forceRows
                && (asked.seed() != found.seed()
                        || asked.batchSize() != found.batchSize()
                        || asked.maxBatchesPerEpoch() != found.maxBatchesPerEpoch())) {
            throw new IllegalArgumentException(run.root() + " was trained with " + found.describe()
                    + " but this ablation asks for " + asked.describe()
                    + ": its row would not be comparable with the others. Repeat the row's own --seed, --batch-size and"
                    + " --max-batches-per-epoch, give ablate another --out, or pass --force-rows to keep it"
                    + " (the table then states each row's settings)");
        }
    }

    /** A row is finished when its state has every epoch and summary.txt exists (written after the export, the last step). */
    private static boolean finished(RunDirectory run, int epochs) throws IOException {
        return RunState.exists(run)
                && RunState.read(run).epochsCompleted() >= epochs
                && Files.isRegularFile(run.summary());
    }

    private static Outcome outcome(Row row, RunDirectory run) throws IOException {
        RunState state = RunState.read(run);
        EpochMetrics best = state.metrics().get(state.bestEpoch());
        return new Outcome(
                row,
                run.root(),
                state.epochsCompleted(),
                state.bestEpoch(),
                state.bestTop1(),
                best.testTop1(),
                best.testMeanClassAccuracy(),
                Settings.of(RunProperties.read(run).options()));
    }

    /** The rows' settings in one line when they agree, else row by row (rows kept by --force-rows). */
    static String settingsLine(List<Outcome> outcomes) {
        List<String> distinct = outcomes.stream()
                .map(o -> o.settings().describe() + ", " + epochs(o.epochs()))
                .distinct()
                .toList();
        if (distinct.size() <= 1) return "Every row: " + (distinct.isEmpty() ? "no row" : distinct.get(0)) + ".";
        List<String> rows = new ArrayList<>();
        for (Outcome o : outcomes)
            rows.add(o.row().name() + ": " + o.settings().describe() + ", " + epochs(o.epochs()));
        return "The rows differ (kept by --force-rows): " + String.join("; ", rows) + ".";
    }

    private static String epochs(int n) {
        return n + (n == 1 ? " epoch" : " epochs");
    }

    /** ablation.md: our test top-1 per row beside the paper's, and the selection rule in words. */
    static String markdown(Layout layout, int depth, Protocol protocol, Path data, List<Outcome> outcomes) {
        boolean onVal = protocol.selectOn() == Protocol.SelectOn.VAL;
        StringBuilder sb = new StringBuilder("# SEF ablation (the paper's Table III settings), ResNet-")
                .append(depth)
                .append(", ")
                .append(layout == null ? "demo" : layout.name().toLowerCase(Locale.ROOT))
                .append(data == null ? "" : " at " + data.toAbsolutePath())
                .append("\n\n");
        sb.append("Selection rule: ")
                .append(protocol.describe())
                .append(". The paper's numbers are the best epoch by test top-1 ")
                .append(
                        "(50 epochs, 448 px; Luo et al., IEEE SPL 2020); \"not given\": the paper's number for that setting is not in sef-onnx's record of it.\n\n");
        sb.append(settingsLine(outcomes)).append("\n\n");
        sb.append("| row | weights | test top-1 % | mean per-class % |")
                .append(onVal ? " val top-1 % |" : "")
                .append(" best epoch | epochs | paper top-1 % |\n|---|---|---|---|")
                .append(onVal ? "---|" : "")
                .append("---|---|---|\n");
        for (Outcome r : outcomes) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %.2f | %.2f |",
                    r.row().name(),
                    r.row().weights(),
                    100 * r.testTop1(),
                    100 * r.testMeanClassAccuracy()));
            if (onVal) sb.append(String.format(Locale.ROOT, " %.2f |", 100 * r.selectedTop1()));
            sb.append(String.format(
                    Locale.ROOT,
                    " %d | %d | %s |%n",
                    r.bestEpoch() + 1,
                    r.epochs(),
                    layout == null
                            ? "not a paper data set"
                            : PaperResults.cell(layout, depth, r.row().name())));
        }
        return sb.toString();
    }

    /** ablation.csv: the same numbers as fractions, one line per row. */
    static String csv(Layout layout, int depth, Protocol protocol, List<Outcome> outcomes) {
        StringBuilder sb = new StringBuilder(
                "row,lambda,gamma,phi,test_top1,test_mean_class_accuracy,selected_on,selected_top1,best_epoch,epochs,paper_top1_percent,"
                        + "seed,batch_size,max_batches_per_epoch,data_root\n");
        for (Outcome r : outcomes) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%s,%s,%s,%s,%.6f,%.6f,%s,%.6f,%d,%d,%s,%d,%d,%d,%s%n",
                    r.row().name(),
                    number(r.row().lambda()),
                    number(r.row().gamma()),
                    number(r.row().phi()),
                    r.testTop1(),
                    r.testMeanClassAccuracy(),
                    protocol.selectOn().name().toLowerCase(Locale.ROOT),
                    r.selectedTop1(),
                    r.bestEpoch() + 1,
                    r.epochs(),
                    layout == null
                            ? "not a paper data set"
                            : PaperResults.cell(layout, depth, r.row().name()),
                    r.settings().seed(),
                    r.settings().batchSize(),
                    r.settings().maxBatchesPerEpoch(),
                    r.settings().dataRoot() == null
                            ? "demo"
                            : ConfusionMatrix.csvCell(r.settings().dataRoot().toString())));
        }
        return sb.toString();
    }

    private static String number(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
