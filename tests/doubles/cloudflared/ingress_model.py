# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Ingress model of the cloudflared TEST DOUBLE. NOT Cloudflare's cloudflared.

An independent second opinion on a tunnel's config.yml, written from cloudflared's OWN behaviour
(its Go source and what the real binary printed), sharing no code with this collection's plugins/:

* config/configuration.go   ReadConfigFile: yaml.v3 decode into typed structs (type errors are
                            fatal, unknown keys found by a strict second decode are only a warning),
                            CustomDuration.UnmarshalYAML (a duration must be a string time.ParseDuration
                            accepts: ``connectTimeout: 30`` is refused)
* ingress/ingress.go        ParseIngress / validateIngress / validateHostname / FindMatchingRule
* ingress/rule.go           Rule.Matches (hostname, ``*.`` wildcard, punycode form, path regexp)
* ingress/origin_service.go service kinds; ipaccess/access.go socks-proxy ipRules
* cmd/cloudflared/tunnel/ingress_subcommands.go   ``ingress validate`` and ``ingress rule`` output
* Go's regexp/syntax (RE2 syntax, Perl flags), net/url.Parse, net.SplitHostPort, strconv.Atoi,
  time.ParseDuration, re-implemented here in plain Python.

Public, pure functions (no I/O) for in-process tests:

    validate_config(source, path="config.yml") -> (ok, errors, warnings)
    match_rule(source, url) -> int                (0-based index, as ``Matched rule #N`` prints it)
    compile_re2(pattern) -> re.Pattern            (raises RE2Error, Go's regexp.Compile message)
    cli_validate(source, path) / cli_rule(source, path, url) -> (exit code, stdout lines, stderr lines)

``source`` is the YAML text (str or bytes) or an already loaded mapping.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata

import yaml

__all__ = [
    "ConfigError",
    "RE2Error",
    "cli_rule",
    "cli_validate",
    "compile_re2",
    "decode_config",
    "match_rule",
    "parse_ingress",
    "validate_config",
]

NO_CONFIG = (
    "No configuration file was found. Please create one, or use the --config flag to specify its "
    "filepath. You can use the help command to learn more about configuration files"
)
UNUSED_KEYS = "Warning: unused keys detected in your config file. Here is a list of unused keys:"


class ConfigError(ValueError):
    """A config cloudflared refuses; str() is the message cloudflared prints."""


# --------------------------------------------------------------------------------------------------
# Go standard library pieces: strconv.Quote, strconv.Atoi, time.ParseDuration
# --------------------------------------------------------------------------------------------------

_HEX = "0123456789abcdefABCDEF"
_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text):
    """strconv.Quote (as %q prints a string)."""
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in _C_ESCAPES:
            out.append(_C_ESCAPES[char])
        elif char.isprintable() or char == " ":
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def go_atoi(text):
    """strconv.Atoi: (value, None) or (None, its error). Only ASCII digits, optional sign."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or any(char not in "0123456789" for char in digits):
        return None, f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax"
    value = int(digits)  # only ASCII digits reach int(): Python's int() also takes other scripts' digits
    value = -value if text[0] == "-" else value
    if not -(2**63) <= value < 2**63:
        return None, f"strconv.Atoi: parsing {go_quote(text)}: value out of range"
    return value, None


_DURATION_UNITS = {
    "ns": 1,
    "us": 10**3,
    "\u00b5s": 10**3,  # MICRO SIGN
    "\u03bcs": 10**3,  # GREEK SMALL LETTER MU
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def go_parse_duration(text):
    """time.ParseDuration: nanoseconds, or None when Go refuses the text."""
    rest, negative = text, False
    if rest[:1] in ("+", "-"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        return None
    total = 0
    while rest:
        if not (rest[0] == "." or "0" <= rest[0] <= "9"):
            return None
        match = re.match(r"([0-9]*)(?:\.([0-9]*))?", rest)
        whole, fraction = match.group(1), match.group(2)
        if not whole and not fraction:
            return None
        rest = rest[match.end() :]
        unit_end = 0
        while unit_end < len(rest) and not (rest[unit_end] == "." or "0" <= rest[unit_end] <= "9"):
            unit_end += 1
        unit = _DURATION_UNITS.get(rest[:unit_end])
        if unit is None:  # missing or unknown unit
            return None
        rest = rest[unit_end:]
        value = int(whole or "0")
        if value > 2**63 // unit:
            return None
        value *= unit
        if fraction and int(fraction):
            value += int(int(fraction) * (unit / 10 ** len(fraction)))
        total += value
        if total > 2**63:
            return None
    if not negative and total > 2**63 - 1:
        return None
    return -total if negative else total


# --------------------------------------------------------------------------------------------------
# Go regexp/syntax (Perl flags, as regexp.Compile uses): syntax check, then a Python translation
# of the accepted pattern (ASCII \d \w \s \b, $ = end of text, {,n} literal...) to match paths.
# --------------------------------------------------------------------------------------------------


class RE2Error(ValueError):
    """What Go's regexp.Compile says about a pattern it refuses."""

    def __init__(self, code, expr):
        super().__init__(f"error parsing regexp: {code}: `{expr}`")
        self.code, self.expr = code, expr


_FOLD, _DOTNL, _ONELINE, _NONGREEDY = 1, 2, 4, 8
_MAX_RUNE = 0x10FFFF
_MAX_SIZE = (128 << 20) // 40
_WORD = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_PERL = {"d": [(0x30, 0x39)], "s": [(9, 10), (12, 13), (32, 32)], "w": _WORD}
_POSIX = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0, 0x7F)],
    "blank": [(9, 9), (32, 32)],
    "cntrl": [(0, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(9, 13), (32, 32)],
    "upper": [(0x41, 0x5A)],
    "word": _WORD,
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
# Go's unicode.Categories (plus Go 1.25's Cn, LC, Any, Assigned, ASCII and CategoryAliases).
_CATEGORY_ALIASES = dict(
    pair.split("=")
    for pair in """Other=C Control=Cc Cntrl=Cc Format=Cf Unassigned=Cn Privateuse=Co Surrogate=Cs Letter=L
Casedletter=LC Lowercaseletter=Ll Modifierletter=Lm Otherletter=Lo Titlecaseletter=Lt
Uppercaseletter=Lu Mark=M Combiningmark=M Spacingmark=Mc Enclosingmark=Me Nonspacingmark=Mn Number=N
Decimalnumber=Nd Digit=Nd Letternumber=Nl Othernumber=No Punctuation=P Punct=P
Connectorpunctuation=Pc Dashpunctuation=Pd Closepunctuation=Pe Finalpunctuation=Pf
Initialpunctuation=Pi Otherpunctuation=Po Openpunctuation=Ps Symbol=S Currencysymbol=Sc
Modifiersymbol=Sk Mathsymbol=Sm Othersymbol=So Separator=Z Lineseparator=Zl Paragraphseparator=Zp
Spaceseparator=Zs""".split()
)
_CATEGORIES = (
    "C Cc Cf Cn Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs"
).split()
_SCRIPTS = """Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak
Bengali Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian
Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari
Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic
Grantha Greek Gujarati Gunjala_Gondi Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana
Imperial_Aramaic Inherited Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana
Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A
Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen Masaram_Gondi
Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi Mongolian Mro
Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham
Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian
Old_Turkic Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician
Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian
Sora_Sompeng Soyombo Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil
Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Warang_Citi
Yezidi Yi Zanabazar_Square""".split()
_TABLE_CACHE = {}


def _canonical_name(name):
    """Go 1.25 regexp/syntax canonicalName: first letter upper, rest lower, no '_', '-', ' '."""
    kept = "".join(char for char in name if char not in "_- ")
    return kept[:1].upper() + kept[1:].lower()


def _ranges_where(predicate):
    ranges, start = [], None
    for code in range(_MAX_RUNE + 2):
        inside = code <= _MAX_RUNE and predicate(code)
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            ranges.append((start, code - 1))
            start = None
    return ranges


def _unicode_table(name):
    """Ranges of \\p{name}, or None when Go knows no such class. Scripts are approximated by the
    Unicode character names (Python has no script property)."""
    canonical = _canonical_name(name)
    if canonical in _TABLE_CACHE:
        return _TABLE_CACHE[canonical]
    special = {"Any": [(0, _MAX_RUNE)], "Ascii": [(0, 0x7F)]}
    categories = {_canonical_name(cat): cat for cat in _CATEGORIES}
    scripts = {_canonical_name(script): script for script in _SCRIPTS}
    if canonical in special:
        table = special[canonical]
    elif canonical == "Assigned":
        table = _ranges_where(lambda code: unicodedata.category(chr(code)) != "Cn")
    elif canonical in categories or canonical in _CATEGORY_ALIASES or canonical == "Lc":
        cat = "LC" if canonical == "Lc" else categories.get(canonical) or _CATEGORY_ALIASES[canonical]
        wanted = {"C": ("Cc", "Cf", "Co", "Cs"), "LC": ("Ll", "Lt", "Lu")}.get(cat)
        if wanted is None:
            wanted = tuple(c for c in _CATEGORIES if c.startswith(cat) and len(c) == 2) if len(cat) == 1 else (cat,)
        table = _ranges_where(lambda code: unicodedata.category(chr(code)) in wanted)
    elif canonical in scripts:
        prefix = {"Han": "CJK ", "Common": "\0", "Inherited": "\0"}.get(scripts[canonical])
        prefix = prefix or scripts[canonical].upper().replace("_", " ") + " "
        table = _ranges_where(lambda code: unicodedata.name(chr(code), "").startswith(prefix))
    else:
        table = None
    _TABLE_CACHE[canonical] = table
    return table


def _clean(ranges):
    merged = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _negate(ranges):
    out, next_low = [], 0
    for low, high in _clean(ranges):
        if next_low <= low - 1:
            out.append((next_low, low - 1))
        next_low = high + 1
    if next_low <= _MAX_RUNE:
        out.append((next_low, _MAX_RUNE))
    return out


def _py_char(code):
    char = chr(code)
    if code < 0x80 and char.isalnum():
        return char
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _py_class(ranges, negated, fold):
    ranges = _clean(ranges)
    if not ranges:
        text = "(?s:.)" if negated else "(?!)"
    elif ranges == [(0, _MAX_RUNE)]:
        text = "(?!)" if negated else "(?s:.)"
    else:
        body = "".join(_py_char(lo) if lo == hi else f"{_py_char(lo)}-{_py_char(hi)}" for lo, hi in ranges)
        text = ("[^" if negated else "[") + body + "]"
    return f"(?i:{text})" if fold else text


_WORD_CLASS = "[0-9A-Za-z_]"
_ASSERTIONS = {
    "begin_text": "\\A",
    "end_text": "\\Z",
    "begin_line": "(?m:^)",
    "end_line": "(?m:$)",
    "word": f"(?:(?<={_WORD_CLASS})(?!{_WORD_CLASS})|(?<!{_WORD_CLASS})(?={_WORD_CLASS}))",
    "not_word": f"(?:(?<={_WORD_CLASS})(?={_WORD_CLASS})|(?<!{_WORD_CLASS})(?!{_WORD_CLASS}))",
}


class _Node:
    """One parsed piece: its Python text, and what Go's limits need (repeat counts, height, size)."""

    __slots__ = ("height", "kind", "max", "min", "py", "runes", "subs")

    def __init__(self, kind, py, subs=(), runes=1, rmin=None, rmax=None):
        self.kind, self.py, self.subs, self.runes, self.min, self.max = kind, py, list(subs), runes, rmin, rmax
        self.height = 1 + max((sub.height for sub in self.subs), default=0)


def _repeat_is_valid(node, limit):
    if node.kind == "repeat_n":
        count = node.max
        if count == 0:
            return True
        count = node.min if count < 0 else count
        if count > limit:
            return False
        if count > 0:
            limit //= count
    return all(_repeat_is_valid(sub, limit) for sub in node.subs)


def _size(node):
    subs = [_size(sub) for sub in node.subs]
    kind = node.kind
    if kind == "lit":
        size = node.runes
    elif kind in ("capture", "star"):
        size = 2 + subs[0]
    elif kind in ("plus", "quest"):
        size = 1 + subs[0]
    elif kind == "concat":
        size = sum(subs)
    elif kind == "alt":
        size = sum(subs) + len(subs) - 1
    elif kind == "repeat_n":
        if node.max == -1:
            size = 2 + subs[0] if node.min == 0 else 1 + node.min * subs[0]
        else:
            size = node.max * subs[0] + node.max - node.min
    else:
        size = 0
    return max(1, size)


def _concat(nodes):
    if not nodes:
        return _Node("empty", "")
    if len(nodes) == 1:
        return nodes[0]
    return _Node("concat", "".join(node.py for node in nodes), nodes)


def _alternate(branches):
    if len(branches) == 1:
        return branches[0]
    return _Node("alt", "(?:" + "|".join(node.py for node in branches) + ")", branches)


class _Frame:
    __slots__ = ("branches", "capture", "flags", "items")

    def __init__(self, flags, capture):
        self.flags, self.capture, self.branches, self.items = flags, capture, [], []


class _RE2Parser:
    def __init__(self, pattern):
        self.whole = pattern
        self.flags = _ONELINE
        self.frames = [_Frame(self.flags, False)]

    # -- the pieces -------------------------------------------------------------------------------

    def push(self, node):
        self.frames[-1].items.append(node)
        self.check_height(node)

    def check_height(self, node):
        if node.height > 1000:
            raise RE2Error("expression nests too deeply", self.whole)

    def literal(self, code):
        fold = self.flags & _FOLD and chr(code).lower() != chr(code).upper()
        py = _py_char(code)
        self.push(_Node("lit", f"(?i:{py})" if fold else py))

    def char_class(self, ranges, negated=False):
        self.push(_Node("class", _py_class(ranges, negated, self.flags & _FOLD)))

    def repeat(self, kind, rmin, rmax, pos, after, last_repeat):
        text = self.whole
        lazy = bool(self.flags & _NONGREEDY)
        if after < len(text) and text[after] == "?":
            after += 1
            lazy = not lazy
        if last_repeat is not None:
            raise RE2Error("invalid nested repetition operator", text[last_repeat:after])
        items = self.frames[-1].items
        if not items:
            raise RE2Error("missing argument to repetition operator", text[pos:after])
        sub = items[-1]
        quantifier = {"star": "*", "plus": "+", "quest": "?"}.get(kind)
        if quantifier is None:
            quantifier = "{%d}" % rmin if rmin == rmax else "{%d,%s}" % (rmin, "" if rmax < 0 else rmax)
        node = _Node(kind, f"(?:{sub.py}){quantifier}{'?' if lazy else ''}", [sub], rmin=rmin, rmax=rmax)
        items[-1] = node
        self.check_height(node)
        if kind == "repeat_n" and (rmin >= 2 or rmax >= 2) and not _repeat_is_valid(node, 1000):
            raise RE2Error("invalid repeat count", text[pos:after])
        return after

    # -- escapes and classes ----------------------------------------------------------------------

    def escape(self, pos):
        """parseEscape: (code point, next position)."""
        text = self.whole
        if pos + 1 >= len(text):
            raise RE2Error("trailing backslash at end of expression", "")
        char, end = text[pos + 1], pos + 2
        if char.isascii() and not char.isalnum():
            return ord(char), end
        if char in "01234567" and (char == "0" or (end < len(text) and text[end] in "01234567")):
            value = int(char)
            for _attempt in range(2):
                if end < len(text) and text[end] in "01234567":
                    value, end = value * 8 + int(text[end]), end + 1
            return value, end
        if char == "x" and end < len(text):
            if text[end] == "{":
                value, index = 0, end + 1
                while index < len(text) and text[index] in _HEX:
                    value, index = value * 16 + int(text[index], 16), index + 1
                    if value > _MAX_RUNE:
                        raise RE2Error("invalid escape sequence", text[pos:index])
                if index > end + 1 and index < len(text) and text[index] == "}":
                    return value, index + 1
                raise RE2Error("invalid escape sequence", text[pos : min(index + 1, len(text))])
            pair = text[end : end + 2]
            if len(pair) == 2 and all(c in _HEX for c in pair):
                return int(pair, 16), end + 2
            raise RE2Error("invalid escape sequence", text[pos : min(end + 2, len(text))])
        simple = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
        if char in simple:
            return simple[char], end
        raise RE2Error("invalid escape sequence", text[pos:end])

    def unicode_class(self, pos):
        """parseUnicodeClass at pos (a backslash): (ranges, next position) or None."""
        text = self.whole
        if text[pos + 1 : pos + 2] not in ("p", "P"):
            return None
        sign = -1 if text[pos + 1] == "P" else 1
        if pos + 2 >= len(text):
            raise RE2Error("invalid character class range", text[pos : pos + 2])
        if text[pos + 2] != "{":
            seq_end, name = pos + 3, text[pos + 2]
        else:
            close = text.find("}", pos)
            if close < 0:
                raise RE2Error("invalid character class range", text[pos:])
            seq_end, name = close + 1, text[pos + 3 : close]
        if name.startswith("^"):
            sign, name = -sign, name[1:]
        table = _unicode_table(name)
        if table is None:
            raise RE2Error("invalid character class range", text[pos:seq_end])
        return (table if sign > 0 else _negate(table)), seq_end

    def perl_class(self, pos):
        letter = self.whole[pos + 1 : pos + 2]
        if letter.lower() in _PERL:
            table = _PERL[letter.lower()]
            return (_negate(table) if letter.isupper() else table), pos + 2
        return None

    def parse_class(self, pos):
        text = self.whole
        start, index, ranges = pos, pos + 1, []
        negated = index < len(text) and text[index] == "^"
        index += negated
        first = True
        while index >= len(text) or text[index] != "]" or first:
            first = False
            if text.startswith("[:", index):
                close = text.find(":]", index + 2)
                if close >= 0:
                    name = text[index : close + 2]
                    inner = name[2:-2]
                    negated_group = inner.startswith("^")
                    table = _POSIX.get(inner[1:] if negated_group else inner)
                    if table is None:
                        raise RE2Error("invalid character class range", name)
                    ranges += _negate(table) if negated_group else table
                    index = close + 2
                    continue
            if text.startswith("\\", index) and index + 1 < len(text):
                found = self.unicode_class(index) or self.perl_class(index)
                if found:
                    ranges += found[0]
                    index = found[1]
                    continue
            range_start = index
            low, index = self.class_char(index, start)
            high = low
            if index + 1 < len(text) and text[index] == "-" and text[index + 1] != "]":
                high, index = self.class_char(index + 1, start)
                if high < low:
                    raise RE2Error("invalid character class range", text[range_start:index])
            ranges.append((low, high))
        self.char_class(ranges, negated)
        return index + 1

    def class_char(self, index, class_start):
        if index >= len(self.whole):
            raise RE2Error("missing closing ]", self.whole[class_start:])
        if self.whole[index] == "\\":
            return self.escape(index)
        return ord(self.whole[index]), index + 1

    def perl_flags(self, pos):
        """parsePerlFlags: named captures, (?flags), (?flags:...)."""
        text = self.whole
        rest = text[pos:]
        if (len(rest) > 4 and rest[2] == "P" and rest[3] == "<") or (len(rest) > 3 and rest[2] == "<"):
            name_start = pos + (4 if rest[2] == "P" else 3)
            close = text.find(">", pos)
            if close < 0:
                raise RE2Error("invalid named capture", rest)
            name = text[name_start:close]
            if not name or not all(char == "_" or (char.isascii() and char.isalnum()) for char in name):
                raise RE2Error("invalid named capture", text[pos : close + 1])
            self.open_group(True)
            return close + 1
        flags, sign, saw_flag, index = self.flags, 1, False, pos + 2
        while index < len(text):
            char = text[index]
            index += 1
            if char in "imsU":
                bit = {"i": _FOLD, "m": _ONELINE, "s": _DOTNL, "U": _NONGREEDY}[char]
                # (?m) clears OneLine; every other flag is set (and the other way round after '-')
                flags = flags & ~bit if (char == "m") == (sign > 0) else flags | bit
                saw_flag = True
            elif char == "-" and sign > 0:
                sign, saw_flag = -1, False
            elif char in ":)" and (sign > 0 or saw_flag):
                if char == ":":
                    self.open_group(False)
                self.flags = flags
                return index
            else:
                break
        raise RE2Error("invalid or unsupported Perl syntax", text[pos:index])

    def open_group(self, capture):
        self.frames.append(_Frame(self.flags, capture))

    def close_group(self):
        if len(self.frames) < 2:
            raise RE2Error("unexpected )", self.whole)
        frame = self.frames.pop()
        inner = _alternate([*frame.branches, _concat(frame.items)])
        self.flags = frame.flags
        if frame.capture:
            inner = _Node("capture", f"(?:{inner.py})", [inner])
        elif inner.kind in ("concat", "alt"):
            inner = _Node(inner.kind, f"(?:{inner.py})", inner.subs)
        self.push(inner)

    # -- the main loop ----------------------------------------------------------------------------

    def parse(self):
        text, pos, last_repeat = self.whole, 0, None
        while pos < len(text):
            char, repeat_at = text[pos], None
            if char == "(":
                if text.startswith("(?", pos):
                    pos = self.perl_flags(pos)
                else:
                    self.open_group(True)
                    pos += 1
            elif char == "|":
                frame = self.frames[-1]
                frame.branches.append(_concat(frame.items))
                frame.items = []
                pos += 1
            elif char == ")":
                self.close_group()
                pos += 1
            elif char in "^$":
                one_line = self.flags & _ONELINE
                kind = ("begin" if char == "^" else "end") + ("_text" if one_line else "_line")
                self.push(_Node("assert", _ASSERTIONS[kind]))
                pos += 1
            elif char == ".":
                self.push(_Node("any", "(?s:.)" if self.flags & _DOTNL else "."))
                pos += 1
            elif char == "[":
                pos = self.parse_class(pos)
            elif char in "*+?":
                kind = {"*": "star", "+": "plus", "?": "quest"}[char]
                repeat_at = pos
                pos = self.repeat(kind, 0, 0, pos, pos + 1, last_repeat)
            elif char == "{" and (counts := re.match(r"\{(0|[1-9][0-9]*)(,(0|[1-9][0-9]*)?)?\}", text[pos:])):
                rmin = int(counts.group(1))
                rmax = rmin if counts.group(2) is None else int(counts.group(3)) if counts.group(3) else -1
                end = pos + counts.end()
                if rmin > 1000 or rmax > 1000 or (rmax >= 0 and rmin > rmax):
                    raise RE2Error("invalid repeat count", text[pos:end])
                repeat_at = pos
                pos = self.repeat("repeat_n", rmin, rmax, pos, end, last_repeat)
            elif char == "\\":
                pos = self.backslash(pos)
            else:
                self.literal(ord(char))
                pos += 1
            last_repeat = repeat_at
        if len(self.frames) != 1:
            raise RE2Error("missing closing )", text)
        frame = self.frames[0]
        node = _alternate([*frame.branches, _concat(frame.items)])
        if _size(node) > _MAX_SIZE:
            raise RE2Error("expression too large", text)
        return node

    def backslash(self, pos):
        text = self.whole
        letter = text[pos + 1 : pos + 2]
        anchors = {"A": "begin_text", "z": "end_text", "b": "word", "B": "not_word"}
        if letter in anchors:
            self.push(_Node("assert", _ASSERTIONS[anchors[letter]]))
            return pos + 2
        if letter == "C":
            raise RE2Error("invalid escape sequence", "\\C")
        if letter == "Q":
            end = text.find("\\E", pos + 2)
            for char in text[pos + 2 : len(text) if end < 0 else end]:
                self.literal(ord(char))
            return len(text) if end < 0 else end + 2
        found = self.unicode_class(pos) if letter else None
        found = found or (self.perl_class(pos) if letter else None)
        if found:
            self.char_class(found[0])
            return found[1]
        code, pos = self.escape(pos)
        self.literal(code)
        return pos


def compile_re2(pattern):
    """Go's regexp.Compile(pattern) as a check: the Python equivalent of an accepted pattern.

    Raises RE2Error (Go's message) for what Go refuses, e.g. lookarounds, backreferences,
    possessive quantifiers, atomic groups, \\Z, conditionals."""
    node = _RE2Parser(pattern).parse()
    return re.compile(node.py)


# --------------------------------------------------------------------------------------------------
# Go net/url.Parse (the parts cloudflared reads: Scheme, Host, Path) and net.SplitHostPort
# --------------------------------------------------------------------------------------------------


class _URLError(ValueError):
    pass


class GoURL:
    __slots__ = ("host", "opaque", "path", "scheme")

    def __init__(self, scheme="", host="", path="", opaque=""):
        self.scheme, self.host, self.path, self.opaque = scheme, host, path, opaque

    def hostname(self):
        host, _port = _url_split_host_port(self.host)
        return host

    def port(self):
        return _url_split_host_port(self.host)[1]


_HOST_OK = set("!$&'()*+,;=:[]<>\"-_.~")


def _valid_optional_port(port):
    return port == "" or (port[0] == ":" and all("0" <= c <= "9" for c in port[1:]))


def _url_split_host_port(host_port):
    host, port = host_port, ""
    colon = host.rfind(":")
    if colon != -1 and _valid_optional_port(host[colon:]):
        host, port = host[:colon], host[colon + 1 :]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def _unescape(text, mode):
    """net/url unescape: checks %-escapes (and host characters), returns the decoded text."""
    out, index = bytearray(), 0
    while index < len(text):
        char = text[index]
        if char == "%":
            pair = text[index + 1 : index + 3]
            if len(pair) < 2 or pair[0] not in _HEX or pair[1] not in _HEX:
                raise _URLError(f"invalid URL escape {go_quote(text[index : index + 3])}")
            value = int(pair, 16)
            if mode == "host" and value < 0x80 and pair != "25":
                raise _URLError(f"invalid URL escape {go_quote(text[index : index + 3])}")
            if mode == "zone" and pair != "25" and value != 0x20 and value < 0x80 and _host_escape(chr(value)):
                raise _URLError(f"invalid URL escape {go_quote(text[index : index + 3])}")
            out.append(value)
            index += 3
            continue
        if mode in ("host", "zone") and char.isascii() and _host_escape(char):
            raise _URLError(f"invalid character {go_quote(char)} in host name")
        out += char.encode("utf-8", "surrogatepass")
        index += 1
    return out.decode("utf-8", "replace")


def _host_escape(char):
    return not (char.isalnum() or char in _HOST_OK)


def _parse_host(host):
    if host.startswith("["):
        close = host.rfind("]")
        if close < 0:
            raise _URLError("missing ']' in host")
        colon_port = host[close + 1 :]
        if not _valid_optional_port(colon_port):
            raise _URLError(f"invalid port {go_quote(colon_port)} after host")
        inner = host[1:close]
        zone = inner.find("%25")
        literal = inner if zone < 0 else inner[:zone]
        try:  # Go >= 1.25.2: only an IPv6 address may sit in brackets
            ipaddress.IPv6Address(_unescape(literal, "host"))
        except ValueError:
            raise _URLError(f"invalid IP-literal {go_quote(host[: close + 1])}") from None
        if zone >= 0:
            return _unescape(host[: zone + 1], "host") + _unescape(inner[zone:], "zone") + "]" + colon_port
        return _unescape(host, "host")
    if "[" in host or "]" in host:  # CVE-2026-25679: an IP-literal only at the start of the host
        raise _URLError(f"invalid IP-literal {go_quote(host)}")
    colon = host.rfind(":")
    if colon != -1 and not _valid_optional_port(host[colon:]):
        raise _URLError(f"invalid port {go_quote(host[colon:])} after host")
    return _unescape(host, "host")


_USERINFO_OK = set("-._:~!$&'()*+,;=%@")


def go_url_parse(raw):
    """url.Parse(raw): a GoURL, or _URLError with Go's message."""
    without_fragment, _sep, fragment = raw.partition("#")
    try:
        url = _url_parse(without_fragment)
    except _URLError as exc:
        raise _URLError(f"parse {go_quote(without_fragment)}: {exc}") from None
    try:
        _unescape(fragment, "fragment")
    except _URLError as exc:
        raise _URLError(f"parse {go_quote(raw)}: {exc}") from None
    return url


def _url_parse(raw):
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in raw):
        raise _URLError("net/url: invalid control character in URL")
    if raw == "*":
        return GoURL(path="*")
    scheme, rest = "", raw
    for index, char in enumerate(raw):
        if char.isascii() and char.isalpha():
            continue
        if char.isascii() and (char.isdigit() or char in "+-."):
            if index == 0:
                break
            continue
        if char == ":":
            if index == 0:
                raise _URLError("missing protocol scheme")
            scheme, rest = raw[:index].lower(), raw[index + 1 :]
        break
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        if scheme:
            return GoURL(scheme=scheme, opaque=rest)
        if ":" in rest.partition("/")[0]:
            raise _URLError("first path segment in URL cannot contain colon")
    host = ""
    if (scheme or not rest.startswith("///")) and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        userinfo, at, host_part = authority.rpartition("@")
        host = _parse_host(host_part if at else authority)
        if at:
            if not all(char.isascii() and (char.isalnum() or char in _USERINFO_OK) for char in userinfo):
                raise _URLError("net/url: invalid userinfo")
            for part in userinfo.split(":", 1):
                _unescape(part, "user")
    return GoURL(scheme=scheme, host=host, path=_unescape(rest, "path"))


