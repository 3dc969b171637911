// Shared between the shim's source files; not part of the public header.

#ifndef CIMAGEIO_INTERNAL_H
#define CIMAGEIO_INTERNAL_H

#include "CImageIO.h"

/// Copies a formatted one-line message into the caller's buffer (which may be NULL).
void cimageio_set_message(char *message, size_t capacity, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

int cimageio_png_probe(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height);
int cimageio_jpeg_probe(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height);

int cimageio_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                        cimageio_image *out, char *message, size_t capacity);
int cimageio_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                         cimageio_image *out, char *message, size_t capacity);

int cimageio_is_png(const uint8_t *data, size_t size);
int cimageio_is_jpeg(const uint8_t *data, size_t size);

#endif
