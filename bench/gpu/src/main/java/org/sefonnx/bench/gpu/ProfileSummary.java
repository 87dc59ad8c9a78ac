package org.sefonnx.bench.gpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.sefonnx.generator.weights.Json;

/**
 * Reads ONNX Runtime's profile (Chrome trace JSON: one "model_run" Session event per Run, one "..._kernel_time" Node
 * event per node with its op type and provider) and sums the runs after the warm-up: time per op type, Memcpy nodes,
 * and the nodes ORT placed on the CPU inside a CUDA session. The bytedeco natives are built without CUPTI, so on CUDA
 * a node's time is the host's: launching its kernels, plus any wait for the device (a copy to the host, a
 * synchronising call); the GPU's own time per kernel comes from the kernels section (Nsight Compute).
 */
final class ProfileSummary {
    record Node(String name, String op, String provider, double micros) {}

    final int runs;
    final double runMicros;
    final List<Node> nodes;

    private ProfileSummary(int runs, double runMicros, List<Node> nodes) {
        this.runs = runs;
        this.runMicros = runMicros;
        this.nodes = nodes;
    }

    /** The runs after the first {@code warmup}: node times summed over them. */
    @SuppressWarnings("unchecked")
    static ProfileSummary read(Path json, int warmup) throws IOException {
        Object parsed = Json.parse(Files.readString(json), json.toString());
        if (!(parsed instanceof List<?> events))
            throw new IOException(json + ": expected a JSON array of trace events");
        List<double[]> windows = new ArrayList<>();
        for (Object o : events) {
            Map<String, Object> e = (Map<String, Object>) o;
            if ("Session".equals(e.get("cat")) && "model_run".equals(e.get("name")))
                windows.add(new double[] {number(e.get("ts")), number(e.get("ts")) + number(e.get("dur"))});
        }
        windows.sort(Comparator.comparingDouble(w -> w[0]));
        List<double[]> kept = windows.subList(Math.min(warmup, windows.size()), windows.size());
        double runMicros = 0;
        for (double[] w : kept) runMicros += w[1] - w[0];
        List<Node> nodes = new ArrayList<>();
        for (Object o : events) {
            Map<String, Object> e = (Map<String, Object>) o;
            String name = String.valueOf(e.get("name"));
            if (!"Node".equals(e.get("cat")) || !name.endsWith("_kernel_time")) continue;
            double ts = number(e.get("ts"));
            if (kept.stream().noneMatch(w -> ts >= w[0] && ts <= w[1])) continue;
            Map<String, Object> args = e.get("args") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
            nodes.add(new Node(
                    name.substring(0, name.length() - "_kernel_time".length()),
                    String.valueOf(args.getOrDefault("op_name", "?")),
                    String.valueOf(args.getOrDefault("provider", "?")),
                    number(e.get("dur"))));
        }
        return new ProfileSummary(kept.size(), runMicros, nodes);
    }

    private static double number(Object o) {
        return o instanceof Number n ? n.doubleValue() : 0;
    }

    double nodeMicros() {
        return nodes.stream().mapToDouble(Node::micros).sum();
    }

    /** Op types by summed time, most first: {op: [micros, count]}. */
    Map<String, double[]> byOp() {
        Map<String, double[]> m = new LinkedHashMap<>();
        for (Node n : nodes) {
            double[] a = m.computeIfAbsent(n.op(), k -> new double[2]);
            a[0] += n.micros();
            a[1]++;
        }
        List<Map.Entry<String, double[]>> sorted = new ArrayList<>(m.entrySet());
        sorted.sort((x, y) -> Double.compare(y.getValue()[0], x.getValue()[0]));
        Map<String, double[]> r = new LinkedHashMap<>();
        for (var e : sorted) r.put(e.getKey(), e.getValue());
        return r;
    }

    /** Nodes run by another provider than {@code main}, counted by op type (per run). */
    Map<String, Integer> offProvider(String main) {
        Map<String, Integer> m = new TreeMap<>();
        for (Node n : nodes) if (!n.provider().equals(main)) m.merge(n.op() + " on " + n.provider(), 1, Integer::sum);
        m.replaceAll((k, v) -> v / Math.max(1, runs));
        return m;
    }

    /** One line for the table. */
    String headline(String mainProvider) {
        double total = nodeMicros();
        StringBuilder top = new StringBuilder();
        int k = 0;
        for (var e : byOp().entrySet()) {
            if (k++ == 4) break;
            top.append(k == 1 ? "" : ", ")
                    .append(String.format(Locale.ROOT, "%s %.0f%%", e.getKey(), 100 * e.getValue()[0] / total));
        }
        double memcpy = 0;
        int memcpyNodes = 0;
        for (Node n : nodes)
            if (n.op().startsWith("Memcpy")) {
                memcpy += n.micros();
                memcpyNodes++;
            }
        return String.format(
                Locale.ROOT,
                "%d runs, %.1f ms a run (node host time %.1f ms): %s; Memcpy nodes %d a run (%.1f%% of node time); off %s: %s",
                runs,
                runMicros / Math.max(1, runs) / 1e3,
                total / Math.max(1, runs) / 1e3,
                top,
                memcpyNodes / Math.max(1, runs),
                total == 0 ? 0 : 100 * memcpy / total,
                mainProvider,
                offProvider(mainProvider).isEmpty() ? "none" : offProvider(mainProvider));
    }

    /** The full text for the report: op types, then the 15 costliest nodes. */
    String report(String title, String mainProvider) {
        StringBuilder s = new StringBuilder("== " + title + "\n" + headline(mainProvider) + "\n");
        double total = nodeMicros();
        s.append(String.format(Locale.ROOT, "%-34s %10s %7s %6s%n", "op type", "ms a run", "share", "nodes"));
        for (var e : byOp().entrySet())
            s.append(String.format(
                    Locale.ROOT,
                    "%-34s %10.3f %6.1f%% %6.0f%n",
                    e.getKey(),
                    e.getValue()[0] / runs / 1e3,
                    100 * e.getValue()[0] / total,
                    e.getValue()[1] / runs));
        s.append("costliest nodes (summed over the runs):\n");
        nodes.stream()
                .collect(java.util.stream.Collectors.groupingBy(
                        Node::name, LinkedHashMap::new, java.util.stream.Collectors.toList()))
                .entrySet()
                .stream()
                .sorted((x, y) -> Double.compare(
                        y.getValue().stream().mapToDouble(Node::micros).sum(),
                        x.getValue().stream().mapToDouble(Node::micros).sum()))
                .limit(15)
                .forEach(e -> s.append(String.format(
                        Locale.ROOT,
                        "  %-60s %-22s %-24s %9.3f ms a run%n",
                        e.getKey(),
                        e.getValue().get(0).op(),
                        e.getValue().get(0).provider(),
                        e.getValue().stream().mapToDouble(Node::micros).sum() / runs / 1e3)));
        return s.toString();
    }
}
