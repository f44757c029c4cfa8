"""Regenerates every fixture under testdata/ (tiny models first, then reference outputs).

Usage: python tools/reference/make_all.py   (from any directory, with requirements.txt installed;
the slow-tokenizer columns need SLOWTOK_PYTHON pointing at a python with requirements-slowtok.txt).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import make_models  # noqa: E402
import neti_reference  # noqa: E402
import param_counts  # noqa: E402
import ref_clip  # noqa: E402
import ref_pipeline  # noqa: E402
import ref_resize  # noqa: E402
import ref_schedulers  # noqa: E402
import ref_tokens  # noqa: E402
import ref_unet  # noqa: E402
import ref_vae  # noqa: E402
from common import MODELS  # noqa: E402


def main():
    make_models.main()
    ref_tokens.main([])
    ref_clip.main(MODELS)
    ref_unet.main(MODELS)
    ref_vae.main(MODELS)
    ref_schedulers.main(MODELS)
    ref_pipeline.main(MODELS)
    ref_resize.main()
    param_counts.main()
    neti_reference.main()


if __name__ == "__main__":
    main()
