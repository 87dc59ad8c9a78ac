package org.sefonnx.bench;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.sefonnx.bench.common.BenchCommand;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.Normalization;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.data.ImageSource;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.data.TransformSpec;
import picocli.CommandLine.Command;

/**
 * CUB-like training preprocessing throughput: 500x375 JPEGs, decode + resize 600x600 + random crop 448 +
 * flip + normalise, single thread, for sef-onnx's path and for plain ImageIO.read + Graphics2D; then the
 * multi-threaded BatchLoader with 2 workers. It takes no options ({@code --help}).
 */
@Command(
        name = "DecodeBenchmark",
        mixinStandardHelpOptions = true,
        description = "CUB-like training preprocessing throughput: decode, resize, crop, flip, normalise.")
public final class DecodeBenchmark implements Callable<Integer> {
    /** CUB-200-2011's most common image size. */
    private static final int WIDTH = 500;

    private static final int HEIGHT = 375;
    private static final int IMAGES = 48;
    private static final int RESIZE = 600;
    private static final int CROP = 448;
    private static final double WARMUP_SECONDS = 2;
    private static final double MEASURE_SECONDS = 4;
    private static final int ROUNDS = 3;

    public static void main(String[] args) {
        BenchCommand.run(new DecodeBenchmark(), args);
    }

