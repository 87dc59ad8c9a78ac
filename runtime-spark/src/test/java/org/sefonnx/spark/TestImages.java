package org.sefonnx.spark;

import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Writes painted test pictures (a gradient sky, a disc and an ellipse, sensor-like noise) in the formats Spark jobs
 * meet, in turn: colour JPEG, grayscale JPEG, four-channel (CMYK) JPEG, RGB PNG, RGBA PNG, grayscale PNG; sizes vary
 * around and above the 32 px model input. Deterministic in the seed. Also used by bench/spark (test-jar).
 */
public final class TestImages {
    /** The formats, in the order {@link #write} cycles through them. */
    public enum Kind {
        RGB_JPEG("jpg"),
        GRAY_JPEG("jpg"),
        CMYK_JPEG("jpg"),
        RGB_PNG("png"),
        RGBA_PNG("png"),
        GRAY_PNG("png");

        final String extension;

        Kind(String extension) {
            this.extension = extension;
        }
    }

    private TestImages() {}

    /** Writes {@code count} pictures into {@code dir} as {@code img-0000-rgb_jpeg.jpg} ...; returns them in order. */
    public static List<Path> write(Path dir, int count, long seed) throws IOException {
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>(count);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) {
            Kind kind = Kind.values()[i % Kind.values().length];
            int width = 24 + random.nextInt(120);
            int height = 24 + random.nextInt(100);
            Path file =
                    dir.resolve(String.format("img-%04d-%s.%s", i, kind.name().toLowerCase(), kind.extension));
            write(kind, scene(width, height, random.split()), file);
            files.add(file);
        }
        return files;
    }

    /** Writes the first third of {@code jpeg}'s bytes to {@code file}: a truncated JPEG the decoder refuses. */
    public static Path truncated(Path jpeg, Path file) throws IOException {
        byte[] whole = Files.readAllBytes(jpeg);
        return Files.write(file, Arrays.copyOf(whole, whole.length / 3));
    }

    /**
     * A copy of {@code jpeg} whose EXIF orientation tag says {@code orientation} (1-8): an APP1 "Exif" segment with a
     * one-entry big-endian IFD0 right after the SOI marker, as a camera writes it; the pixels stay as stored.
     */
    public static Path withExifOrientation(Path jpeg, int orientation, Path file) throws IOException {
        byte[] plain = Files.readAllBytes(jpeg);
        // TIFF header "MM", 42, IFD0 at 8; one entry: tag 0x0112 (Orientation), type SHORT, count 1, value; no next IFD
        byte[] tiff = {
            'M',
            'M',
            0,
            42,
            0,
            0,
            0,
            8,
            0,
            1,
            0x01,
            0x12,
            0,
            3,
            0,
            0,
            0,
            1,
            0,
            (byte) orientation,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0
        };
        int length = 2 + 6 + tiff.length;
        byte[] app1 = {(byte) 0xFF, (byte) 0xE1, (byte) (length >> 8), (byte) length, 'E', 'x', 'i', 'f', 0, 0};
        byte[] tagged = new byte[plain.length + app1.length + tiff.length];
        System.arraycopy(plain, 0, tagged, 0, 2);
        System.arraycopy(app1, 0, tagged, 2, app1.length);
        System.arraycopy(tiff, 0, tagged, 2 + app1.length, tiff.length);
        System.arraycopy(plain, 2, tagged, 2 + app1.length + tiff.length, plain.length - 2);
        return Files.write(file, tagged);
    }

    private static BufferedImage scene(int width, int height, SplittableRandom random) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        Color sky = new Color(random.nextInt(256), random.nextInt(256), random.nextInt(256));
        g.setPaint(new GradientPaint(0, 0, sky, 0, height, sky.darker()));
        g.fillRect(0, 0, width, height);
        g.setColor(new Color(random.nextInt(256), random.nextInt(256), random.nextInt(256)));
        g.fill(new Ellipse2D.Double(
                random.nextDouble() * width, random.nextDouble() * height, width / 3.0, width / 3.0));
        g.setColor(new Color(random.nextInt(256), random.nextInt(256), random.nextInt(256)));
        g.fill(new Ellipse2D.Double(width * 0.3, height * 0.4, width * 0.4, height * 0.25));
        g.dispose();
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int argb = image.getRGB(x, y);
                int n = random.nextInt(-10, 11);
                int alpha = 96 + (x * 159 / width);
                image.setRGB(
                        x,
                        y,
                        (alpha << 24)
                                | (clamp(((argb >> 16) & 0xFF) + n) << 16)
                                | (clamp(((argb >> 8) & 0xFF) + n) << 8)
                                | clamp((argb & 0xFF) + n));
            }
        }
        return image;
    }

    private static void write(Kind kind, BufferedImage argb, Path file) throws IOException {
        switch (kind) {
            case RGB_JPEG -> jpeg(new IIOImage(convert(argb, BufferedImage.TYPE_3BYTE_BGR), null, null), file);
            case GRAY_JPEG -> jpeg(new IIOImage(convert(argb, BufferedImage.TYPE_BYTE_GRAY), null, null), file);
            case CMYK_JPEG -> jpeg(new IIOImage(cmyk(argb), null, null), file);
            case RGB_PNG -> png(convert(argb, BufferedImage.TYPE_3BYTE_BGR), file);
            case RGBA_PNG -> png(argb, file);
            case GRAY_PNG -> png(convert(argb, BufferedImage.TYPE_BYTE_GRAY), file);
        }
    }

    private static BufferedImage convert(BufferedImage argb, int type) {
        BufferedImage out = new BufferedImage(argb.getWidth(), argb.getHeight(), type);
        Graphics2D g = out.createGraphics();
        g.drawImage(argb, 0, 0, null);
        g.dispose();
        return out;
    }

    /** A four-band raster with naive CMYK from RGB (K = 255 - max): written as is, it makes a CMYK JPEG. */
    private static Raster cmyk(BufferedImage argb) {
        WritableRaster raster =
                Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, argb.getWidth(), argb.getHeight(), 4, null);
        int[] pixel = new int[4];
        for (int y = 0; y < argb.getHeight(); y++) {
            for (int x = 0; x < argb.getWidth(); x++) {
                int rgb = argb.getRGB(x, y);
                int r = (rgb >> 16) & 0xFF, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF;
                int max = Math.max(r, Math.max(g, b));
                pixel[0] = max - r;
                pixel[1] = max - g;
                pixel[2] = max - b;
                pixel[3] = 255 - max;
                raster.setPixel(x, y, pixel);
            }
        }
        return raster;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    private static void png(BufferedImage image, Path file) throws IOException {
        if (!ImageIO.write(image, "png", file.toFile())) throw new IOException("no PNG writer for " + file);
    }

    private static void jpeg(IIOImage image, Path file) throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
        ImageWriter writer = writers.next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.9f);
        Files.deleteIfExists(file);
        try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            writer.setOutput(out);
            writer.write(null, image, param);
        } finally {
            writer.dispose();
        }
    }
}
