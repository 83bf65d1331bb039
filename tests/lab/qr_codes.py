"""Read QR codes back from a PDF as people print it: each page rendered (poppler's pdftoppm),
then decoded (zxing-cpp)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import zxingcpp
from PIL import Image

RESOLUTION = 150  # dots per inch: a printed page, not a screen capture


def qr_codes_in(pdf: Path) -> list[str]:
    """Given a PDF, return the text of every QR code on its pages, in page order."""
    with tempfile.TemporaryDirectory(prefix="nasops-qr-") as directory:
        subprocess.run(["pdftoppm", "-r", str(RESOLUTION), "-png", str(pdf),
                        f"{directory}/page"], check=True, capture_output=True, timeout=120)
        found = []
        for page in sorted(Path(directory).glob("page-*.png"), key=lambda path: int(
                path.stem.rsplit("-", 1)[1])):
            with Image.open(page) as image:
                found += [code.text for code in zxingcpp.read_barcodes(image)
                          if code.format == zxingcpp.BarcodeFormat.QRCode]
        return found
