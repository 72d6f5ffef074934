"""QR rendering for ratingsvc posters and downloads."""

from .render import ALPHANUMERIC, make, png, svg, svg_data_uri

__all__ = ["ALPHANUMERIC", "make", "png", "svg", "svg_data_uri"]