def go_split_host_port(host_port):
    """net.SplitHostPort: (host, port) or None when Go returns an error."""
    colon = host_port.rfind(":")
    if colon < 0:
        return None
    if host_port.startswith("["):
        end = host_port.find("]")
        if end < 0 or end + 1 != colon:
            return None
        host, low, high = host_port[1:end], 1, end + 1
    else:
        host, low, high = host_port[:colon], 0, 0
        if ":" in host:
            return None
    if "[" in host_port[low:] or "]" in host_port[high:]:
        return None
    return host, host_port[colon + 1 :]


def _idna_lookup(hostname):
    """golang.org/x/net/idna Lookup.ToASCII, approximated: lower-cases ASCII names that pass STD3
    rules; non-ASCII ones through Python's IDNA codec. None on error."""
    if hostname.isascii():
        lowered = hostname.lower()
        for label in lowered.split("."):
            if not all(char.isalnum() or char == "-" for char in label):
                return None
            if label and (label[0] == "-" or label[-1] == "-" or (label[2:4] == "--" and label[:2] != "xn")):
                return None
        return lowered
    try:
        return hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return None


# --------------------------------------------------------------------------------------------------
# config.yml -> cloudflared's Go structs, as gopkg.in/yaml.v3 decodes them
# --------------------------------------------------------------------------------------------------

