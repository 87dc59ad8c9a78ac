package org.sefonnx.train.run.explain;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.sefonnx.contract.AtomicFiles;

/** The figures of explain and the report, drawn with Java2D: colour maps, heat maps, overlays. */
public final class Pictures {
    /** Overlay weight of the activation colour over the input image (the paper's Fig. 4 blends about half and half). */
    static final double OVERLAY_ALPHA = 0.5;
    /** Smallest side of an image tile in a figure: 32-px inputs are upscaled so the maps can be seen. */
    static final int MIN_TILE_PX = 160;

    private Pictures() {}

    /** A jet-like colour map (blue, cyan, yellow, red) of {@code v} in 0..1, the colouring of the paper's figures. */
    public static Color colour(double v) {
        double t = Math.max(0, Math.min(1, v));
        double r = clamp(1.5 - Math.abs(4 * t - 3)),
                g = clamp(1.5 - Math.abs(4 * t - 2)),
                b = clamp(1.5 - Math.abs(4 * t - 1));
        return new Color((float) r, (float) g, (float) b);
    }

    private static double clamp(double v) {
        return Math.max(0, Math.min(1, v));
    }

    /** The input image blended with the colour-mapped 0..1 {@code heat} of the same size. */
    public static BufferedImage overlay(BufferedImage input, float[] heat) {
        int w = input.getWidth(), h = input.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                Color c = colour(heat[y * w + x]);
                int rgb = input.getRGB(x, y);
                int r = blend((rgb >> 16) & 255, c.getRed()),
                        g = blend((rgb >> 8) & 255, c.getGreen()),
                        b = blend(rgb & 255, c.getBlue());
                out.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return out;
    }

    private static int blend(int base, int colour) {
        return (int) Math.round((1 - OVERLAY_ALPHA) * base + OVERLAY_ALPHA * colour);
    }

    /** A C x C matrix of values in 0..1 as a heat map, one or more pixels per entry, with the group boundaries in white. */
    public static BufferedImage matrixHeatMap(ChannelCorrelation q, String title) {
        int c = q.channels();
        int scale = Math.max(1, 512 / c);
        int side = c * scale, margin = 36;
        BufferedImage img = new BufferedImage(side + 2 * margin + 60, side + 2 * margin, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        for (int i = 0; i < c; i++) {
            for (int j = 0; j < c; j++) {
                g.setColor(colour(q.mean(i, j)));
                g.fillRect(margin + j * scale, margin + i * scale, scale, scale);
            }
        }
        g.setColor(Color.WHITE);
        g.setStroke(new BasicStroke(2));
        for (int s : q.groupStarts()) {
            if (s == 0) continue;
            g.drawLine(margin + s * scale, margin, margin + s * scale, margin + side);
            g.drawLine(margin, margin + s * scale, margin + side, margin + s * scale);
        }
        g.setColor(Color.BLACK);
        g.drawString(title, margin, margin - 12);
        colourBar(g, margin + side + 16, margin, side);
        g.dispose();
        return img;
    }

    /** Row-normalised confusion counts as a heat map with class indices on the axes. */
    public static BufferedImage confusionHeatMap(long[][] counts) {
        int k = counts.length;
        int cell = Math.max(4, Math.min(40, 640 / Math.max(k, 1))), margin = 40;
        int side = k * cell;
        BufferedImage img = new BufferedImage(side + 2 * margin + 60, side + 2 * margin, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        for (int t = 0; t < k; t++) {
            long row = 0;
            for (long v : counts[t]) row += v;
            for (int p = 0; p < k; p++) {
                g.setColor(colour(row == 0 ? 0 : counts[t][p] / (double) row));
                g.fillRect(margin + p * cell, margin + t * cell, cell, cell);
            }
        }
        g.setColor(Color.BLACK);
        g.drawString("true class (rows) x predicted class (columns), row-normalised", margin, margin - 14);
        if (cell >= 14) {
            for (int i = 0; i < k; i++) {
                g.drawString(Integer.toString(i), margin + i * cell + cell / 3, margin + side + 14);
                g.drawString(Integer.toString(i), margin - 18, margin + i * cell + cell / 2 + 4);
            }
        }
        colourBar(g, margin + side + 16, margin, side);
        g.dispose();
        return img;
    }

    private static void colourBar(Graphics2D g, int x, int y, int height) {
        for (int i = 0; i < height; i++) {
            g.setColor(colour(1 - i / (double) Math.max(height - 1, 1)));
            g.fillRect(x, y + i, 14, 1);
        }
        g.setColor(Color.BLACK);
        g.drawString("1", x + 18, y + 10);
        g.drawString("0", x + 18, y + height);
    }

    static Graphics2D canvas(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        return g;
    }

    /** Nearest-neighbour scaling (keeps the pixels of small inputs visible as pixels). */
    static BufferedImage scaled(BufferedImage src, int side) {
        BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.drawImage(src, 0, 0, side, side, null);
        g.dispose();
        return out;
    }

    public static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (!ImageIO.write(img, "png", bytes)) throw new IOException("no PNG writer in this JVM");
        return bytes.toByteArray();
    }

    public static void writePng(BufferedImage img, Path file) throws IOException {
        AtomicFiles.write(file, png(img));
    }
}
