"""Babel catalogs loaded at run time from .po files, one domain per package, plus date and money formats.

Every package that shows text to people keeps its own catalog domain, named after the package:
`<package>/locales/<locale>/LC_MESSAGES/<package>.po` (zh_CN for users, en to prove the catalogs).
No build step: the .po file is compiled in memory (read_po -> write_mo into BytesIO) on first use.

Msgids are English and use str.format fields: `_("Case {number} created.").format(number=n)`.
Mark strings for extraction with `_()`, `gettext()`, `ngettext()` or `N_()` (deferred, e.g. tables).

Extract and update a package's catalogs after changing strings (from the repository root):

    pybabel extract -k N_ -o conversations/locales/conversations.pot conversations
    pybabel update -i conversations/locales/conversations.pot -d conversations/locales -D conversations
    # a new locale once:  pybabel init -i ... -d conversations/locales -D conversations -l zh_CN

or the same in one go: `python -m conversations.i18n update conversations` (writes no .pot file).
Then fill the empty (and fuzzy) zh_CN msgstr lines; `missing_translations()` in a test fails until
every msgid is translated.
"""

from __future__ import annotations

import importlib.util
import io
import re
import sys
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")
SHANGHAI = ZoneInfo("Asia/Shanghai")
# what is extracted from a package: its Python, and its Jinja templates (the console's); `update api` once
# read only the Python and dropped every msgid of the console's templates from the catalogs
SOURCES: list[tuple[str, str]] = [("**/locales/**", "ignore"),
                                  ("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
_FIELD = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}")


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for deferred marking
    """Mark a string for extraction without translating it now (translate where it is shown)."""
    return message


def normalize_locale(locale: str | None) -> str:
    """'zh-CN', 'zh_cn', 'zh' -> 'zh_CN'; 'en-US' -> 'en'; unknown -> the default."""
    if not locale:
        return DEFAULT_LOCALE
    parsed = Locale.parse(locale.replace("-", "_"))
    if parsed.language == "zh":
        return "zh_CN"
    if parsed.language == "en":
        return "en"
    return DEFAULT_LOCALE


def locales_dir(domain: str) -> Path:
    """The `locales/` folder of the package named `domain` (found without importing it)."""
    spec = importlib.util.find_spec(domain)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"no package named {domain!r} for a catalog domain")
    return Path(next(iter(spec.submodule_search_locations))) / "locales"


def po_path(domain: str, locale: str) -> Path:
    return locales_dir(domain) / locale / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(domain: str, locale: str) -> Catalog | None:
    """The parsed .po catalog, or None when the package has none for this locale."""
    path = po_path(domain, locale)
    if not path.exists():
        return None
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, domain=domain)


def _compile(catalog: Catalog) -> Translations:
    buf = io.BytesIO()
    write_mo(buf, catalog)  # fuzzy entries are left out, as a compiled .mo would
    buf.seek(0)
    return Translations(fp=buf, domain=catalog.domain)


@dataclass(frozen=True)
class Translator:
    """Translations of one domain in one locale, with Babel formats for dates, times and money."""

    domain: str
    locale: str
    translations: NullTranslations
    tz: ZoneInfo = SHANGHAI

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def format_date(self, value: date | datetime, fmt: str = "long") -> str:
        """A date as people read it ('2026年3月2日'); an aware datetime is first moved to Shanghai time."""
        if isinstance(value, datetime):
            value = _aware(value).astimezone(self.tz).date()
        return format_date(value, format=fmt, locale=self.locale)

    def format_datetime(self, value: datetime, fmt: str = "medium") -> str:
        """An aware datetime in Shanghai time ('2026年3月2日 10:00:00')."""
        return format_datetime(_aware(value), format=fmt, tzinfo=self.tz, locale=self.locale)

    def format_time(self, value: datetime | time, fmt: str = "short") -> str:
        if isinstance(value, datetime):
            return format_time(_aware(value), format=fmt, tzinfo=self.tz, locale=self.locale)
        return format_time(value, format=fmt, locale=self.locale)

    def format_money(self, amount: Decimal | float | int, currency: str = "CNY") -> str:
        """Money in yuan by default ('¥6,500.00')."""
        return format_currency(amount, currency, locale=self.locale)

    def format_number(self, value: Decimal | float | int) -> str:
        return format_decimal(value, locale=self.locale)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: pass timezone-aware datetimes")
    return value


@lru_cache(maxsize=64)
def translator(domain: str, locale: str | None = DEFAULT_LOCALE) -> Translator:
    """The translator of `domain` (a package name) in `locale`; msgids are shown where a catalog lacks one."""
    loc = normalize_locale(locale)
    catalog = read_catalog(domain, loc)
    translations: NullTranslations = _compile(catalog) if catalog is not None else NullTranslations()
    return Translator(domain=domain, locale=loc, translations=translations)


def clear_cache() -> None:
    """Forget loaded catalogs (after editing a .po file in a running process or a test)."""
    translator.cache_clear()


# --- extraction and checks (used by tests of every package and by `python -m conversations.i18n`) ---