_STR, _BOOL, _INT, _UINT, _UINT64, _DUR, _ANY = "string", "bool", "int", "uint", "uint64", "time.Duration", "any"


class _List:
    def __init__(self, elem, name):
        self.elem, self.name = elem, name


class _Struct:
    def __init__(self, name, fields, inline_any=False):
        self.name, self.fields, self.inline_any = name, fields, inline_any


_ACCESS = _Struct(
    "config.AccessConfig",
    {"required": _BOOL, "teamName": _STR, "audTag": _List(_STR, "[]string"), "environment": _STR},
)
_IP_RULE = _Struct("config.IngressIPRule", {"prefix": _STR, "ports": _List(_INT, "[]int"), "allow": _BOOL})
_ORIGIN = _Struct(
    "config.OriginRequestConfig",
    {
        "connectTimeout": _DUR,
        "tlsTimeout": _DUR,
        "tcpKeepAlive": _DUR,
        "noHappyEyeballs": _BOOL,
        "keepAliveConnections": _INT,
        "keepAliveTimeout": _DUR,
        "httpHostHeader": _STR,
        "originServerName": _STR,
        "matchSNItoHost": _BOOL,
        "caPool": _STR,
        "noTLSVerify": _BOOL,
        "disableChunkedEncoding": _BOOL,
        "bastionMode": _BOOL,
        "proxyAddress": _STR,
        "proxyPort": _UINT,
        "proxyType": _STR,
        "ipRules": _List(_IP_RULE, "[]config.IngressIPRule"),
        "http2Origin": _BOOL,
        "access": _ACCESS,
    },
)
_RULE = _Struct(
    "config.UnvalidatedIngressRule", {"hostname": _STR, "path": _STR, "service": _STR, "originRequest": _ORIGIN}
)
_WARP = _Struct("config.WarpRoutingConfig", {"connectTimeout": _DUR, "maxActiveFlows": _UINT64, "tcpKeepAlive": _DUR})
_CONFIG = _Struct(
    "config.configFileSettings",
    {
        "tunnel": _STR,
        "ingress": _List(_RULE, "[]config.UnvalidatedIngressRule"),
        "warp-routing": _WARP,
        "originRequest": _ORIGIN,
    },
    inline_any=True,  # every other top-level key goes to a map[string]interface{}: never a warning
)


