#!/usr/bin/env python3
"""Renders the font check pictures for `digits check` (issue 14's realistic checks).

Digits 0-9 from the system's DejaVu and Liberation TrueType fonts, photo-like: a paper-coloured
page, dark ink, a small rotation, uneven light, grain, a slight blur and JPEG compression; and
letters and symbols that are not digits (for the non-digit set), clean PNG. Seeded, so a rerun
makes the same pictures. The output is committed (Sources/DigitsApp/Resources/reader/checks),
so neither the tests nor `digits check` need Pillow.

    pip install pillow
    python3 scripts/make-font-checks.py [OUT_DIR]
"""
import glob, os, random, sys
from PIL import Image, ImageDraw, ImageFilter, ImageFont

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Sources", "DigitsApp", "Resources", "reader", "checks")
FONTS = sorted(f for d in ("dejavu", "liberation") for f in glob.glob(f"/usr/share/fonts/truetype/{d}/*.ttf") if "Math" not in f)
# Letters and symbols that do not look like a digit in most fonts (no O, o, I, l, S, Z, B, g, q, b, G, T, z, s).
NON_DIGITS = "ACEFHKMNPRUVWXYacdefhkmnprtuvwxy#%&@?+*"

def photo(text, font_path, rng, size=64, jpeg=True):
    paper = tuple(rng.randint(205, 245) for _ in range(3))
    img = Image.new("RGB", (size * 2, size * 2), paper)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(font_path, rng.randint(int(size * 0.7), int(size * 1.1)))
    ink = (rng.randint(0, 60), rng.randint(0, 60), rng.randint(0, 110))
    box = draw.textbbox((0, 0), text, font=font)
    x = size - (box[0] + box[2]) / 2 + rng.uniform(-size * 0.1, size * 0.1)
    y = size - (box[1] + box[3]) / 2 + rng.uniform(-size * 0.1, size * 0.1)
    draw.text((x, y), text, font=font, fill=ink)
    img = img.rotate(rng.uniform(-8, 8), resample=Image.BILINEAR, fillcolor=paper)
    img = img.crop((size // 2, size // 2, size // 2 + size, size // 2 + size))
    if jpeg:
        # Uneven light: darken towards one side; grain.
        px = img.load()
        side = rng.random() < 0.5
        for j in range(size):
            for i in range(size):
                k = 1 - 0.3 * ((i if side else j) / size) + rng.uniform(-0.03, 0.03)
                px[i, j] = tuple(max(0, min(255, int(c * k))) for c in px[i, j])
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    return img

def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(14)
    for n in range(200):
        digit = n % 10
        font = FONTS[rng.randrange(len(FONTS))]
        photo(str(digit), font, rng).save(os.path.join(OUT, f"digit-{digit}-{n:03d}.jpg"), quality=rng.randint(55, 85))
    for n in range(60):
        ch = NON_DIGITS[rng.randrange(len(NON_DIGITS))]
        font = FONTS[rng.randrange(len(FONTS))]
        photo(ch, font, rng, jpeg=False).convert("L").save(os.path.join(OUT, f"letter-{n:03d}.png"), optimize=True)
    print(f"wrote 200 digits and 60 letters/symbols to {OUT} from {len(FONTS)} fonts")

if __name__ == "__main__":
    main()
