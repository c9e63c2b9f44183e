"""PaintNoise Desktop: find and replace in your own photos."""

__version__ = "0.1.0"