class _YNode:
    """A YAML node with yaml.v3's view of it: tag as Go resolves it, raw text, line (1-based)."""

    __slots__ = ("items", "kind", "line", "tag", "text", "value")

    def __init__(self, kind, tag, line, text="", value=None, items=None):
        self.kind, self.tag, self.line, self.text, self.value, self.items = kind, tag, line, text, value, items


_PY_TAGS = {
    "tag:yaml.org,2002:str": "!!str",
    "tag:yaml.org,2002:int": "!!int",
    "tag:yaml.org,2002:float": "!!float",
    "tag:yaml.org,2002:bool": "!!bool",
    "tag:yaml.org,2002:null": "!!null",
    "tag:yaml.org,2002:timestamp": "!!timestamp",
    "tag:yaml.org,2002:binary": "!!binary",
    "tag:yaml.org,2002:merge": "!!merge",
    "tag:yaml.org,2002:map": "!!map",
    "tag:yaml.org,2002:seq": "!!seq",
}
_RESOLVER = yaml.resolver.Resolver()
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(([Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2}))"
    r"|( [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?))?$"
)


def _go_int(text):
    """strconv.ParseInt(text, 0, 64) / ParseUint: the value, or None."""
    match = re.fullmatch(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)", text)
    if not match:
        return None
    digits = match.group(2)
    if len(digits) > 1 and digits[0] == "0" and digits[1] in "xXoObB":
        value = int(digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1].lower()])
    else:
        value = int(digits, 8) if digits.startswith("0") else int(digits)
    value = -value if match.group(1) == "-" else value
    return value if -(2**63) <= value < 2**64 else None


