"""The one place-name normaliser, used on both sides of every gazetteer lookup.

``normalise_name`` turns a place name written in Latin or Arabic script, in any of the
usual transliterations, into a *key*: lower case, no diacritics, no articles, a few
transliteration variants folded together. Keys are for matching only; the original text is
always kept for display.

The rules, in the order they are applied:

1. Unicode clean-up: NFKC (Arabic presentation forms become base letters); bidi and
   zero-width marks dropped; Arabic harakat (U+064B-U+065F), superscript alef (U+0670),
   Quranic marks and tatweel (U+0640) dropped; alef forms (أ إ آ ٱ) -> ا, ى and Farsi ی -> ي,
   ة -> ه, ؤ -> و, ئ -> ي, a lone hamza ء dropped; Arabic-Indic digits -> 0-9.
2. Latin: NFKD, combining marks dropped (ā -> a, ḩ -> h), casefold, a few letters that do
   not decompose mapped by hand (ı -> i, ł -> l, ə -> e ...).
3. Apostrophe-like signs (' ’ ‘ ` ´ ʿ ʾ ʼ ʻ) are deleted (Qa'im -> qaim, Tal ‘Afar -> tal
   afar); every other non-alphanumeric character (hyphens, dots, commas) becomes a space.
4. Articles: a separate token al, el, il, ul, ad, ed, ar, er, as, es, az, ez, ash, esh, at,
   et, ath, adh, an, en, l is dropped when a word follows it; the Arabic ال is dropped from a
   word of 4+ letters (الرقة -> رقه). "albu" (the tribal prefix آل بو, as in Albu Kamal)
   becomes "bu". "abu" (father of) is kept: Abu Kamal and Albu Kamal are the same town only
   because the gazetteer lists both spellings, not because the normaliser merges two
   different words.
   An article written *joined* to a Latin word ("Albukamal", assimilated "Arraqqa",
   "Ezzor", "Ashshaddadi") is NOT dropped from the key: the same letters begin Aleppo,
   Alexandria, Addis Ababa and Essen, and dropping them would make "epo", "exandria",
   "dis ababa" and "sen" (false exact and fuzzy matches). :func:`name_keys` gives the key
   with such articles dropped as a second key (a joined "al" before 3+ letters, or a/e +
   a doubled sun letter); the gazetteer indexes both keys of every name and tries the
   name's own key first.
5. Transliteration variants, on Latin words only: ch -> sh, dj -> j, ou/oo -> u, ee -> i,
   dh -> z, q -> k, ei/ai/ey -> ay (Deir, Dair, Dayr -> dayr), doubled letters -> one
   (Raqqa -> raka), a final -ah/-eh -> -a; and a few generic words: tel/tell/tall -> tal,
   kfar/kafar/kafer/kefr/kfr -> kafr, jebel/jabel -> jabal.

q -> k is safe here because both sides are normalised alike (Qaim / Kaim); g is NOT folded
into q or k (Iraqi Gayyara is also written Qayyarah, but Egyptian g is jim: folding it
would merge unrelated names).

Keys are for matching only; rule 4's second key exists so that a joined article still
matches its spaced spelling ("Albukamal" / "Al-Bukamal" / "Bukamal").

:func:`strip_place_type` is a separate, optional step: it drops parenthetical notes and
place-type words ("Sloviansk town", "Kiev (Kyiv)", "مدينة الرقة") so that a name the
gazetteer lacks as written can be tried once more without them. It never runs inside
:func:`normalise_name`: a real place may be called "Camp X" or "Madinat Y".
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# --- step 1: Unicode and Arabic script -------------------------------------------------------

_INVISIBLE = [0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x061C, 0x2060, 0xFEFF]
_INVISIBLE += list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A))

_ARABIC_MARKS = list(range(0x064B, 0x0660)) + [0x0670, 0x0640] + list(range(0x06D6, 0x06EE))

_ARABIC_LETTERS: dict[int, str | None] = {
    0x0623: "\u0627",  # أ -> ا
    0x0625: "\u0627",  # إ -> ا
    0x0622: "\u0627",  # آ -> ا
    0x0671: "\u0627",  # ٱ -> ا
    0x0672: "\u0627",
    0x0673: "\u0627",
    0x0649: "\u064a",  # ى -> ي
    0x06CC: "\u064a",  # Farsi ی -> ي
    0x0629: "\u0647",  # ة -> ه
    0x06D5: "\u0647",  # Kurdish ە -> ه
    0x06C1: "\u0647",
    0x06BE: "\u0647",
    0x0624: "\u0648",  # ؤ -> و
    0x0626: "\u064a",  # ئ -> ي
    0x0621: None,  # lone hamza: written or not, same name
    0x06A9: "\u0643",  # Farsi ک -> ك
}

_SCRIPT_TABLE: dict[int, str | None] = {cp: None for cp in _INVISIBLE + _ARABIC_MARKS}
_SCRIPT_TABLE.update(_ARABIC_LETTERS)
_SCRIPT_TABLE.update({0x0660 + d: str(d) for d in range(10)})  # Arabic-Indic digits
_SCRIPT_TABLE.update({0x06F0 + d: str(d) for d in range(10)})  # Persian digits

# --- steps 2-3: Latin letters and punctuation -------------------------------------------------

_LATIN_TABLE: dict[int, str | None] = {
    ord("ı"): "i",
    ord("ł"): "l",
    ord("ø"): "o",
    ord("đ"): "d",
    ord("ð"): "d",
    ord("þ"): "th",
    ord("æ"): "ae",
    ord("œ"): "oe",
    ord("ə"): "e",
    ord("ħ"): "h",
    ord("ŧ"): "t",
    ord("ŋ"): "n",
}
# Apostrophes, ayn and hamza signs are not word breaks: Qa'im is one word.
for _c in "'’‘`´ʿʾʼʻʹʽ′ˈ":
    _LATIN_TABLE[ord(_c)] = None

_NON_WORD = re.compile(r"[\W_]+")

# --- step 4: articles -----------------------------------------------------------------------

_ARTICLES = frozenset(
    ["al", "el", "il", "ul", "ad", "ed", "ar", "er", "as", "es", "az", "ez", "ash", "esh"]
    + ["at", "et", "ath", "adh", "an", "en", "l"]
)
_JOINED_AL = re.compile(r"^al(?=[a-z]{3})")
_JOINED_SUN_ARTICLE = re.compile(r"^[ae](sh|th|dh|t|d|r|z|s|n)\1(?=[a-z]{2})")
_ARABIC_ARTICLE = "\u0627\u0644"  # ال

# --- step 5: transliteration -----------------------------------------------------------------

_DIGRAPHS: tuple[tuple[str, str], ...] = (
    ("ch", "sh"),
    ("dj", "j"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("dh", "z"),
    ("q", "k"),
    ("ei", "ay"),
    ("ai", "ay"),
    ("ey", "ay"),
)
_DOUBLED = re.compile(r"([a-z])\1+")
_FINAL_AH = re.compile(r"(?<=[a-z]{2})[ae]h$")
_GENERIC_WORDS: dict[str, str] = {
    "tel": "tal",
    "kfar": "kafr",
    "kafar": "kafr",
    "kafer": "kafr",
    "kefr": "kafr",
    "kfr": "kafr",
    "jebel": "jabal",
    "jabel": "jabal",
}


def normalise_name(text: str) -> str:
    """Return the matching key of a place name.

    Parameters
    ----------
    text
        A place name in Latin or Arabic script (or anything else; unknown scripts are only
        cleaned up, not transliterated). ``None`` and NaN give ``""``.

    Returns
    -------
    str
        Lower-case words separated by single spaces, without diacritics, articles or
        punctuation, transliteration variants folded (see the module docstring for the
        rules). ``""`` when nothing is left.

    Examples
    --------
    >>> normalise_name("Deir ez-Zor")
    'dayr zor'
    >>> normalise_name("Dayr az Zawr")
    'dayr zawr'
    >>> normalise_name("Al-Bukamal") == normalise_name("Bukamal")
    True
    >>> normalise_name("\u200fالرَّقَّة") == normalise_name("الرقه")
    True
    """
    return name_keys(text)[0]


def name_keys(text: str) -> tuple[str, ...]:
    """Every key a place name is matched under: its own key first, then the joined-article one.

    Parameters
    ----------
    text
        A place name, as for :func:`normalise_name`.

    Returns
    -------
    tuple of str
        ``(normalise_name(text),)``, plus a second key when a Latin word begins with an
        article written joined to it (``Albukamal`` -> ``bukamal``, ``Arraqqa`` -> ``raka``,
        ``Deir Ezzor`` -> ``dayr zor``). The second key is also what "Aleppo" gives
        (``epo``): use it only when the first finds nothing.

    Examples
    --------
    >>> name_keys("Deir Ezzor")
    ('dayr ezor', 'dayr zor')
    >>> name_keys("Aleppo")
    ('alepo', 'epo')
    >>> name_keys("Deir ez-Zor")
    ('dayr zor',)
    """
    if not isinstance(text, str):
        return ("",)
    if not text.isascii():  # plain ASCII has nothing to decompose: skip the slow part
        text = unicodedata.normalize("NFKC", text).translate(_SCRIPT_TABLE)
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    text = text.casefold().translate(_LATIN_TABLE)
    words = _drop_articles(_NON_WORD.sub(" ", text).split())
    key = " ".join(_fold_word(w) for w in words)
    joined = [_strip_joined_article(w) for w in words]
    if joined == words:
        return (key,)
    return (key, " ".join(_fold_word(w) for w in joined))


def _drop_articles(words: list[str]) -> list[str]:
    """Drop article tokens that precede a word; ``albu`` -> ``bu``; ``الرقه`` -> ``رقه``."""
    out: list[str] = []
    last = len(words) - 1
    for i, word in enumerate(words):
        if word in _ARTICLES and i < last:
            continue
        if word == "albu":
            word = "bu"
        elif word.startswith(_ARABIC_ARTICLE) and len(word) >= 4:
            word = word[2:]
        out.append(word)
    return out


def _strip_joined_article(word: str) -> str:
    """``alraqqa`` -> ``raqqa``, ``arraqqa`` -> ``raqqa``, ``ezzor`` -> ``zor``; else unchanged."""
    if not word.isascii():
        return word
    if _JOINED_AL.match(word):
        return word[2:]
    m = _JOINED_SUN_ARTICLE.match(word)
    return word[1 + len(m.group(1)) :] if m else word


def _fold_word(word: str) -> str:
    """Fold the transliteration variants of one Latin word (other scripts unchanged)."""
    if not word.isascii() or word.isdigit():
        return word
    for old, new in _DIGRAPHS:
        if old in word:
            word = word.replace(old, new)
    word = _DOUBLED.sub(r"\1", word)
    word = _FINAL_AH.sub("a", word)
    return _GENERIC_WORDS.get(word, word)


# --- place-type words (strip_place_type) -----------------------------------------------------

SETTLEMENT_TYPE_WORDS: tuple[str, ...] = (
    *("town", "city", "village", "hamlet", "settlement", "camp", "misto", "selo", "qaryat"),
    *("madinat", "\u0645\u062f\u064a\u0646\u0629", "\u0642\u0631\u064a\u0629"),
    *("\u0628\u0644\u062f\u0629", "\u0645\u062e\u064a\u0645"),  # بلدة مخيم
)
"""Words saying a name is a settlement (English, a few transliterations, Arabic مدينة قرية
بلدة مخيم): dropping one leaves the settlement's own name."""
REGION_TYPE_WORDS: tuple[str, ...] = (
    *("governorate", "province", "oblast", "region", "state", "prefecture", "muhafazat"),
    *("mohafazat", "wilaya", "wilayah", "vilayet", "sheng", "mayorality"),
    "\u0645\u062d\u0627\u0641\u0638\u0629",  # محافظة
)
"""Words naming a first-level unit (governorate, province, oblast, Arabic محافظة)."""
DISTRICT_TYPE_WORDS: tuple[str, ...] = (
    *("district", "sub-district", "subdistrict", "raion", "rayon", "area", "county"),
    *("municipality", "nahiya", "nahia", "nahiyah", "qada", "qadaa", "kaza"),
    *("\u0645\u0646\u0637\u0642\u0629", "\u0646\u0627\u062d\u064a\u0629"),  # منطقة ناحية
    *("\u0642\u0636\u0627\u0621", "\u0645\u0631\u0643\u0632", "markaz"),  # قضاء مركز
)
"""Words naming a smaller area (district, sub-district, raion, Arabic منطقة ناحية قضاء, and
مركز "centre": OCHA calls the sub-district around a district's seat "مركز <seat>")."""

