"""Chinese message understanding: text -> Parse. Pure: no database, no settings, no network."""

from nlu.gazetteer import Gazetteer
from nlu.parser import Parser, parse
from nlu.types import Parse, Place

__all__ = ["Gazetteer", "Parse", "Parser", "Place", "parse"]