@dataclass(frozen=True)
class Extracted:
    msgid: str | tuple[str, str]
    locations: tuple[tuple[str, int], ...]

    @property
    def key(self) -> str:
        return self.msgid if isinstance(self.msgid, str) else self.msgid[0]


def extract(domain: str, method_map: Sequence[tuple[str, str]] = SOURCES) -> list[Extracted]:
    """Every marked msgid of the package `domain`, with where it occurs (babel.messages.extract)."""
    root = locales_dir(domain).parent
    keywords = dict(DEFAULT_KEYWORDS)
    found: dict[str | tuple[str, str], list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map=list(method_map), keywords=keywords
    ):
        key: str | tuple[str, str]
        if isinstance(message, tuple):
            key = (str(message[0]), str(message[1]))
        else:
            key = str(message)
        found.setdefault(key, []).append((filename, lineno))
    return [Extracted(msgid=k, locations=tuple(v)) for k, v in found.items()]


_CALL_IN_FSTRING = re.compile(r"""(?<!\w)(?:_|gettext|ngettext|N_)\(\s*[rbuRBU]?["']""")


def hidden_in_fstrings(domain: str) -> list[str]:
    """Marked strings inside f-strings: the extractor cannot see them, so they would stay untranslated."""
    root = locales_dir(domain).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if "locales" in path.parts:
            continue
        with path.open("rb") as fh:
            try:
                tokens = list(tokenize.tokenize(fh.readline))
            except (tokenize.TokenError, SyntaxError):
                continue
        for tok in tokens:
            if tok.type == tokenize.STRING and tok.string[:2].lower().lstrip("rb").startswith("f") \
                    and _CALL_IN_FSTRING.search(tok.string):
                where = f"{path.relative_to(root.parent)}:{tok.start[0]}"
                found.append(f"{where}: a marked string inside an f-string is invisible to extraction; "
                             "translate it outside the f-string")
    return found


def _fields(text: str) -> set[str]:
    return set(_FIELD.findall(text))


def missing_translations(
    domain: str,
    locale: str = "zh_CN",
    *,
    require_text: bool = True,
    method_map: Sequence[tuple[str, str]] = SOURCES,
) -> list[str]:
    """Problems of one catalog: msgids in the code but absent, untranslated or fuzzy, or a translation
    whose {fields} differ from the msgid's. `require_text=False` accepts an empty msgstr (the en
    catalog, where the English msgid is the text). An empty list means the catalog is complete."""
    catalog = read_catalog(domain, locale)
    if catalog is None:
        return [f"{po_path(domain, locale)}: no catalog"]
    problems = hidden_in_fstrings(domain)
    for item in extract(domain, method_map):
        where = "{}:{}".format(*item.locations[0])
        message = catalog.get(item.key)
        if message is None:
            problems.append(f"{where}: not in the {locale} catalog: {item.key!r}")
            continue
        texts = [message.string] if isinstance(message.string, str) else list(message.string or ())
        if message.fuzzy:
            problems.append(f"{where}: fuzzy in {locale}: {item.key!r}")
        elif require_text and not all(texts):
            problems.append(f"{where}: untranslated in {locale}: {item.key!r}")
        ids = [item.msgid] if isinstance(item.msgid, str) else list(item.msgid)
        expected = set().union(*(_fields(i) for i in ids))
        for text in texts:
            if text and _fields(text) != expected:
                problems.append(f"{where}: {locale} fields {sorted(_fields(text))} != {sorted(expected)}: "
                                f"{item.key!r}")
    return problems


def update_catalogs(domain: str, locales: Iterable[str] = LOCALES,
                    method_map: Sequence[tuple[str, str]] = SOURCES) -> list[Path]:
    """Extract the package's msgids and merge them into each locale's .po (like pybabel update)."""
    template = Catalog(domain=domain, project="shenbao", charset="utf-8")
    for item in extract(domain, method_map):
        for filename, lineno in item.locations:
            template.add(item.msgid, locations=[(filename, lineno)], flags=_flags(item.msgid))
    written = []
    for loc in locales:
        path = po_path(domain, loc)
        existing = read_catalog(domain, loc)
        if existing is None:
            existing = Catalog(locale=loc, domain=domain, project="shenbao", charset="utf-8")
        existing.update(template, no_fuzzy_matching=True)
        existing.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, existing, width=120, sort_output=False, omit_header=False)
        written.append(path)
    clear_cache()
    return written


def _flags(msgid: str | tuple[str, str]) -> set[str]:
    texts = [msgid] if isinstance(msgid, str) else list(msgid)
    return {"python-brace-format"} if any(_fields(t) for t in texts) else set()


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m conversations.i18n update PACKAGE...` or `check PACKAGE...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] not in ("update", "check"):
        print("usage: python -m conversations.i18n update|check PACKAGE...", file=sys.stderr)
        return 2
    status = 0
    for domain in args[1:]:
        if args[0] == "update":
            for path in update_catalogs(domain):
                print(path)
        else:
            problems = missing_translations(domain, "zh_CN") + missing_translations(
                domain, "en", require_text=False)
            for p in problems:
                print(p)
            status = status or (1 if problems else 0)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
