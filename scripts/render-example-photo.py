#!/usr/bin/env python3
# Usage: python3 scripts/render-example-photo.py  (needs Pillow: pip install pillow)
# Renders a stand-in for a phone photo of a digit written in pen on paper: a sheet with uneven
# lighting and grain, lying on a darker desk, a hand-drawn "4" in blue ballpoint, JPEG-compressed.
import random, math
from PIL import Image, ImageDraw, ImageFilter
random.seed(4)
W, H = 1200, 900
img = Image.new("RGB", (W, H), (92, 74, 60))            # the desk
d = ImageDraw.Draw(img)
d.polygon([(90, 40), (1150, 70), (1120, 880), (60, 860)], fill=(236, 232, 222))  # the page, a little askew
# ruled lines
for y in range(140, 860, 60):
    d.line([(80, y), (1130, y + 20)], fill=(190, 205, 225), width=2)
def stroke(points, width):
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        steps = int(math.hypot(x1 - x0, y1 - y0) / 2) + 1
        for i in range(steps):
            t = i / steps
            x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
            r = width / 2 + random.uniform(-1.2, 1.2)
            d.ellipse([x - r, y - r, x + r, y + r], fill=(30, 45, 120))
def curve(ctrl, n=40):
    (x0, y0), (x1, y1), (x2, y2) = ctrl
    return [((1-t)**2*x0 + 2*(1-t)*t*x1 + t*t*x2, (1-t)**2*y0 + 2*(1-t)*t*y1 + t*t*y2) for t in [i/n for i in range(n+1)]]
# a handwritten 4: the slanted left stroke and the crossbar in one movement, then the long down stroke
stroke(curve([(610, 250), (540, 430), (480, 560)]) + curve([(480, 560), (600, 548), (760, 545)]), 14)
stroke(curve([(680, 300), (672, 520), (660, 760)]), 15)
img = img.filter(ImageFilter.GaussianBlur(1.3))
# uneven light: darker towards the bottom right, and grain
px = img.load()
for y in range(H):
    for x in range(W):
        f = 1.0 - 0.28 * (x / W) * (y / H) - 0.08 * (y / H)
        n = random.gauss(0, 4)
        r, g, b = px[x, y]
        px[x, y] = tuple(max(0, min(255, int(c * f + n))) for c in (r, g, b))
img.save("/work/main/docs/photo-of-a-4.jpg", quality=82)
