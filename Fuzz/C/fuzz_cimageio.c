// libFuzzer target for the CImageIO shim on its own (C, built with clang -fsanitize=fuzzer,address
// by scripts/fuzz.sh): the header probe and the full decode of PNG and JPEG bytes, with the
// pixel limit the app uses (50 megapixels), checking what a successful decode promises.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "CImageIO.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint32_t format = 0, width = 0, height = 0;
    int probed = cimageio_probe(data, size, &format, &width, &height);

    char message[CIMAGEIO_MESSAGE_CAPACITY];
    cimageio_image image;
    memset(&image, 0xA5, sizeof image);  // the decoder must set every field it promises
    int status = cimageio_decode(data, size, 50000000u, &image, message, sizeof message);
    if (status == CIMAGEIO_OK) {
        if (image.pixels == NULL || image.width == 0 || image.height == 0 || image.channels < 1 || image.channels > 4
            || (uint64_t)image.width * image.height > 50000000u) abort();
        if (probed == CIMAGEIO_OK && (image.width != width || image.height != height)) abort();
        // Touch every byte, so that ASan sees a buffer shorter than width * height * channels.
        size_t bytes = (size_t)image.width * image.height * image.channels;
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < bytes; i++) sum += image.pixels[i];
        (void)sum;
    } else {
        if (image.pixels != NULL) abort();  // "on failure out->pixels is NULL"
        if (memchr(message, 0, sizeof message) == NULL) abort();  // the message is terminated
    }
    cimageio_free(image.pixels);
    return 0;
}
