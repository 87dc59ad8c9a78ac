package org.sefonnx.bench.gpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The GPU's own time per kernel, from Nsight Compute's CSV ({@code ncu --csv --page raw --metrics
 * gpu__time_duration.sum}): each launch is a row with its kernel name and duration. Kernels are grouped into the
 * classes a training step is made of (convolution forward, data gradient, weight gradient, other matrix products,
 * BatchNorm, element-wise, reductions, copies), so the largest cost has a name; the kernel names also say which
 * cuDNN algorithm family ran (implicit GEMM, Winograd, FFT).
 */
final class KernelTimes {
    record Kernel(String name, double nanos) {}

    final List<Kernel> launches;

    private KernelTimes(List<Kernel> launches) {
        this.launches = launches;
    }

    static KernelTimes read(Path csv) throws IOException {
        List<String[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(csv)) if (line.startsWith("\"")) rows.add(split(line));
        if (rows.size() < 2) throw new IOException(csv + ": no CSV rows from ncu (did it attach to the JVM?)");
        String[] head = rows.get(0);
        int nameCol = -1, timeCol = -1;
        for (int i = 0; i < head.length; i++) {
            if (head[i].equals("Kernel Name") || (nameCol < 0 && head[i].equals("Function Name"))) nameCol = i;
            if (head[i].equals("gpu__time_duration.sum")) timeCol = i;
        }
        if (nameCol < 0 || timeCol < 0)
            throw new IOException(
                    csv + ": no 'Kernel Name' and 'gpu__time_duration.sum' columns in " + String.join(",", head));
        int first = 1;
        double scale = 1;
        String unit = rows.get(1).length > timeCol ? rows.get(1)[timeCol] : "";
        if (unit.endsWith("second") || unit.isEmpty()) {
            first = 2;
            scale = switch (unit) {
                case "usecond" -> 1e3;
                case "msecond" -> 1e6;
                case "second" -> 1e9;
                default -> 1;
            };
        }
        List<Kernel> launches = new ArrayList<>();
        for (String[] r : rows.subList(first, rows.size())) {
            if (r.length <= Math.max(nameCol, timeCol)) continue;
            String t = r[timeCol].replace(",", "");
            if (t.isEmpty()) continue;
            launches.add(new Kernel(r[nameCol], Double.parseDouble(t) * scale));
        }
        return new KernelTimes(launches);
    }

    private static String[] split(String line) {
        List<String> f = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) {
                f.add(cur.toString());
                cur.setLength(0);
            } else cur.append(c);
        }
        f.add(cur.toString());
        return f.toArray(new String[0]);
    }

    /** The class of a kernel, by the words NVIDIA's and ORT's kernel names use. */
    static String classOf(String kernel) {
        String k = kernel.toLowerCase(Locale.ROOT);
        if (k.contains("wgrad") || k.contains("convolve_dw") || k.contains("bwd_filter")) return "conv weight gradient";
        if (k.contains("dgrad") || k.contains("bwd_data") || k.contains("convolve_dx")) return "conv data gradient";
        if (k.contains("fprop")
                || k.contains("implicit_convolve")
                || k.contains("conv2d")
                || k.contains("convolve")
                || k.contains("winograd")
                || k.contains("fft")) return "conv forward";
        if (k.contains("memcpy") || k.contains("memset")) return "copies";
        if (k.contains("gemm") || k.contains("cutlass") || k.contains("matmul") || k.contains("xmma"))
            return "other matrix products";
        if (k.contains("bn_") || k.contains("batch_norm") || k.contains("batchnorm")) return "BatchNorm";
        if (k.contains("reduce") || k.contains("reduction")) return "reductions";
        if (k.contains("softmax")) return "softmax";
        if (k.contains("scatter") || k.contains("gather") || k.contains("pool")) return "pooling, gather, scatter";
        if (k.contains("elementwise") || k.contains("element_wise") || k.contains("impl") || k.contains("cast"))
            return "element-wise";
        return "other";
    }

    /** {class or kernel: [nanos, launches]}, costliest first. */
    Map<String, double[]> grouped(boolean byClass) {
        Map<String, double[]> m = new LinkedHashMap<>();
        for (Kernel k : launches) {
            double[] a = m.computeIfAbsent(byClass ? classOf(k.name()) : k.name(), x -> new double[2]);
            a[0] += k.nanos();
            a[1]++;
        }
        Map<String, double[]> r = new LinkedHashMap<>();
        m.entrySet().stream()
                .sorted((x, y) -> Double.compare(y.getValue()[0], x.getValue()[0]))
                .forEach(e -> r.put(e.getKey(), e.getValue()));
        return r;
    }

    double totalNanos() {
        return launches.stream().mapToDouble(Kernel::nanos).sum();
    }

    String headline(int steps) {
        StringBuilder s = new StringBuilder(String.format(
                Locale.ROOT,
                "%d launches, GPU time %.1f ms a step: ",
                launches.size() / Math.max(1, steps),
                totalNanos() / steps / 1e6));
        int k = 0;
        for (var e : grouped(true).entrySet()) {
            if (k++ == 5) break;
            s.append(k == 1 ? "" : ", ")
                    .append(String.format(Locale.ROOT, "%s %.0f%%", e.getKey(), 100 * e.getValue()[0] / totalNanos()));
        }
        return s.toString();
    }

    String report(int steps) {
        StringBuilder s = new StringBuilder(
                "== GPU kernel time (Nsight Compute), " + steps + " steps\n" + headline(steps) + "\n");
        for (var e : grouped(true).entrySet())
            s.append(String.format(
                    Locale.ROOT,
                    "  %-28s %9.3f ms a step %6.1f%% %6.0f launches a step%n",
                    e.getKey(),
                    e.getValue()[0] / steps / 1e6,
                    100 * e.getValue()[0] / totalNanos(),
                    e.getValue()[1] / steps));
        s.append("costliest kernels:\n");
        grouped(false).entrySet().stream()
                .limit(25)
                .forEach(e -> s.append(String.format(
                        Locale.ROOT,
                        "  %9.3f ms a step %5.0f x  %s%n",
                        e.getValue()[0] / steps / 1e6,
                        e.getValue()[1] / steps,
                        e.getKey().length() > 150 ? e.getKey().substring(0, 150) + "…" : e.getKey())));
        return s.toString();
    }
}
