"""Image resize reference: testdata/reference/resize.safetensors.

PIL's Image.resize(size, Image.BICUBIC) on 8-bit RGB images, as the original NeTI's data loader resizes
every training image (uint8 array → Image.fromarray → resize((size, size), BICUBIC)). The Go test
(images_resize_test.go) compares neti's resize, and golang.org/x/image/draw's CatmullRom, against it.

Tensors (all uint8, [height, width, 3], row-major RGB as np.array(image)):
  <case>/input        the input image
  <case>/<w>x<h>      PIL's BICUBIC resize of it to w × h

Cases:
  synthetic  97×61: a colour gradient, sharp saturated edges (black/white/primary bars, a checkerboard, a
             1-pixel grid) and uniform noise from a seeded numpy generator; resized to 64×64 (squash:
             down in x, up in y, as training's resolution-64 toy models), 41×29 (down, non-integer
             ratios) and 131×89 (up).
  photo      a 780×96 strip of the DreamBooth dog photo 00.jpg (780×780, so 780 → 512 is the ratio a
             real photo is resized by at SD 1.x's 512), rows 342..437; resized to 512×64 and 64×8.
             Resizing is separable, so the strip exercises exactly the 780 → 512 column weights of the
             full photo at a fraction of the size.
  photosq    a 200×200 crop of the same photo (columns 290..489, rows 290..489); resized to 64×64 (down
             by 3.125) and 256×256 (up by 1.28, as a small photo trained at a larger resolution).

The photo comes from SD_ASSETS (default /work/shared/sd-assets): dreambooth/dog/00.jpg, from
google/dreambooth (CC BY 4.0; photo by https://unsplash.com/@alvannee under the Unsplash license).
"""

import os

import numpy as np
import PIL
import torch
from PIL import Image

from common import REFERENCE, SD_ASSETS, save_tensors

PHOTO = os.path.join(SD_ASSETS, "dreambooth", "dog", "00.jpg")
SEED = 15


def synthetic(seed):
    """97×61 RGB: gradient, saturated sharp edges, checkerboard, grid and noise."""
    h, w = 61, 97
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([255 * x / (w - 1), 255 * y / (h - 1), 255 * (1 - x / (w - 1)) * (y / (h - 1))], axis=-1)
    img[5:20, 10:14] = 0  # black bar on the gradient
    img[5:20, 14:18] = 255  # white bar next to it
    img[25:40, 8:30] = [255, 0, 0]  # red block
    img[25:40, 30:50] = [0, 0, 255]  # blue block beside it
    cb = ((y // 3 + x // 3) % 2 == 1) & (y >= 44) & (y < 58) & (x >= 5) & (x < 45)
    img[cb] = 255
    img[(y >= 44) & (y < 58) & (x >= 5) & (x < 45) & ~cb] = 0
    grid = ((x % 4 == 0) | (y % 4 == 0)) & (x >= 55) & (x < 90) & (y >= 5) & (y < 40)
    img[grid] = [0, 255, 0]
    rng = np.random.default_rng(seed)
    noisy = (x >= 55) & (y >= 44)
    img[noisy] = rng.integers(0, 256, size=(int(noisy.sum()), 3))
    img = img + rng.uniform(-6, 6, size=img.shape) * ~noisy[..., None]
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def main():
    photo = np.array(Image.open(PHOTO).convert("RGB"))
    assert photo.shape == (780, 780, 3), photo.shape
    cases = {
        "synthetic": (synthetic(SEED), [(64, 64), (41, 29), (131, 89)]),
        "photo": (photo[342:438, :], [(512, 64), (64, 8)]),
        "photosq": (photo[290:490, 290:490], [(64, 64), (256, 256)]),
    }
    tensors = {}
    sizes = {}
    for name, (img, outs) in cases.items():
        img = np.ascontiguousarray(img)
        tensors[f"{name}/input"] = torch.from_numpy(img)
        sizes[name] = {"input": [img.shape[1], img.shape[0]], "outputs": [list(s) for s in outs]}
        for w, h in outs:
            out = np.array(Image.fromarray(img).resize((w, h), resample=Image.BICUBIC))
            assert out.dtype == np.uint8 and out.shape == (h, w, 3)
            tensors[f"{name}/{w}x{h}"] = torch.from_numpy(np.ascontiguousarray(out))
    meta = {
        "seeds": {"synthetic": SEED},
        "pillow": PIL.__version__,
        "sizes": sizes,
        "photo": "dreambooth/dog/00.jpg (google/dreambooth, CC BY 4.0; photo https://unsplash.com/@alvannee)",
        "resize": "PIL.Image.resize((w, h), resample=Image.BICUBIC) on mode RGB uint8",
    }
    save_tensors(os.path.join(REFERENCE, "resize.safetensors"), tensors, meta)


if __name__ == "__main__":
    main()
