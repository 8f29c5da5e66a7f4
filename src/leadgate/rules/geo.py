"""Countries (ISO 3166-1) and subdivisions (ISO 3166-2) from what people type into forms and sheets.

The data is pycountry's. On top of it this module keeps three small tables: display names where ISO's short
name is not what people expect (``_NAME_OVERRIDES``), the other names people type for a country —
abbreviations, former and native names (``_COUNTRY_ALTERNATES``) — and a few exonyms for subdivisions
(``_SUBDIVISION_ALTERNATES``).

Matching goes through ``normalize_key`` (case, accents, dots, apostrophes, punctuation and whitespace
ignored), so "U.S.A.", "usa" and " U S A " meet, as do "Österreich" and "Osterreich". Indexes are built
once, lazily; lookups are memoised, because the engine asks about the same few hundred values for up to a
million leads.

Choices:

- Kosovo (``XK``, ``XKX``) is accepted although ISO lists it only as a user-assigned code: the EU, CLDR and
  most CRMs use it, and rejecting Kosovar leads would be wrong. It has no subdivisions.
- "England", "Scotland", "Wales" and "Northern Ireland" resolve to the United Kingdom; as a subdivision of
  GB they resolve to GB-ENG, GB-SCT, GB-WLS, GB-NIR.
- "Korea" means South Korea. Türkiye and Côte d'Ivoire keep their ISO names ("Turkey", "Ivory Coast" are
  accepted).
- "NA" (upper case, exactly) is Namibia; "na", "N/A", "n.a." are blanks people type and resolve to nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Generic, TypeVar

import pycountry

from leadgate.rules.normalize import collapse_whitespace, loose_key

__all__ = [
    "Country",
    "Subdivision",
    "has_subdivisions",
    "normalize_key",
    "resolve_country",
    "resolve_subdivision",
]


@dataclass(frozen=True)
class Country:
    """A country: ISO 3166-1 codes and the English name people expect ("United States", "South Korea")."""

    alpha2: str
    alpha3: str
    name: str


@dataclass(frozen=True)
class Subdivision:
    """An ISO 3166-2 subdivision: ``code`` like "US-CA", ``name`` as ISO spells it ("Bayern")."""

    code: str
    name: str


def normalize_key(value: str) -> str:
    """The key countries and subdivisions are indexed and looked up by (see ``leadgate.rules.normalize``)."""
    return loose_key(value)


# ISO short names that read badly in a CRM; pycountry's common_name already covers Bolivia, Iran, Laos,
# Moldova, North/South Korea, Syria, Taiwan, Tanzania, Venezuela and Vietnam.
_NAME_OVERRIDES: dict[str, str] = {
    "BN": "Brunei",
    "CD": "Democratic Republic of the Congo",
    "FK": "Falkland Islands",
    "FM": "Micronesia",
    "PS": "Palestine",
    "RU": "Russia",
    "VA": "Vatican City",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
}

_KOSOVO = Country("XK", "XKX", "Kosovo")

# Names people type that pycountry does not know, by alpha-2. Each resolves to its country (a test checks).
_COUNTRY_ALTERNATES: dict[str, tuple[str, ...]] = {
    "US": (
        "USA",
        "U.S.",
        "U.S.A.",
        "United States of America",
        "America",
        "US of A",
        "Estados Unidos",
        "États-Unis",
        "Vereinigte Staaten",
        "アメリカ",
        "美国",
    ),
    "GB": (
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
        "Royaume-Uni",
        "Reino Unido",
        "Vereinigtes Königreich",
    ),
    "NL": ("Holland", "The Netherlands", "Nederland", "Pays-Bas", "Niederlande", "Países Bajos"),
    "DE": ("Deutschland", "Bundesrepublik Deutschland", "Allemagne", "Alemania", "Germania", "Niemcy"),
    "AT": ("Österreich", "Autriche"),
    "CH": ("Schweiz", "Suisse", "Svizzera", "Suiza", "Confoederatio Helvetica"),
    "ES": ("España", "Spanien", "Espagne"),
    "IT": ("Italia", "Italien"),
    "FR": ("Frankreich", "Francia"),
    "MX": ("México", "Mexiko", "Mexique"),
    "BR": ("Brasil", "Brasilien", "Brésil"),
    "PL": ("Polska", "Polen", "Pologne"),
    "SE": ("Sverige", "Schweden", "Suède"),
    "NO": ("Norge", "Noreg", "Norwegen"),
    "DK": ("Danmark", "Dänemark"),
    "FI": ("Suomi", "Finnland"),
    "BE": ("België", "Belgique", "Belgien"),
    "CZ": ("Czech Republic", "Česko", "Česká republika", "Tschechien"),
    "SK": ("Slovensko", "Slovak Republic"),
    "HU": ("Magyarország", "Ungarn"),
    "GR": ("Ελλάδα", "Ellada", "Hellas"),
    "TR": ("Turkey", "Türkei", "Turquie"),
    "RU": ("Russian Federation", "Россия", "Rossiya"),
    "UA": ("Україна", "Ukraina"),
    "JP": ("日本", "日本国", "Nippon", "Nihon"),
    "CN": ("中国", "中华人民共和国", "PRC", "People's Republic of China", "Mainland China"),
    "KR": ("Korea", "Republic of Korea", "Korea (South)", "S. Korea", "ROK", "대한민국", "한국"),
    "KP": ("DPRK", "Korea (North)", "N. Korea"),
    "IE": ("Éire", "Republic of Ireland"),
    "RO": ("România", "Rumänien"),
    "HR": ("Hrvatska", "Kroatien"),
    "SI": ("Slovenija",),
    "BG": ("България",),
    "RS": ("Србија", "Srbija"),
    "IN": ("भारत", "Bharat"),
    "AE": ("UAE", "U.A.E.", "Emirates", "الإمارات", "الإمارات العربية المتحدة"),
    "SA": ("KSA", "Saudi", "السعودية", "المملكة العربية السعودية"),
    "IL": ("ישראל",),
    "TH": ("ไทย", "ประเทศไทย"),
    "VN": ("Việt Nam",),
    "PH": ("Pilipinas",),
    "CI": ("Ivory Coast",),
    "MK": ("Macedonia", "Republic of Macedonia", "FYROM"),
    "SZ": ("Swaziland",),
    "MM": ("Burma",),
    "TL": ("East Timor",),
    "CV": ("Cape Verde",),
    "VA": ("Vatican", "Vatican City State", "Holy See"),
    "HK": ("Hong Kong SAR", "Hongkong", "香港"),
    "MO": ("Macau", "Macau SAR", "澳門"),
    "TW": ("台灣", "臺灣"),
    "PS": ("State of Palestine", "Palestinian Territories"),
    "CD": ("DR Congo", "DRC", "Democratic Republic of Congo", "Congo-Kinshasa", "Zaire"),
    "CG": ("Republic of the Congo", "Republic of Congo", "Congo-Brazzaville"),
    "FK": ("Falklands",),
    "VG": ("BVI",),
    "VI": ("US Virgin Islands", "USVI"),
    "NZ": ("Aotearoa",),
    "XK": ("Kosova", "Republic of Kosovo"),
}

# Keys that look like a code but are mostly blanks ("n.a."); they resolve only when typed exactly as the code.
_AMBIGUOUS_CODES: dict[str, str] = {"na": "NA"}

_SUBDIVISION_ALTERNATES: dict[str, tuple[str, ...]] = {
    "US-DC": ("Washington DC", "Washington, D.C.", "Washington District of Columbia"),
    "DE-BY": ("Bavaria",),
    "DE-HE": ("Hesse",),
    "DE-MV": ("Mecklenburg-Western Pomerania", "Mecklenburg-West Pomerania"),
    "DE-NI": ("Lower Saxony",),
    "DE-NW": ("North Rhine-Westphalia", "NRW"),
    "DE-RP": ("Rhineland-Palatinate",),
    "DE-SN": ("Saxony",),
    "DE-ST": ("Saxony-Anhalt",),
    "DE-TH": ("Thuringia",),
    "CH-BE": ("Bern",),
    "CH-FR": ("Freiburg",),
    "CH-GE": ("Geneva", "Genf", "Ginevra"),
    "CH-GR": ("Grisons",),
    "CH-LU": ("Lucerne",),
    "CH-SG": ("St. Gallen",),
    "CH-TI": ("Tessin",),
    "CH-VS": ("Wallis",),
    "ES-AN": ("Andalusia",),
    "ES-CT": ("Catalonia",),
    "ES-IB": ("Balearic Islands",),
    "ES-CN": ("Canary Islands",),
    "ES-NC": ("Navarre",),
    "ES-PV": ("Basque Country", "Euskadi"),
    "ES-VC": ("Valencian Community",),
    "IT-21": ("Piedmont",),
    "IT-25": ("Lombardy",),
    "IT-52": ("Tuscany",),
    "IT-75": ("Apulia",),
    "IT-82": ("Sicily",),
    "IT-88": ("Sardinia",),
    "MX-CMX": ("Mexico City", "CDMX", "Distrito Federal"),
    "CA-NL": ("Newfoundland",),
    "CA-PE": ("PEI",),
}

_T = TypeVar("_T")
_CODE, _NAME, _ALTERNATE, _DERIVED = range(4)  # label ranks: a lower rank wins a clash

_TRANSLITERATIONS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def _derived_names(name: str) -> Iterator[str]:
    """Other spellings of a name: "Korea, Republic of" -> "Republic of Korea"; without "(…)"; "ue" for "ü"."""
    if "(" in name:
        stripped = collapse_whitespace("".join(part.split(")")[-1] for part in name.split("(")))
        if stripped:
            yield stripped
    if name.count(",") == 1:
        before, after = (part.strip() for part in name.split(","))
        yield f"{after} {before}"
        yield before
    german = name.translate(_TRANSLITERATIONS)
    if german != name:
        yield german


def _lookup_keys(value: str) -> Iterator[str]:
    """The keys to try for a typed value, most literal first."""
    key = normalize_key(value)
    yield key
    words = key.split(" ")
    if len(words) > 1:
        if words[0] == "the":
            yield " ".join(words[1:])
        if "st" in words:
            yield " ".join("saint" if w == "st" else w for w in words)
    if value.count(",") == 1:  # "Korea, South"
        before, after = value.split(",")
        yield normalize_key(f"{after} {before}")


class _Index(Generic[_T]):
    """A key -> item map where a more authoritative label (lower rank) wins over a looser one.

    Two different items claiming a derived key at the same rank make it ambiguous ("Virgin Islands" from
    "Virgin Islands, British" and "Virgin Islands, U.S."), and it is dropped; a clash on a real name keeps the
    first.
    """

    def __init__(self) -> None:
        self._best: dict[str, tuple[tuple[int, int], _T | None]] = {}

    def add(self, label: str, item: _T, rank: int, tiebreak: int = 0) -> None:
        key = normalize_key(label)
        for k in {key, _without_the(key)}:
            if not k:
                continue
            current = self._best.get(k)
            if current is None or (rank, tiebreak) < current[0]:
                self._best[k] = ((rank, tiebreak), item)
            elif rank == _DERIVED and current[0] == (rank, tiebreak) and current[1] != item:
                self._best[k] = (current[0], None)

    def build(self) -> dict[str, _T]:
        return {key: item for key, (_, item) in self._best.items() if item is not None}


def _without_the(key: str) -> str:
    return key[4:] if key.startswith("the ") and len(key) > 4 else key


@lru_cache(maxsize=1)
def _country_index() -> dict[str, Country]:
    index: _Index[Country] = _Index()
    countries: dict[str, Country] = {}
    for record in pycountry.countries:
        alpha2 = record.alpha_2
        name = _NAME_OVERRIDES.get(alpha2) or getattr(record, "common_name", None) or record.name
        country = Country(alpha2, record.alpha_3, name)
        countries[alpha2] = country
        index.add(alpha2, country, _CODE)
        index.add(record.alpha_3, country, _CODE)
        official = [
            name,
            record.name,
            getattr(record, "common_name", ""),
            getattr(record, "official_name", ""),
        ]
        for label in filter(None, official):
            index.add(label, country, _NAME)
            for derived in _derived_names(label):
                index.add(derived, country, _DERIVED)
    countries["XK"] = _KOSOVO
    for label in ("XK", "XKX"):
        index.add(label, _KOSOVO, _CODE)
    index.add(_KOSOVO.name, _KOSOVO, _NAME)
    for alpha2, alternates in _COUNTRY_ALTERNATES.items():
        for label in alternates:
            index.add(label, countries[alpha2], _ALTERNATE)
            for derived in _derived_names(label):
                index.add(derived, countries[alpha2], _DERIVED)
    return index.build()


@lru_cache(maxsize=65536)
def resolve_country(value: str) -> Country | None:
    """The country ``value`` names — a code, an ISO, common, native or colloquial name — or None.

    Cached: a repeated value costs a dictionary lookup.
    """
    index = _country_index()
    for key in _lookup_keys(value):
        if key in _AMBIGUOUS_CODES and value.strip() != _AMBIGUOUS_CODES[key]:
            return None
        country = index.get(key)
        if country is not None:
            return country
    return None


@lru_cache(maxsize=1)
def _countries_with_subdivisions() -> frozenset[str]:
    return frozenset(record.country_code for record in pycountry.subdivisions)


def has_subdivisions(alpha2: str) -> bool:
    """Whether ISO 3166-2 (as pycountry knows it) lists subdivisions for the country."""
    return alpha2.upper() in _countries_with_subdivisions()


def _split_annotation(name: str) -> tuple[str, list[str]]:
    """ "Wales [Cymru GB-CYM]" -> ("Wales", ["Cymru", "GB-CYM"]); a lower-case note ("[city]") is dropped."""
    if "[" not in name:
        return name, []
    base, _, rest = name.partition("[")
    inner = rest.split("]")[0].strip()
    if not inner or inner.islower():
        return base.strip(), []
    words = inner.split()
    codes = [w for w in words if "-" in w and w.split("-")[0].isupper() and len(w.split("-")[0]) == 2]
    label = " ".join(w for w in words if w not in codes)
    return base.strip(), [*codes, *([label] if label else [])]


@cache
def _subdivision_index(alpha2: str) -> dict[str, Subdivision]:
    index: _Index[Subdivision] = _Index()
    subdivisions: dict[str, Subdivision] = {}
    for record in pycountry.subdivisions.get(country_code=alpha2) or ():  # type: ignore[no-untyped-call]
        code: str = record.code
        name, extra = _split_annotation(record.name)
        subdivision = Subdivision(code, name)
        subdivisions[code] = subdivision
        top_level = 0 if record.parent_code is None else 1
        index.add(code, subdivision, _CODE)
        index.add(code.split("-", 1)[1], subdivision, _CODE)
        index.add(name, subdivision, _NAME, top_level)
        for label in extra:
            rank = _CODE if label.startswith(f"{alpha2}-") else _ALTERNATE
            index.add(label, subdivision, rank, top_level)
            if rank == _CODE:
                index.add(label.split("-", 1)[1], subdivision, _CODE)
        for label in [name, *extra]:
            for derived in _derived_names(label):
                index.add(derived, subdivision, _DERIVED, top_level)
    for code, alternates in _SUBDIVISION_ALTERNATES.items():
        if code.startswith(f"{alpha2}-"):
            for label in alternates:
                index.add(label, subdivisions[code], _ALTERNATE)
    return index.build()


@lru_cache(maxsize=65536)
def resolve_subdivision(alpha2: str, value: str) -> Subdivision | None:
    """The subdivision of country ``alpha2`` that ``value`` names, or None.

    Accepts the full code ("US-CA"), the code part ("CA"), the ISO name ("California", "Québec"/"Quebec") and
    a few exonyms ("Bavaria"). Where ISO lists two levels (GB countries and counties, FR regions and
    departments, ES communities and provinces, IT regions and provinces) both resolve; on a name clash the top
    level wins.
    """
    index = _subdivision_index(alpha2.strip().upper())
    if not index:
        return None
    for key in _lookup_keys(value):
        subdivision = index.get(key)
        if subdivision is not None:
            return subdivision
    return None
