"""Photos: safe decoding, EXIF time and place, re-encoding without metadata, and the measurements
the checks judge (resolution, blur, exposure, contrast, perceptual hash, QR content).

Safety first: the pixel count is read from the header and compared with a limit far below
decompression-bomb sizes before anything is decoded. Measurements run on a reduced copy (JPEG's DCT
scaling decodes a 12-MP photo at a quarter of the pixels) because blur, exposure, the hash and QR
detection do not need every pixel, and the budget is 150 ms per 12-MP photo on one core.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ai.evidence.sniff import JPEG, EvidenceError, SniffedType

MAX_PIXELS = 40_000_000  # 40 MP: every phone camera fits; a decompression bomb (100k × 100k) does not
ANALYSIS_LONG_SIDE = 1024  # blur and exposure are measured at this size, so thresholds do not depend on megapixels
QR_LONG_SIDE = 800  # where the QR code is looked for
QR_CROP_LONG_SIDE = 1000  # the crop around it is decoded at up to this size
STORED_LONG_SIDE = 4096  # the stored copy: enough for a reviewer to zoom in
STORED_JPEG_QUALITY = 90
PHASH_BITS = 64

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL, _DATETIME = 36867, 36881, 306


@dataclass(frozen=True)
class ExifFacts:
    """What EXIF says about when and where the photo was taken (None when it does not say)."""

    taken_at: datetime | None  # timezone-aware; assumed KST when the camera gave no offset
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class PreparedImage:
    """An upload that passed the safety checks: its size, what EXIF said, and the bytes to store."""

    width: int
    height: int
    exif: ExifFacts
    stored: bytes  # JPEG without any metadata
    stored_width: int
    stored_height: int


@dataclass(frozen=True)
class ImageMeasures:
    width: int
    height: int
    blur_variance: float  # variance of the Laplacian at ANALYSIS_LONG_SIDE; low = blurred
    brightness_mean: float  # 0..255
    dark_fraction: float  # share of pixels ≤ 5
    bright_fraction: float  # share of pixels ≥ 250
    contrast_std: float  # standard deviation of the grey levels
    phash: int  # 64-bit DCT perceptual hash, unsigned
    qr_text: str | None  # decoded QR content, when one was found


# ---------------------------------------------------------------------------------- safety
def header_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header alone (Pillow reads no pixels on open)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                return img.size
    except Image.DecompressionBombError as exc:
        raise EvidenceError("too_many_pixels", f"the image declares more pixels than allowed ({exc}); send a "
                            f"photo of at most {MAX_PIXELS // 1_000_000} megapixels") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise EvidenceError("corrupt", f"the image header cannot be read ({exc}); the file is damaged or "
                            "truncated: export the photo again") from exc


def check_pixels(width: int, height: int, max_pixels: int = MAX_PIXELS) -> None:
    if width <= 0 or height <= 0:
        raise EvidenceError("corrupt", f"the image declares an impossible size {width}×{height}")
    if width * height > max_pixels:
        raise EvidenceError("too_many_pixels", f"the image is {width}×{height} = {width * height / 1e6:.0f} MP, "
                            f"over the limit of {max_pixels / 1e6:.0f} MP; send a smaller photo")


def read_exif(data: bytes) -> ExifFacts:
    """DateTimeOriginal (with its offset when given) and the GPS position, before metadata is dropped."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            exif = img.getexif()
    except Exception:  # EXIF is optional: a photo without readable EXIF is still a photo
        return ExifFacts(None, None, None)
    try:
        sub = exif.get_ifd(_EXIF_IFD)
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:
        return ExifFacts(None, None, None)
    taken = _exif_time(sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME), sub.get(_OFFSET_TIME_ORIGINAL))
    lat = _gps_coordinate(gps.get(2), gps.get(1), "S")
    lon = _gps_coordinate(gps.get(4), gps.get(3), "W")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    return ExifFacts(taken, lat, lon)


KST = timezone(timedelta(hours=9))


