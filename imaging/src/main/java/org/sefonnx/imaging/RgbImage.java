package org.sefonnx.imaging;

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

    /** An 8-bit gray raster (rows {@code stride} bytes apart from {@code offset}) as RGB, the channel replicated as PIL's convert("RGB"). */
    public static RgbImage fromGray(int width, int height, byte[] gray, int offset, int stride) {
        byte[] rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++) {
            int in = offset + y * stride;
            int out = y * width * 3;
            for (int x = 0; x < width; x++, out += 3) {
                byte v = gray[in + x];
                rgb[out] = v;
                rgb[out + 1] = v;
                rgb[out + 2] = v;
            }
        }
        return new RgbImage(width, height, rgb);
    }
}
