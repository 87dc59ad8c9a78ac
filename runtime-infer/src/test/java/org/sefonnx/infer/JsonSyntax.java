package org.sefonnx.infer;

/**
 * A strict RFC 8259 syntax check for the tests of {@code predict --json}: no NaN or Infinity, no trailing comma, one
 * value and nothing after it. It validates only; the tests read the values with plain string checks.
 */
final class JsonSyntax {
    private final String text;
    private int at;

    private JsonSyntax(String text) {
        this.text = text;
    }

    /** Throws an IllegalArgumentException naming the offset of the first error, if {@code text} is not one JSON value. */
    static void check(String text) {
        JsonSyntax p = new JsonSyntax(text);
        p.value();
        p.space();
        if (p.at != text.length()) throw p.error("text after the value");
    }

    private void value() {
        space();
        if (at >= text.length()) throw error("missing value");
        char c = text.charAt(at);
        switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> literal("true");
            case 'f' -> literal("false");
            case 'n' -> literal("null");
            default -> number();
        }
    }

    private void object() {
        at++;
        space();
        if (accept('}')) return;
        do {
            space();
            string();
            space();
            expect(':');
            value();
            space();
        } while (accept(','));
        expect('}');
    }

    private void array() {
        at++;
        space();
        if (accept(']')) return;
        do value();
        while (acceptAfterSpace(','));
        space();
        expect(']');
    }

    private void string() {
        expect('"');
        while (at < text.length() && text.charAt(at) != '"') {
            char c = text.charAt(at++);
            if (c < 0x20) throw error("control character in a string");
            if (c == '\\') {
                char e = text.charAt(at++);
                if (e == 'u') {
                    for (int i = 0; i < 4; i++)
                        if (Character.digit(text.charAt(at++), 16) < 0) throw error("bad \\u escape");
                } else if ("\"\\/bfnrt".indexOf(e) < 0) throw error("bad escape \\" + e);
            }
        }
        expect('"');
    }

    private void number() {
        int start = at;
        accept('-');
        if (!digits()) throw error("expected a value");
        if (accept('.') && !digits()) throw error("digits expected after '.'");
        if (accept('e') || accept('E')) {
            if (!accept('+')) accept('-');
            if (!digits()) throw error("digits expected in the exponent");
        }
        if (text.charAt(start) == '0' && at > start + 1 && Character.isDigit(text.charAt(start + 1)))
            throw error("leading zero");
    }

    private boolean digits() {
        int start = at;
        while (at < text.length() && Character.isDigit(text.charAt(at))) at++;
        return at > start;
    }

    private void literal(String word) {
        if (!text.startsWith(word, at)) throw error("expected " + word);
        at += word.length();
    }

    private void space() {
        while (at < text.length() && " \t\r\n".indexOf(text.charAt(at)) >= 0) at++;
    }

    private boolean accept(char c) {
        if (at < text.length() && text.charAt(at) == c) {
            at++;
            return true;
        }
        return false;
    }

    private boolean acceptAfterSpace(char c) {
        space();
        return accept(c);
    }

    private void expect(char c) {
        if (!accept(c)) throw error("expected '" + c + "'");
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("not JSON at offset " + at + ": " + what + " in: " + text);
    }
}
