package org.sefonnx.bench.gpu;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which cuDNN convolution algorithms ORT used, read from cuDNN's own API log ({@code CUDNN_LOGLEVEL_DBG=3} for cuDNN 9,
 * {@code CUDNN_LOGINFO_DBG=1} for 8, {@code CUDNN_LOGDEST_DBG=<file>}): each API call is a header line naming the
 * function, followed by its parameters, among them {@code algo: type=cudnnConvolutionFwdAlgo_t; val=...} and the
 * convolution descriptor's {@code mathType}. Counts every (function, algorithm, math type) of the convolution calls,
 * and every function called, so that a log of another shape (cuDNN's graph API) still says what ran.
 */
final class CudnnLog {
    private static final Pattern CALL = Pattern.compile("function (cudnn\\w+)\\(\\) called");
    private static final Pattern ALGO = Pattern.compile("algo: type=(\\w+); val=(\\w+)");
    private static final Pattern MATH = Pattern.compile("mathType: type=cudnnMathType_t; val=(\\w+)");

    final Map<String, Integer> convolutions = new TreeMap<>();
    final Map<String, Integer> functions = new TreeMap<>();

    static CudnnLog read(Path log) throws IOException {
        CudnnLog r = new CudnnLog();
        String function = null, algo = null, math = null;
        try (BufferedReader in = Files.newBufferedReader(log, java.nio.charset.StandardCharsets.ISO_8859_1)) {
            for (String line; (line = in.readLine()) != null; ) {
                Matcher c = CALL.matcher(line);
                if (c.find()) {
                    r.record(function, algo, math);
                    function = c.group(1);
                    algo = null;
                    math = null;
                    r.functions.merge(function, 1, Integer::sum);
                    continue;
                }
                Matcher a = ALGO.matcher(line);
                if (a.find()) algo = a.group(2);
                Matcher m = MATH.matcher(line);
                if (m.find()) math = m.group(1);
            }
        }
        r.record(function, algo, math);
        return r;
    }

    private void record(String function, String algo, String math) {
        if (function == null || algo == null || !function.startsWith("cudnnConvolution")) return;
        convolutions.merge(function + " " + algo + (math == null ? "" : " " + math), 1, Integer::sum);
    }

    String headline() {
        if (convolutions.isEmpty())
            return functions.isEmpty()
                    ? "no cuDNN API records in the log (was the logging variable honoured?)"
                    : "no legacy convolution calls; functions called: " + top(functions, 8);
        return "convolution calls by algorithm: " + top(convolutions, 12);
    }

    private static String top(Map<String, Integer> m, int k) {
        StringBuilder s = new StringBuilder();
        m.entrySet().stream()
                .sorted((x, y) -> y.getValue() - x.getValue())
                .limit(k)
                .forEach(e -> s.append(s.isEmpty() ? "" : "; ")
                        .append(e.getKey())
                        .append(" x")
                        .append(e.getValue()));
        return s.toString();
    }

    String report() {
        StringBuilder s = new StringBuilder("== cuDNN API log\n" + headline() + "\n");
        convolutions.forEach((k, v) -> s.append(String.format(Locale.ROOT, "  %6d  %s%n", v, k)));
        s.append("functions:\n");
        functions.forEach((k, v) -> s.append(String.format(Locale.ROOT, "  %6d  %s%n", v, k)));
        return s.toString();
    }
}
