package org.sefonnx.infer;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Writes the committed test pictures under src/test/resources/images: small painted scenes (sky, sun, hills, a bird
 * on a branch, sensor-like noise) rather than noise, in the formats the classifier meets (colour and grayscale JPEG,
 * RGB and RGBA PNG), all larger than the 32 px model input so that the antialiased downscale is exercised.
 * Tests never run this; rerunning it changes the golden logits (regenerate them, see GoldenLogits).
 *
 * <pre>java -cp runtime-infer/target/test-classes org.sefonnx.infer.FixtureImages runtime-infer/src/test/resources/images</pre>
 */
public final class FixtureImages {
    private FixtureImages() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        jpeg(
                scene(96, 72, 1, BufferedImage.TYPE_3BYTE_BGR, new Color(70, 130, 200), new Color(190, 60, 40)),
                dir.resolve("bird_on_branch.jpg"));
        png(
                scene(64, 64, 2, BufferedImage.TYPE_3BYTE_BGR, new Color(250, 170, 90), new Color(30, 30, 40)),
                dir.resolve("sunset_silhouette.png"));
        BufferedImage gray = new BufferedImage(80, 60, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = gray.createGraphics();
        g.drawImage(
                scene(80, 60, 3, BufferedImage.TYPE_3BYTE_BGR, new Color(150, 170, 190), new Color(240, 240, 230)),
                0,
                0,
                null);
        g.dispose();
        jpeg(gray, dir.resolve("gull_grayscale.jpg"));
        png(
                scene(48, 40, 4, BufferedImage.TYPE_INT_ARGB, new Color(120, 200, 120), new Color(250, 210, 30)),
                dir.resolve("finch_rgba.png"));
    }

    static BufferedImage scene(int width, int height, long seed, int type, Color sky, Color bird) {
        SplittableRandom random = new SplittableRandom(seed);
        BufferedImage image = new BufferedImage(width, height, type);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setPaint(new GradientPaint(0, 0, sky, 0, height, sky.brighter().brighter()));
        g.fillRect(0, 0, width, height);
        g.setColor(new Color(255, 240, 170));
        g.fill(new Ellipse2D.Double(width * 0.72, height * 0.08, width * 0.16, width * 0.16));
        Path2D hills = new Path2D.Double();
        hills.moveTo(0, height);
        for (int x = 0; x <= width; x += 4) hills.lineTo(x, height * (0.72 + 0.08 * Math.sin(x * 0.11 + seed)));
        hills.lineTo(width, height);
        hills.closePath();
        g.setColor(new Color(60, 110 + (int) seed * 10, 50));
        g.fill(hills);
        g.setColor(new Color(90, 60, 30));
        g.setStroke(new BasicStroke(Math.max(2, height / 20f)));
        g.drawLine(width / 10, (int) (height * 0.62), (int) (width * 0.8), (int) (height * 0.55));
        g.setColor(bird);
        g.fill(new Ellipse2D.Double(width * 0.35, height * 0.38, width * 0.22, height * 0.18)); // body
        g.fill(new Ellipse2D.Double(width * 0.52, height * 0.32, width * 0.1, width * 0.1)); // head
        g.setColor(Color.ORANGE);
        g.fillPolygon(
                new int[] {(int) (width * 0.61), (int) (width * 0.68), (int) (width * 0.61)},
                new int[] {(int) (height * 0.36), (int) (height * 0.39), (int) (height * 0.42)},
                3);
        g.dispose();
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int argb = image.getRGB(x, y);
                int n = random.nextInt(-12, 13);
                int r = clamp(((argb >> 16) & 0xFF) + n),
                        gr = clamp(((argb >> 8) & 0xFF) + n),
                        b = clamp((argb & 0xFF) + n);
                int alpha = type == BufferedImage.TYPE_INT_ARGB ? 128 + (x * 127 / width) : 255;
                image.setRGB(x, y, (alpha << 24) | (r << 16) | (gr << 8) | b);
            }
        }
        return image;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    private static void png(BufferedImage image, Path file) throws IOException {
        if (!ImageIO.write(image, "png", file.toFile())) throw new IOException("no PNG writer");
    }

    private static void jpeg(BufferedImage image, Path file) throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
        ImageWriter writer = writers.next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.9f);
        Files.deleteIfExists(file);
        try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
    }
}
