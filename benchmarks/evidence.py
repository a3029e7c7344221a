"""Benchmark: image checks on a 12-MP photo (target ≤ 150 ms on one core) and duplicate lookup among
1,000,000 perceptual hashes (target ≤ 10 ms per image), each against a naive baseline in the same run.

- Image: everything the checks measure (header and pixel limit, EXIF, JPEG decode with DCT scaling,
  blur, exposure, contrast, pHash, QR located at 800 px and decoded from a crop), timed on one
  OpenCV thread; baseline: full-resolution decode and the classic QR detector on the full image.
- Duplicates: the multi-index (4 × 16-bit bands) over 1,000,000 hashes vs a vectorised linear scan
  (numpy popcount over every hash) and a plain Python loop over a sample.

Run: .venv/bin/python -m benchmarks.evidence [--hashes 1000000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ (its media), as a script too

from ai.evidence import images
from ai.evidence.checks import ImageEvidence, image_checks
from ai.evidence.phash_index import PhashIndex, linear_scan
from core import qr
from tests.ai.evidence import media


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median CPU time of this process in ms over `repeat` runs (after one warm-up), and the last result.

    CPU time, not wall time: on a shared machine the wall clock also counts other processes' turns.
    OpenCV is held to one thread, so CPU time is one core's time.
    """
    result = fn()
    samples = []
    for _ in range(repeat):
        started = time.process_time()
        result = fn()
        samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples), result


def photo_12mp(with_code: bool) -> bytes:
    scene = cv2.resize(media.scene(seed=42), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    if with_code:
        token, _ = qr.issue("benchmark-key" * 3, str(uuid.uuid4()), 1, "host")
        scene = media.with_qr(scene, token, fraction=0.35)
    return media.with_exif(scene, datetime(2026, 5, 3, 14, 0), 36.35, 128.69)


def all_checks(data: bytes) -> list[object]:
    width, height = images.header_size(data)
    images.check_pixels(width, height)
    exif = images.read_exif(data)
    measured = images.measure(data, with_qr=True)
    evidence = ImageEvidence(0, width, height, exif, measured)
    return image_checks(evidence, uuid.uuid4(), "목공", datetime.now(UTC))


def naive_checks(data: bytes) -> str:
    colour = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    grey = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    cv2.Laplacian(grey, cv2.CV_64F).var()
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(grey)
    return text


def bench_images(repeat: int) -> None:
    cv2.setNumThreads(1)
    for with_code in (False, True):
        data = photo_12mp(with_code)
        ms, results = timed(lambda data=data: all_checks(data), repeat)
        qr_text = images.measure(data).qr_text
        label = "with a QR code" if with_code else "no QR code"
        print(f"12-MP photo ({label}, {len(data) / 2**20:.1f} MB JPEG): all image checks {ms:.0f} ms median CPU "
              f"on one core ({len(results)} checks; QR read: {qr_text is not None}); target ≤ 150 ms: "
              f"{'OK' if ms <= 150 else 'OVER'}")
    base_ms, base_text = timed(lambda: naive_checks(data), max(1, repeat // 3))
    print(f"naive baseline (full-resolution decode + classic QR detector on 12 MP): {base_ms:.0f} ms "
          f"(QR read: {bool(base_text)}); ratio ×{base_ms / ms:.1f}")


def bench_hashes(count: int, queries: int) -> None:
    rng = np.random.default_rng(5)
    hashes = rng.integers(0, 2**63, count, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, count,
                                                                                          dtype=np.uint64)
    started = time.perf_counter()
    index = PhashIndex(hashes)
    build_s = time.perf_counter() - started
    probes = []
    for i in range(queries):  # near copies of stored photos (0–6 bits flipped) and unseen photos
        value = int(hashes[rng.integers(count)])
        for bit in rng.choice(64, size=i % 7, replace=False):
            value ^= 1 << int(bit)
        probes.append(value if i % 4 else int(rng.integers(0, 2**63)))
    radius = 6
    found_index, found_scan = [], []
    started = time.perf_counter()
    for probe in probes:
        found_index.append(index.query(probe, radius))
    per_index = (time.perf_counter() - started) * 1000 / len(probes)
    started = time.perf_counter()
    for probe in probes[:50]:
        found_scan.append(linear_scan(hashes, probe, radius))
    per_scan = (time.perf_counter() - started) * 1000 / 50
    assert found_index[:50] == found_scan, "the index must find exactly what the scan finds"
    sample = hashes[:100_000].tolist()
    started = time.perf_counter()
    _ = [h for h in sample if (h ^ probes[0]).bit_count() <= radius]
    per_python = (time.perf_counter() - started) * 1000 * count / len(sample)
    print(f"duplicate lookup among {count:,} hashes (radius {radius}): multi-index {per_index:.3f} ms per image "
          f"(index built in {build_s:.1f} s); target ≤ 10 ms: {'OK' if per_index <= 10 else 'OVER'}")
    print(f"baselines: numpy linear scan {per_scan:.1f} ms (×{per_scan / per_index:.0f}); plain Python loop "
          f"{per_python:.0f} ms (×{per_python / per_index:.0f}); results identical on 50 probes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    bench_images(args.repeat)
    bench_hashes(args.hashes, args.queries)
    load = os.getloadavg()[0]
    if load > 1.5:
        print(f"note: load average {load:.1f} on {os.cpu_count()} cores during the run; timings include that")


if __name__ == "__main__":
    main()
