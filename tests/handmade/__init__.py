"""Hand-made landing folders for end-to-end tests: see `builder.make_landing`."""

from .builder import HandmadeLanding, make_landing

__all__ = ["HandmadeLanding", "make_landing"]
