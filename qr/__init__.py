"""QR rendering for ratingsvc posters and downloads."""

from .render import ALPHANUMERIC, make, png, svg

__all__ = ["ALPHANUMERIC", "make", "png", "svg"]
