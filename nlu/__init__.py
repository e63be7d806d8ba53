"""Chinese message understanding: text -> Parse. Pure: no database, no settings, no network."""

from nlu.types import Parse, Place

__all__ = ["Parse", "Place"]
