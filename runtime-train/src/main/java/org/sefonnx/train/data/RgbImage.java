package org.sefonnx.train.data;

/** An 8-bit RGB image, pixels interleaved R,G,B row by row (the layout PIL's "RGB" mode exposes). */
public record RgbImage(int width, int height, byte[] pixels) {
    public RgbImage {
        if (width <= 0 || height <= 0 || pixels.length != width * height * 3) {
            throw new IllegalArgumentException("RGB image " + width + "x" + height + " needs " + (3L * width * height)
                    + " bytes, got " + pixels.length);
        }
    }

    /** Channel {@code c} (0 = R) of pixel (x, y), 0..255. */
    public int get(int x, int y, int c) {
        return pixels[(y * width + x) * 3 + c] & 0xFF;
    }
}