_PARENTHETICAL = re.compile(r"[(\[][^()\[\]]*[)\]]")
_CONNECTOR = "of"  # "City of Aleppo", "Governorate of Raqqa"


class StrippedName(NamedTuple):
    """What :func:`strip_place_type` returns."""

    name: str
    """The name without notes and type words (the input, trimmed, when nothing was dropped)."""
    dropped: tuple[str, ...]
    """The keys of the type words dropped, in the order found; ``()`` when none."""
    had_note: bool
    """Whether a parenthetical note was dropped."""

    @property
    def area_level(self) -> int:
        """0 when no area word was dropped; else 1 for a first-level one
        (:data:`REGION_TYPE_WORDS`), 2 for a smaller one (:data:`DISTRICT_TYPE_WORDS`)."""
        if any(word in _REGION_KEYS for word in self.dropped):
            return 1
        return 2 if any(word in _DISTRICT_KEYS for word in self.dropped) else 0


def strip_place_type(text: str) -> StrippedName:
    """Drop parenthetical notes and leading or trailing place-type words from a name.

    Parameters
    ----------
    text
        A place or admin-unit name as written in the data ("Sloviansk town", "Kiev (Kyiv)",
        "Raqqa (outskirts)", "مدينة الرقة", "Donetsk oblast", "Camp Speicher").

    Returns
    -------
    StrippedName
        ``name`` keeps the original spelling of the words that remain (so the result can be
        normalised like any name). At least one word always remains: a name made only of
        type words ("Camp", "The City") or only of a note is returned as it was.

    Notes
    -----
    Words are compared by their keys (:func:`normalise_name`), so case, diacritics, Arabic
    harakat and ة/ه do not matter. "of" after a leading type word goes with it ("City of
    Aleppo"). Type words inside a name ("Tal Abyad Camp Road") are kept: only the ends are
    trimmed, one word at a time, the longest type phrase first.

    Examples
    --------
    >>> strip_place_type("Sloviansk town").name
    'Sloviansk'
    >>> strip_place_type("Kiev (Kyiv)").name
    'Kiev'
    >>> strip_place_type("Salah ad Din Governorate").area_level
    1
    """
    if not isinstance(text, str):
        return StrippedName("", (), had_note=False)
    without_note = " ".join(_PARENTHETICAL.sub(" ", text).split())
    had_note = bool(without_note) and without_note != " ".join(text.split())
    words = (without_note or text).split()
    dropped: list[str] = []
    while len(words) > 1:
        cut = _type_phrase_at_end(words) or _type_phrase_at_start(words)
        if cut is None:
            break
        key, words = cut
        dropped.append(key)
    return StrippedName(" ".join(words), tuple(dropped), had_note=had_note)


def _type_phrase_at_end(words: list[str]) -> tuple[str, list[str]] | None:
    """(key, remaining words) when the name ends with a type phrase and keeps a word."""
    for size in (2, 1):
        if len(words) > size:
            key = normalise_name(" ".join(words[-size:]))
            if key in _TYPE_KEYS:
                return key, words[:-size]
    return None


def _type_phrase_at_start(words: list[str]) -> tuple[str, list[str]] | None:
    """(key, remaining words) when the name begins with a type phrase (and maybe "of")."""
    for size in (2, 1):
        if len(words) > size:
            key = normalise_name(" ".join(words[:size]))
            if key in _TYPE_KEYS:
                rest = words[size:]
                if len(rest) > 1 and rest[0].casefold() == _CONNECTOR:
                    rest = rest[1:]
                return key, rest
    return None


_REGION_KEYS = frozenset(normalise_name(w) for w in REGION_TYPE_WORDS)
_DISTRICT_KEYS = frozenset(normalise_name(w) for w in DISTRICT_TYPE_WORDS)
_TYPE_KEYS = (
    _REGION_KEYS | _DISTRICT_KEYS | frozenset(normalise_name(w) for w in SETTLEMENT_TYPE_WORDS)
)