def _go_resolve(text):
    """yaml.v3 resolve() of an untagged plain scalar: (tag, value)."""
    special = {
        "": ("!!null", None),
        "~": ("!!null", None),
        "null": ("!!null", None),
        "Null": ("!!null", None),
        "NULL": ("!!null", None),
        "<<": ("!!merge", "<<"),
    }
    if text in special:
        return special[text]
    if text in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return "!!bool", text[0] in "tT"
    if text in (".nan", ".NaN", ".NAN"):
        return "!!float", math.nan
    if text in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"):
        return "!!float", -math.inf if text[0] == "-" else math.inf
    if text[0] == ".":
        if re.fullmatch(r"\.[0-9]+([eE][-+]?[0-9]+)?", text):
            return "!!float", float(text)
        return "!!str", text
    if text[0] in "+-0123456789":
        if _TIMESTAMP.match(text):
            return "!!timestamp", text
        plain = text.replace("_", "")
        value = _go_int(plain)
        if value is not None:
            return "!!int", value
        if _YAML_FLOAT.match(plain):
            return "!!float", float(plain)
    return "!!str", text


def _explicit_tag(tag, text):
    """yaml.v3 resolve() with an explicit tag."""
    short = _PY_TAGS.get(tag, tag)
    if short in ("!!str", "!!binary"):
        return short, text
    if short not in ("!!bool", "!!int", "!!float", "!!timestamp"):
        return short, text  # not resolvable: the text itself
    rtag, value = _go_resolve(text)
    if rtag == short or (short == "!!float" and rtag == "!!int"):
        return short, float(value) if short == "!!float" else value
    raise ConfigError(f"yaml: cannot decode {rtag} `{text}` as a {short}")