def _exif_time(value: object, offset: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        naive = datetime.strptime(value.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    tz = KST
    if isinstance(offset, str) and len(offset.strip()) >= 6:
        try:
            sign = -1 if offset.strip()[0] == "-" else 1
            hours, minutes = offset.strip()[1:6].split(":")
            tz = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
        except ValueError:
            tz = KST
    return naive.replace(tzinfo=tz).astimezone(UTC)


def _gps_coordinate(dms: object, ref: object, negative: str) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in dms)  # type: ignore[union-attr]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(value):
        return None
    return -value if isinstance(ref, str) and ref.strip().upper() == negative else value


def _decode(data: bytes, flags: int) -> np.ndarray:
    array = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(array, flags)
    if image is None or image.size == 0:
        raise EvidenceError("corrupt", "the image data cannot be decoded (damaged or truncated); export the "
                            "photo again")
    return image


def _check_truncation(data: bytes, sniffed: SniffedType) -> None:
    # libjpeg fills a truncated JPEG with grey and only warns: the end-of-image marker must be there
    if sniffed is JPEG and b"\xff\xd9" not in data[-64:]:
        raise EvidenceError("truncated", "the JPEG ends before its end-of-image marker (the upload was cut "
                            "short or the file is damaged); send it again")


def prepare_image(data: bytes, sniffed: SniffedType, max_pixels: int = MAX_PIXELS) -> PreparedImage:
    """Validate an uploaded photo and make the copy to store: header size within the limit, a clean
    decode, EXIF read, then re-encoded as JPEG without metadata (orientation applied)."""
    width, height = header_size(data)
    check_pixels(width, height, max_pixels)
    _check_truncation(data, sniffed)
    exif = read_exif(data)
    image = _decode(data, cv2.IMREAD_COLOR)  # applies the EXIF orientation
    long_side = max(image.shape[:2])
    if long_side > STORED_LONG_SIDE:
        scale = STORED_LONG_SIDE / long_side
        image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, STORED_JPEG_QUALITY])
    if not ok:
        raise EvidenceError("corrupt", "the image could not be re-encoded; export the photo again")
    return PreparedImage(width, height, exif, encoded.tobytes(), image.shape[1], image.shape[0])


# ---------------------------------------------------------------------------------- measurements
def _decoded_grey(data: bytes) -> tuple[np.ndarray, int, int]:
    """A grey decode with at least ANALYSIS_LONG_SIDE pixels on the long side, and the full size.

    JPEGs are decoded with DCT scaling (1/2, 1/4, 1/8), which skips most of the inverse DCT work.
    """
    width, height = header_size(data)
    check_pixels(width, height)
    for factor, flag in ((8, cv2.IMREAD_REDUCED_GRAYSCALE_8), (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
                         (2, cv2.IMREAD_REDUCED_GRAYSCALE_2)):
        if max(width, height) / factor >= ANALYSIS_LONG_SIDE:
            return _decode(data, flag), width, height
    return _decode(data, cv2.IMREAD_GRAYSCALE), width, height


def phash(grey: np.ndarray) -> int:
    """64-bit DCT perceptual hash (as in the pHash/imagehash family): 32×32 grey, DCT, low 8×8 > median."""
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8]
    bits = (low > np.median(low)).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def _resized(grey: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """`grey` scaled down so its long side is at most `long_side`, and the scale used."""
    current = max(grey.shape[:2])
    if current <= long_side:
        return grey, 1.0
    scale = long_side / current
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA), scale


def detect_qr(grey: np.ndarray) -> str | None:
    """QR content: located at QR_LONG_SIDE, decoded from a crop of `grey` at its own resolution.

    Running OpenCV's detector on a full 12-MP photo takes seconds; locating the code on an 800-px copy
    takes milliseconds, and decoding only the crop around it keeps the modules of a dense code
    (a signed token is a version-10 QR) several pixels wide.
    """
    small, scale = _resized(grey, QR_LONG_SIDE)
    detector = cv2.QRCodeDetectorAruco()
    try:
        text, points, _ = detector.detectAndDecode(small)
    except cv2.error:
        return None
    if text:
        return text
    if points is None or len(points) == 0:
        return None
    corners = np.asarray(points, dtype=np.float32).reshape(-1, 2) / scale
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    margin = 0.15 * max(x1 - x0, y1 - y0)
    top, left = max(0, int(y0 - margin)), max(0, int(x0 - margin))
    crop = grey[top:int(y1 + margin) + 1, left:int(x1 + margin) + 1]
    if crop.size == 0:
        return None
    crop, _ = _resized(crop, QR_CROP_LONG_SIDE)
    for decoder in (detector, cv2.QRCodeDetector()):
        try:
            text, _, _ = decoder.detectAndDecode(crop)
        except cv2.error:
            continue
        if text:
            return text
    return None


def measure_grey(decoded: np.ndarray, width: int, height: int, with_qr: bool = True) -> ImageMeasures:
    grey, _ = _resized(decoded, ANALYSIS_LONG_SIDE)
    lap = cv2.Laplacian(grey, cv2.CV_32F, ksize=3)
    mean, std = cv2.meanStdDev(grey)
    total = float(grey.size)
    hist = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    return ImageMeasures(
        width=width, height=height,
        blur_variance=float(lap.var()),
        brightness_mean=float(mean[0][0]),
        dark_fraction=float(hist[:6].sum() / total),
        bright_fraction=float(hist[250:].sum() / total),
        contrast_std=float(std[0][0]),
        phash=phash(grey),
        qr_text=detect_qr(decoded) if with_qr else None,
    )


def measure(data: bytes, with_qr: bool = True) -> ImageMeasures:
    """Every measurement the image checks need, from the stored (or uploaded) bytes."""
    decoded, width, height = _decoded_grey(data)
    return measure_grey(decoded, width, height, with_qr=with_qr)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
