"""The FastAPI service of Hometown ON: routers per domain, collected in api.main."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hometown-on")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"