def _from_pyyaml(node, depth=0):
    if depth > 100:
        raise ConfigError("yaml: exceeded max depth of 100")
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        if node.style in ("'", '"', "|", ">"):
            tag, value = (
                ("!!str", node.value) if node.tag == "tag:yaml.org,2002:str" else _explicit_tag(node.tag, node.value)
            )
        elif node.tag == _RESOLVER.resolve(yaml.ScalarNode, node.value, (True, False)):
            tag, value = _go_resolve(node.value)
        else:
            tag, value = _explicit_tag(node.tag, node.value)
        return _YNode("scalar", tag, line, node.value, value)
    if isinstance(node, yaml.SequenceNode):
        return _YNode("seq", "!!seq", line, items=[_from_pyyaml(item, depth + 1) for item in node.value])
    pairs = [(_from_pyyaml(key, depth + 1), _from_pyyaml(value, depth + 1)) for key, value in node.value]
    return _YNode("map", "!!map", line, items=pairs)


def _from_python(value, depth=0):
    if depth > 100:
        raise ConfigError("yaml: exceeded max depth of 100")
    if isinstance(value, dict):
        pairs = [(_from_python(key, depth + 1), _from_python(val, depth + 1)) for key, val in value.items()]
        return _YNode("map", "!!map", 0, items=pairs)
    if isinstance(value, (list, tuple)):
        return _YNode("seq", "!!seq", 0, items=[_from_python(item, depth + 1) for item in value])
    if value is None:
        return _YNode("scalar", "!!null", 0, "", None)
    if isinstance(value, bool):
        return _YNode("scalar", "!!bool", 0, "true" if value else "false", value)
    if isinstance(value, int):
        return _YNode("scalar", "!!int", 0, str(value), value)
    if isinstance(value, float):
        return _YNode("scalar", "!!float", 0, repr(value), value)
    if isinstance(value, str):
        return _YNode("scalar", "!!str", 0, value, value)
    return _YNode("scalar", "!!timestamp", 0, str(value), str(value))


