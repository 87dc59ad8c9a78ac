package org.sefonnx.imaging;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The EXIF orientation tag (0x0112) of a JPEG and the transpose that undoes it, as Pillow's
 * {@code ImageOps.exif_transpose} does. Applied only when asked for ({@link ImageDecoder#ImageDecoder(boolean)}):
 * torchvision's default loader ignores the tag, and so does sef-onnx by default.
 */
public final class ExifOrientation {
    /** The tag's value when it is absent or unreadable: the stored pixels are upright. */
    public static final int NORMAL = 1;

    private static final int TAG_ORIENTATION = 0x0112;
    private static final int TYPE_SHORT = 3;

    private ExifOrientation() {}

    /** The orientation (1..8) in IFD0 of an Exif TIFF block ("II" or "MM", 42, offset); absent or malformed: {@link #NORMAL}. */
    static int fromTiff(ByteBuffer tiff) {
        if (tiff.remaining() < 8) return NORMAL;
        byte b0 = tiff.get(0), b1 = tiff.get(1);
        if (b0 == 'I' && b1 == 'I') tiff.order(ByteOrder.LITTLE_ENDIAN);
        else if (b0 == 'M' && b1 == 'M') tiff.order(ByteOrder.BIG_ENDIAN);
        else return NORMAL;
        if (tiff.getShort(2) != 42) return NORMAL;
        long ifd = Integer.toUnsignedLong(tiff.getInt(4));
        if (ifd + 2 > tiff.limit()) return NORMAL;
        int entries = Short.toUnsignedInt(tiff.getShort((int) ifd));
        for (int i = 0; i < entries; i++) {
            int at = (int) ifd + 2 + 12 * i;
            if (at + 12 > tiff.limit()) return NORMAL;
            if (Short.toUnsignedInt(tiff.getShort(at)) == TAG_ORIENTATION && tiff.getShort(at + 2) == TYPE_SHORT) {
                int v = Short.toUnsignedInt(tiff.getShort(at + 8));
                return v >= 1 && v <= 8 ? v : NORMAL;
            }
        }
        return NORMAL;
    }

    /**
     * {@code image} turned upright for {@code orientation}: Pillow's exif_transpose table (2 mirror, 3 rotate 180,
     * 4 flip, 5 transpose, 6 rotate 270 (clockwise 90), 7 transverse, 8 rotate 90).
     */
    public static RgbImage apply(RgbImage image, int orientation) {
        if (orientation == NORMAL) return image;
        int w = image.width(), h = image.height();
        boolean swap = orientation >= 5;
        int outW = swap ? h : w, outH = swap ? w : h;
        byte[] in = image.pixels(), out = new byte[in.length];
        for (int y = 0; y < outH; y++) {
            for (int x = 0; x < outW; x++) {
                // (sx, sy): the stored pixel that lands at output (x, y)
                int sx, sy;
                switch (orientation) {
                    case 2 -> {
                        sx = w - 1 - x;
                        sy = y;
                    }
                    case 3 -> {
                        sx = w - 1 - x;
                        sy = h - 1 - y;
                    }
                    case 4 -> {
                        sx = x;
                        sy = h - 1 - y;
                    }
                    case 5 -> {
                        sx = y;
                        sy = x;
                    }
                    case 6 -> {
                        sx = y;
                        sy = h - 1 - x;
                    }
                    case 7 -> {
                        sx = w - 1 - y;
                        sy = h - 1 - x;
                    }
                    case 8 -> {
                        sx = w - 1 - y;
                        sy = x;
                    }
                    default -> throw new IllegalArgumentException("EXIF orientation must be 1..8, got " + orientation);
                }
                System.arraycopy(in, (sy * w + sx) * 3, out, (y * outW + x) * 3, 3);
            }
        }
        return new RgbImage(outW, outH, out);
    }
}
