// Format detection, dispatch and shared helpers.

#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// MARK: - Messages

void cimageio_set_message(char *message, size_t capacity, const char *format, ...) {
    if (message == NULL || capacity == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(message, capacity, format, args);
    va_end(args);
    // Keep it one line: codecs sometimes end their messages with a newline.
    for (char *p = message; *p; p++) {
        if (*p == '\n' || *p == '\r') { *p = '\0'; break; }
    }
}

// MARK: - Signatures

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

int cimageio_is_png(const uint8_t *data, size_t size) {
    return size >= 8 && memcmp(data, png_signature, 8) == 0;
}

int cimageio_is_jpeg(const uint8_t *data, size_t size) {
    return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

// MARK: - Entry points

int cimageio_probe(const uint8_t *data, size_t size,
                   uint32_t *format, uint32_t *width, uint32_t *height) {
    if (data == NULL || size == 0) return CIMAGEIO_EMPTY;
    if (cimageio_is_png(data, size)) {
        if (format) *format = CIMAGEIO_FORMAT_PNG;
        return cimageio_png_probe(data, size, width, height);
    }
    if (cimageio_is_jpeg(data, size)) {
        if (format) *format = CIMAGEIO_FORMAT_JPEG;
        return cimageio_jpeg_probe(data, size, width, height);
    }
    return CIMAGEIO_NOT_AN_IMAGE;
}

int cimageio_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                    cimageio_image *out, char *message, size_t capacity) {
    if (out == NULL) {
        cimageio_set_message(message, capacity, "no output given");
        return CIMAGEIO_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof *out);
    if (data == NULL || size == 0) {
        cimageio_set_message(message, capacity, "the file is empty");
        return CIMAGEIO_EMPTY;
    }
    if (cimageio_is_png(data, size)) return cimageio_png_decode(data, size, max_pixels, out, message, capacity);
    if (cimageio_is_jpeg(data, size)) return cimageio_jpeg_decode(data, size, max_pixels, out, message, capacity);
    // A short prefix of a signature is a truncated file rather than some other kind of file.
    if (size < 8 && memcmp(data, png_signature, size) == 0) {
        cimageio_set_message(message, capacity, "the PNG signature is cut short");
        return CIMAGEIO_TRUNCATED;
    }
    if (size < 3 && data[0] == 0xFF && (size == 1 || data[1] == 0xD8)) {
        cimageio_set_message(message, capacity, "the JPEG signature is cut short");
        return CIMAGEIO_TRUNCATED;
    }
    cimageio_set_message(message, capacity, "no PNG or JPEG signature");
    return CIMAGEIO_NOT_AN_IMAGE;
}

void cimageio_free(void *pointer) { free(pointer); }