class _Decoder:
    """yaml.v3 decoding into the typed structs: type errors (fatal) and unknown keys (warnings)."""

    def __init__(self):
        self.errors, self.unknown = [], []

    def type_error(self, node, goname):
        text = ""
        if node.kind == "scalar":
            text = node.text if len(node.text) <= 10 else node.text[:7] + "..."
            text = f" `{text}`"
        self.errors.append(f"line {node.line}: cannot unmarshal {node.tag}{text} into {goname}")
        return False, None

    def decode(self, node, typ):
        """(ok, value): ok False when yaml.v3 leaves the target unset (null into a plain value)."""
        if node.kind == "scalar" and node.tag == "!!null":
            return typ == _ANY or isinstance(typ, _List), None
        if typ == _ANY:
            return True, self.any(node)
        if isinstance(typ, _List):
            if node.kind != "seq":
                return self.type_error(node, typ.name)
            values = []
            for item in node.items:
                ok, value = self.decode(item, typ.elem)
                if ok:
                    values.append(value)
            return True, values
        if isinstance(typ, _Struct):
            return (True, self.struct(node, typ)) if node.kind == "map" else self.type_error(node, typ.name)
        if node.kind != "scalar":
            return self.type_error(node, typ)
        return self.scalar(node, typ)

    def scalar(self, node, typ):
        value = node.value
        if typ == _STR:
            return True, node.text
        if typ == _BOOL:
            if isinstance(value, bool):
                return True, value
            if isinstance(value, str) and value in "y Y yes Yes YES on On ON n N no No NO off Off OFF".split():
                return True, value in "y Y yes Yes YES on On ON".split()
        elif typ == _DUR:
            if isinstance(value, str) and node.tag != "!!timestamp":
                duration = go_parse_duration(value)
                if duration is not None:
                    return True, duration
        elif not isinstance(value, bool) and isinstance(value, (int, float)):
            if isinstance(value, float):
                value = int(value) if math.isfinite(value) else None
            low, high = (-(2**63), 2**63) if typ == _INT else (0, 2**64)
            if value is not None and low <= value < high:
                return True, value
        return self.type_error(node, typ)

    def struct(self, node, typ, skip=None):
        out, done, merges = {}, set(), []
        for key_node, value_node in node.items:
            if key_node.kind == "scalar" and key_node.tag == "!!merge":
                merges.append(value_node)
                continue
            if key_node.kind != "scalar":
                self.type_error(key_node, _STR)
                continue
            if key_node.tag == "!!null":
                continue
            key = key_node.text
            if skip is not None:
                if key in skip:
                    continue
                skip.add(key)
            field = typ.fields.get(key)
            if field is None:
                if typ.inline_any:
                    self.any(value_node)
                else:
                    self.unknown.append(f"line {key_node.line}: field {key} not found in type {typ.name}")
                continue
            if key in done:
                self.errors.append(f"line {key_node.line}: field {key} already set in type {typ.name}")
                continue
            done.add(key)
            ok, value = self.decode(value_node, field)
            if ok and value is not None:
                out[key] = value
        if merges:  # merged keys come after the mapping's own keys, which win (yaml.v3 mergedFields)
            if skip is None:
                skip = {key.text for key, _value in node.items if key.kind == "scalar" and key.tag != "!!merge"}
            for merge in merges:
                for part in merge.items if merge.kind == "seq" else [merge]:
                    if part.kind != "map":
                        raise ConfigError("yaml: map merge requires map or sequence of maps as the value")
                    for key, value in self.struct(part, typ, skip).items():
                        out.setdefault(key, value)
        return out

    def any(self, node):
        if node.kind == "seq":
            return [self.any(item) for item in node.items]
        if node.kind == "map":
            keys = [(key.kind, key.text, key.line) for key, _value in node.items]
            for index, (kind, text, line) in enumerate(keys):
                for other_kind, other_text, other_line in keys[index + 1 :]:
                    if kind == other_kind and text == other_text:
                        self.errors.append(
                            f"line {other_line}: mapping key {go_quote(text)} already defined at line {line}"
                        )
            return {key.text: self.any(value) for key, value in node.items}
        return node.value


def _unmarshal_text(errors):
    return "yaml: unmarshal errors:\n  " + "\n  ".join(errors)


def decode_config(source, path="config.yml"):
    """Read a config as cloudflared's ReadConfigFile does: (config, warnings).

    config is None when the file holds no YAML document (cloudflared then acts as if there were no
    config file). warnings are the strict decode's ``line N: field X not found in type T``.
    Raises ConfigError("error parsing YAML in config file at PATH: ...") for what cloudflared refuses."""
    prefix = f"error parsing YAML in config file at {path}: "
    try:
        if isinstance(source, (str, bytes)):
            try:
                node = next(iter(yaml.compose_all(source, Loader=yaml.SafeLoader)), None)
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                raise ConfigError(f"yaml: line {mark.line + 1 if mark else 0}: {exc.problem or exc.context}") from None
            except yaml.YAMLError as exc:
                raise ConfigError(f"yaml: {exc}") from None
            if node is None:
                return None, []
            root = _from_pyyaml(node)
        else:
            root = _from_python(source)
        decoder = _Decoder()
        ok, config = decoder.decode(root, _CONFIG)
        if decoder.errors:
            raise ConfigError(_unmarshal_text(decoder.errors))
    except ConfigError as exc:
        raise ConfigError(prefix + str(exc)) from None
    return (config if ok and config is not None else {}), decoder.unknown


# --------------------------------------------------------------------------------------------------
# Ingress rules: ParseIngress / validateIngress / FindMatchingRule
# --------------------------------------------------------------------------------------------------


class IngressError(ValueError):
    """validateIngress's error; cloudflared prints it as "Validation failed: <it>"."""


class Rule:
    __slots__ = ("hostname", "index", "path", "path_regex", "punycode", "service")

    def __init__(self, index, hostname, path, service, path_regex, punycode):
        self.index, self.hostname, self.path, self.service = index, hostname, path, service
        self.path_regex, self.punycode = path_regex, punycode

    def matches(self, hostname, path):
        """Rule.Matches: hostname (or its punycode form) and the path regexp (searched, unanchored)."""
        host_match = self.hostname in ("", "*") or _match_host(self.hostname, hostname)
        puny_match = bool(self.punycode) and _match_host(self.punycode, hostname)
        return (host_match or puny_match) and (self.path_regex is None or self.path_regex.search(path) is not None)

    def lines(self):
        """MultiLineString, as ``ingress rule`` prints the matched rule."""
        out = [f"\thostname: {self.hostname}"] if self.hostname else []
        if self.path_regex is not None:
            out.append(f"\tpath: {self.path}")
        return [*out, f"\tservice: {self.service}"]


def _match_host(rule_host, request_host):
    if rule_host == request_host:
        return True
    return rule_host.startswith("*.") and request_host.endswith(rule_host[1:])


def _go_parse_cidr(prefix):
    address, slash, bits = prefix.partition("/")
    if not slash or "%" in address:
        return False
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    digits = re.match(r"[0-9]*", bits).group(0)
    if not digits or digits != bits:
        return False
    return int(digits) <= (32 if parsed.version == 4 else 128)


