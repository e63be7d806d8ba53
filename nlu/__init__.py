"""Chinese message understanding: text -> Parse. Pure: no database, no settings, no network.

`parse(text, gazetteer=None)` never raises. Beyond the CLI contract keys (`Parse.contract()`), a Parse
carries `invalid_id_numbers` (look like IDs, fail GB 11643), `legacy_id_numbers` (15-digit), `relation`
(the proxy reporter's relation), `triggers` (code -> the words that raised it, keys "A27-01", "A27a-04",
"A23", "urgent", "intent"), `urgent_reasons`, `negated` (words seen but negated or resolved), `person_name`
(the full name a self-introduction or hotline note gives: 我叫张三, 来电人王五; see nlu/names.py) and
`amounts_approximate` (one flag per amount: a range, read as its upper bound, or 三万多, 大概两万).
Keyword tables, two-part rules and patterns live in nlu/data/lexicon.tsv; the user dictionary in
nlu/data/userdict.txt.
"""

from nlu.gazetteer import Gazetteer
from nlu.parser import Parser, parse
from nlu.types import Parse, Place

__all__ = ["Gazetteer", "Parse", "Parser", "Place", "parse"]