    @Override
    public Integer call() throws Exception {
        List<byte[]> jpegs = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            jpegs.add(syntheticJpeg(i));
        }
        System.out.printf(
                "%d synthetic %dx%d JPEGs (quality 90), mean %d bytes; %d cores; %s%n",
                IMAGES,
                WIDTH,
                HEIGHT,
                jpegs.stream().mapToInt(b -> b.length).sum() / IMAGES,
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));

        TransformSpec cubTrain = TransformSpec.resizeAndCrop(RESIZE, CROP, TransformSpec.Crop.RANDOM, true);
        FloatBuffer direct = ByteBuffer.allocateDirect(cubTrain.floatsPerImage() * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        ImageDecoder decoder = new ImageDecoder();
        SplittableRandom random = new SplittableRandom(1);
        float[] plainOut = new float[cubTrain.floatsPerImage()];
        ImageReader jdkReader = jdkJpegReader();

        double decodeOnlyChosen = rate(
                "decode only, ImageDecoder (JDK reader + RGB repack; TwelveMonkeys for CMYK/YCCK)",
                jpegs,
                bytes -> decoder.decode(bytes, "bench"));
        ImageReader twelveMonkeys = twelveMonkeysReader();
        double decodeOnlyTwelveMonkeys = rate(
                "decode only, TwelveMonkeys JPEG reader, BufferedImage only",
                jpegs,
                bytes -> jdkDecode(twelveMonkeys, bytes));
        double decodeOnlyJdk =
                rate("decode only, JDK JPEG reader, BufferedImage only", jpegs, bytes -> jdkDecode(jdkReader, bytes));
        double plainDecode =
                rate("decode only, ImageIO.read", jpegs, bytes -> ImageIO.read(new ByteArrayInputStream(bytes)));
        // Alternate the two paths over several rounds and keep each one's best round: a shared machine's
        // background load then hits both alike instead of whichever happened to run during a build.
        double plain = 0;
        double chosen = 0;
        for (int round = 1; round <= ROUNDS; round++) {
            plain = Math.max(
                    plain,
                    rate(
                            "round " + round + " plain: ImageIO.read + Graphics2D bilinear 600 + crop/flip/normalise",
                            jpegs,
                            bytes -> plainPipeline(bytes, random, plainOut)));
            chosen = Math.max(
                    chosen,
                    rate(
                            "round " + round + " sef-onnx: ImageDecoder + PIL-exact resize/crop/flip/normalise",
                            jpegs,
                            bytes -> {
                                cubTrain.apply(decoder.decode(bytes, "bench"), random, direct, 0);
                                return direct;
                            }));
        }
        System.out.printf(
                "%nsingle thread, images/s per core: plain %.1f, sef-onnx %.1f, ratio %.2fx%n",
                plain, chosen, chosen / plain);
        System.out.printf(
                "decode only, images/s: ImageDecoder %.1f, TwelveMonkeys reader %.1f, JDK reader %.1f, ImageIO.read %.1f%n",
                decodeOnlyChosen, decodeOnlyTwelveMonkeys, decodeOnlyJdk, plainDecode);

        Path dir = Files.createTempDirectory("sef-bench");
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < jpegs.size(); i++) {
            Path file = dir.resolve(i + ".jpg");
            Files.write(file, jpegs.get(i));
            samples.add(new Sample(new ImageSource.File(file), i % 10));
        }
        List<Sample> epochSamples = new ArrayList<>();
        for (int r = 0; r < 8; r++) {
            epochSamples.addAll(samples); // 384 images per epoch
        }
        for (int workers : new int[] {1, 2}) {
            try (BatchLoader loader = new BatchLoader(
                    epochSamples, cubTrain, new LoaderOptions(32, workers, 2 * workers, 7L, true, false))) {
                drain(loader, 0); // warm-up
                long start = System.nanoTime();
                int images = 0;
                int epoch = 1;
                while (System.nanoTime() - start < MEASURE_SECONDS * 1e9) {
                    images += drain(loader, epoch++);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("BatchLoader, batch 32, %d worker(s): %.1f images/s%n", workers, images / seconds);
            }
        }
        return 0;
    }

    private static int drain(BatchLoader loader, int epoch) {
        int images = 0;
        try (BatchLoader.Epoch batches = loader.epoch(epoch)) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    images += batch.size();
                }
            }
        }
        return images;
    }

    interface Work {
        Object run(byte[] bytes) throws Exception;
    }

    private static double rate(String label, List<byte[]> jpegs, Work work) throws Exception {
        long sink = 0;
        for (int phase = 0; phase < 2; phase++) {
            double seconds = phase == 0 ? WARMUP_SECONDS : MEASURE_SECONDS;
            long start = System.nanoTime();
            int count = 0;
            while (System.nanoTime() - start < seconds * 1e9) {
                Object result = work.run(jpegs.get(count % jpegs.size()));
                sink += result == null ? 0 : 1;
                count++;
            }
            if (phase == 1) {
                double perSecond = count / ((System.nanoTime() - start) / 1e9);
                System.out.printf("%-75s %8.1f images/s%s%n", label, perSecond, sink == 0 ? " " : "");
                return perSecond;
            }
        }
        throw new AssertionError();
    }

    /** The straightforward Java route: ImageIO, Java2D bilinear scaling, per-image getRGB. */
    private static Object plainPipeline(byte[] bytes, SplittableRandom random, float[] out) throws IOException {
        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(bytes));
        BufferedImage resized = new BufferedImage(RESIZE, RESIZE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = resized.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(decoded, 0, 0, RESIZE, RESIZE, null);
        g.dispose();
        int top = random.nextInt(RESIZE - CROP + 1);
        int left = random.nextInt(RESIZE - CROP + 1);
        boolean flip = random.nextBoolean();
        int[] argb = resized.getRGB(left, top, CROP, CROP, null, 0, CROP);
        Normalization n = Normalization.IMAGENET;
        int plane = CROP * CROP;
        for (int y = 0; y < CROP; y++) {
            for (int x = 0; x < CROP; x++) {
                int p = argb[y * CROP + (flip ? CROP - 1 - x : x)];
                int o = y * CROP + x;
                out[o] = n.apply(0, (p >>> 16) & 0xFF);
                out[plane + o] = n.apply(1, (p >>> 8) & 0xFF);
                out[2 * plane + o] = n.apply(2, p & 0xFF);
            }
        }
        return out;
    }

    private static ImageReader jdkJpegReader() {
        for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName("jpeg"); it.hasNext(); ) {
            ImageReader reader = it.next();
            if (reader.getClass().getName().startsWith("com.sun.")) {
                return reader;
            }
        }
        throw new IllegalStateException("no JDK JPEG reader");
    }

    private static ImageReader twelveMonkeysReader() {
        for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName("jpeg"); it.hasNext(); ) {
            ImageReader reader = it.next();
            if (reader.getClass().getName().startsWith("com.twelvemonkeys.")) {
                return reader;
            }
        }
        throw new IllegalStateException("no TwelveMonkeys JPEG reader on the class path");
    }

    private static Object jdkDecode(ImageReader reader, byte[] bytes) throws IOException {
        try (MemoryCacheImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            BufferedImage image = reader.read(0);
            reader.reset();
            return image;
        }
    }

    /** Smooth colour fields, edges and noise: compresses like a photo (about 40-60 KB at quality 90). */
    private static byte[] syntheticJpeg(int seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_3BYTE_BGR);
        double fx = 0.01 + random.nextDouble() * 0.03;
        double fy = 0.01 + random.nextDouble() * 0.03;
        int cx = random.nextInt(WIDTH);
        int cy = random.nextInt(HEIGHT);
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                boolean inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) < 90 * 90;
                int r = (int) (128 + 100 * Math.sin(x * fx + seed)) + random.nextInt(24) - 12;
                int g = (int) (128 + 100 * Math.cos(y * fy)) + random.nextInt(24) - 12;
                int b = inside
                        ? 40 + random.nextInt(30)
                        : (int) (128 + 80 * Math.sin((x + y) * 0.02)) + random.nextInt(24) - 12;
                image.setRGB(x, y, (clamp(r) << 16) | (clamp(g) << 8) | clamp(b));
            }
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.9f);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, null), param);
        }
        writer.dispose();
        return bytes.toByteArray();
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }
}