def _service(raw, rule_origin, bastion_mode):
    """The service part of validateIngress: its display string, or IngressError."""
    if raw.startswith("unix:"):
        return raw
    if raw.startswith("unix+tls:"):
        return raw
    if raw.startswith("http_status:"):
        code, error = go_atoi(raw[len("http_status:") :])
        if error:
            raise IngressError(f"invalid HTTP status code: {error}")
        if not 100 <= code <= 999:
            raise IngressError(f"invalid HTTP status code: {code}")
        return f"http_status:{code}"
    if raw in ("hello-world", "hello_world"):
        return "hello_world"
    if raw == "socks-proxy":
        for ip_rule in rule_origin.get("ipRules", []):
            prefix = ip_rule.get("prefix")
            if not prefix:
                problem = "no prefix provided"
            elif not _go_parse_cidr(prefix):
                problem = f"unable to parse cidr: {prefix}"
            else:
                bad = [port for port in sorted(ip_rule.get("ports", [])) if not 1 <= port <= 65535]
                problem = f"invalid port {bad[0]}, needs to be between 1 and 65535" if bad else None
            if problem:
                raise IngressError(f"unable to create ip rule for socks-proxy: {problem}")
        return "socks-proxy"
    if raw == "bastion" or bastion_mode:
        return "bastion"
    try:
        url = go_url_parse(raw)
    except _URLError as exc:
        raise IngressError(str(exc)) from None
    if not url.scheme or not url.hostname():
        raise IngressError(f"{raw} is an invalid address, please make sure it has a scheme and a hostname")
    if url.path:
        raise IngressError(
            f"{raw} is an invalid address, ingress rules don't support proxying to a different path on the "
            "origin service. The path will be the same as the eyeball request's path"
        )
    if url.scheme in ("http", "https", "ws", "wss"):
        return raw[: len(url.scheme)].lower() + raw[len(url.scheme) :]
    default_port = {"ssh": 22, "rdp": 3389, "smb": 445, "tcp": 7864}.get(url.scheme)
    host = url.host
    if default_port and not url.port():
        hostname = url.hostname()
        host = (f"[{hostname}]" if ":" in hostname else hostname) + f":{default_port}"
    return f"{url.scheme}://{host}"


def parse_ingress(config):
    """ParseIngress on a decoded config: the rules, or IngressError (the text after "Validation failed: ")."""
    rules = (config or {}).get("ingress") or []
    if not rules:
        raise IngressError("The config file doesn't contain any ingress rules")
    defaults = (config or {}).get("originRequest", {})
    out = []
    for index, rule in enumerate(rules):
        hostname, path = rule.get("hostname", ""), rule.get("path", "")
        origin = rule.get("originRequest", {})
        bastion_mode = origin.get("bastionMode", defaults.get("bastionMode", False))
        service = _service(rule.get("service", ""), origin, bastion_mode)
        access = origin.get("access")
        if access is not None and access.get("required") and not access.get("teamName") and access.get("audTag"):
            raise IngressError("access.TeamName cannot be blank when access.audTags are present")
        if go_split_host_port(hostname) is not None:
            raise IngressError("Hostname cannot contain a port")
        if hostname.rfind("*") > 0:
            raise IngressError(
                'Hostname patterns can have at most one wildcard character ("*") and it can only be used for '
                'subdomains, e.g. "*.example.com"'
            )
        catch_all = hostname in ("", "*") and path == ""
        last = index == len(rules) - 1
        if last and not catch_all:
            raise IngressError(
                "The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)"
            )
        if not last and catch_all:
            raise IngressError(
                f"Rule #{index + 1} is matching the hostname '{hostname}', but this will match every hostname, "
                "meaning the rules which follow it will never be triggered."
            )
        punycode = None
        if not catch_all:
            ascii_form = _idna_lookup(hostname)
            punycode = ascii_form if ascii_form and ascii_form != hostname else None
        regex = None
        if path:
            try:
                regex = compile_re2(path)
            except RE2Error as exc:
                raise IngressError(f"Rule #{index + 1} has an invalid regex: {exc}") from None
        out.append(Rule(index, hostname, path, service, regex, punycode))
    return out


def find_matching_rule(rules, hostname, path):
    """FindMatchingRule: the index of the first rule matching, else the last one."""
    split = go_split_host_port(hostname)
    if split is not None:
        hostname = split[0]
    for rule in rules:
        if rule.matches(hostname, path):
            return rule.index
    return len(rules) - 1


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def validate_config(source, path="config.yml"):
    """``cloudflared tunnel --config PATH ingress validate`` in-process: (ok, errors, warnings).

    errors: what cloudflared prints on stderr (one message; empty when ok).
    warnings: the unknown keys, ``line N: field X not found in type T`` (they never fail a config).
    A source with no YAML document is ok (cloudflared says no config file was found, exit 0)."""
    try:
        config, warnings = decode_config(source, path)
    except ConfigError as exc:
        return False, [str(exc)], []
    if config is None:
        return True, [], []
    try:
        parse_ingress(config)
    except IngressError as exc:
        return False, [f"Validation failed: {exc}"], warnings
    return True, [], warnings


def match_rule(source, url, path="config.yml"):
    """``ingress rule URL`` in-process: the 0-based index of the matching rule.

    Raises ConfigError with cloudflared's message for a config it refuses or a URL it cannot test."""
    rc, out, err = cli_rule(source, path, url)
    if rc != 0:
        raise ConfigError(err[0])
    return int(out[1].rpartition("#")[2])


def cli_validate(source, path):
    """``tunnel --config PATH ingress validate``: (exit code, stdout lines, stderr lines)."""
    try:
        config, warnings = decode_config(source, path)
    except ConfigError as exc:
        return 1, [], [str(exc)]
    if config is None:
        return 0, [NO_CONFIG], []
    out = [f"Validating rules from {path}"]
    try:
        parse_ingress(config)
    except IngressError as exc:
        return 1, out, [f"Validation failed: {exc}"]
    if warnings:
        return 0, [*out, UNUSED_KEYS, _unmarshal_text(warnings)], []
    return 0, [*out, "OK"], []


def cli_rule(source, path, url):
    """``tunnel --config PATH ingress rule URL``: (exit code, stdout lines, stderr lines).

    Prints ``Matched rule #N`` with N counted from 0, as the real binary does."""
    try:
        config, _warnings = decode_config(source, path)
    except ConfigError as exc:
        return 1, [], [str(exc)]
    if not url:
        return 1, [], ["cloudflared tunnel rule expects a single argument, the URL to test"]
    try:
        request = go_url_parse(url)
    except _URLError:
        return 1, [], [f"{url} is not a valid URL"]
    if not request.hostname() and not request.scheme:
        return 1, [], [f"{url} doesn't have a hostname, consider adding a scheme"]
    out = [f"Using rules from {path if config is not None else ''}"]
    try:
        rules = parse_ingress(config)
    except IngressError as exc:
        return 1, out, [f"Validation failed: {exc}"]
    index = find_matching_rule(rules, request.hostname(), request.path)
    return 0, [*out, f"Matched rule #{index}", *rules[index].lines()], []
