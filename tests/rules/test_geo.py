"""Countries and subdivisions from what people type (leadgate.rules.geo)."""

from __future__ import annotations

import re

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgate.rules import geo
from leadgate.rules.geo import (
    Country,
    Subdivision,
    has_subdivisions,
    normalize_key,
    resolve_country,
    resolve_subdivision,
)


def alpha2(value: str) -> str | None:
    country = resolve_country(value)
    return None if country is None else country.alpha2


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("USA", "US"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("us", "US"),
        ("United States of America", "US"),
        ("  united   states ", "US"),
        ("America", "US"),
        ("UK", "GB"),
        ("U.K.", "GB"),
        ("Great Britain", "GB"),
        ("Britain", "GB"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("Wales", "GB"),
        ("Northern Ireland", "GB"),
        ("Holland", "NL"),
        ("The Netherlands", "NL"),
        ("Nederland", "NL"),
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("deu", "DE"),
        ("Czech Republic", "CZ"),
        ("Česká republika", "CZ"),
        ("Česko", "CZ"),
        ("South Korea", "KR"),
        ("Korea", "KR"),
        ("Korea, South", "KR"),
        ("Republic of Korea", "KR"),
        ("대한민국", "KR"),
        ("한국", "KR"),
        ("North Korea", "KP"),
        ("Russia", "RU"),
        ("Russian Federation", "RU"),
        ("Россия", "RU"),
        ("Vietnam", "VN"),
        ("Việt Nam", "VN"),
        ("Viet Nam", "VN"),
        ("UAE", "AE"),
        ("Emirates", "AE"),
        ("الإمارات", "AE"),
        ("Ivory Coast", "CI"),
        ("Côte d'Ivoire", "CI"),
        ("Cote dIvoire", "CI"),
        ("Macedonia", "MK"),
        ("Swaziland", "SZ"),
        ("Burma", "MM"),
        ("East Timor", "TL"),
        ("Cape Verde", "CV"),
        ("Vatican", "VA"),
        ("Hong Kong", "HK"),
        ("Macau", "MO"),
        ("Macao", "MO"),
        ("Palestine", "PS"),
        ("Kosovo", "XK"),
        ("XK", "XK"),
        ("Österreich", "AT"),
        ("Osterreich", "AT"),
        ("Oesterreich", "AT"),
        ("Schweiz", "CH"),
        ("Suisse", "CH"),
        ("Svizzera", "CH"),
        ("España", "ES"),
        ("Espana", "ES"),
        ("Italia", "IT"),
        ("México", "MX"),
        ("Mexico", "MX"),
        ("Brasil", "BR"),
        ("Polska", "PL"),
        ("Sverige", "SE"),
        ("Norge", "NO"),
        ("Danmark", "DK"),
        ("Suomi", "FI"),
        ("België", "BE"),
        ("Belgique", "BE"),
        ("Magyarország", "HU"),
        ("Ελλάδα", "GR"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Україна", "UA"),
        ("日本", "JP"),
        ("中国", "CN"),
        ("Éire", "IE"),
        ("Portugal", "PT"),
        ("România", "RO"),
        ("Hrvatska", "HR"),
        ("Slovensko", "SK"),
        ("Slovenija", "SI"),
        ("България", "BG"),
        ("Србија", "RS"),
        ("Srbija", "RS"),
        ("India", "IN"),
        ("भारत", "IN"),
        ("السعودية", "SA"),
        ("ישראל", "IL"),
        ("ไทย", "TH"),
        ("ประเทศไทย", "TH"),
        ("Indonesia", "ID"),
        ("Pilipinas", "PH"),
        ("The Bahamas", "BS"),
        ("St. Lucia", "LC"),
        ("Trinidad & Tobago", "TT"),
        ("ＵＳＡ", "US"),  # full-width, NFKC
        ("Co\u0302te d'Ivoire", "CI"),  # decomposed accent (NFD)
        ("NA", "NA"),  # Namibia, exactly as the code
    ],
)
def test_resolves_what_people_type(typed: str, expected: str) -> None:
    assert alpha2(typed) == expected


@pytest.mark.parametrize(
    "junk",
    ["", " ", "-", "--", "N/A", "n/a", "na", "n.a.", "None", "null", "Other", "Unknown", "Test", "?", "xx",
     "Virgin Islands", "Europe", "123"],
)  # fmt: skip
def test_junk_resolves_to_nothing(junk: str) -> None:
    assert resolve_country(junk) is None


def test_canonical_names_are_the_ones_people_expect() -> None:
    expected = {
        "US": "United States",
        "GB": "United Kingdom",
        "KR": "South Korea",
        "KP": "North Korea",
        "RU": "Russia",
        "IR": "Iran",
        "VN": "Vietnam",
        "TW": "Taiwan",
        "BO": "Bolivia",
        "VE": "Venezuela",
        "TZ": "Tanzania",
        "MD": "Moldova",
        "SY": "Syria",
        "LA": "Laos",
        "CZ": "Czechia",
        "TR": "Türkiye",
        "NL": "Netherlands",
        "CI": "Côte d'Ivoire",
        "PS": "Palestine",
        "CD": "Democratic Republic of the Congo",
        "XK": "Kosovo",
    }
    assert {code: resolve_country(code) for code in expected} == {
        code: Country(code, resolve_country(code).alpha3, name)  # type: ignore[union-attr]
        for code, name in expected.items()
    }
    assert resolve_country("usa") == Country("US", "USA", "United States")


def test_no_canonical_name_keeps_an_iso_comma_form() -> None:
    names = [resolve_country(c.alpha_2).name for c in pycountry.countries]  # type: ignore[union-attr]
    # "Korea, Republic of", "Congo, The Democratic Republic of the", "Virgin Islands, U.S."
    inverted = re.compile(r", (the |.* of( the)?$|U\.S\.$|British$)", re.IGNORECASE)
    assert [n for n in names if inverted.search(n)] == []


@pytest.mark.parametrize("record", list(pycountry.countries), ids=lambda c: c.alpha_2)
def test_every_iso_country_round_trips(record: object) -> None:
    code = record.alpha_2  # type: ignore[attr-defined]
    country = resolve_country(code)
    assert country is not None and country.alpha2 == code
    assert resolve_country(country.name) == country
    assert resolve_country(country.alpha3) == country
    if code != "NA":  # "na" is a blank people type, not Namibia (see geo's docstring)
        assert resolve_country(code.lower()) == country
    for attribute in ("name", "official_name", "common_name"):
        label = getattr(record, attribute, None)
        if label:
            assert resolve_country(label) == country, label
            assert resolve_country(label.upper()) == country, label


@pytest.mark.parametrize(
    ("code", "alternate"),
    [(code, alternate) for code, alternates in geo._COUNTRY_ALTERNATES.items() for alternate in alternates],
)
def test_every_alternate_resolves_to_its_own_country(code: str, alternate: str) -> None:
    assert alpha2(alternate) == code


@given(st.text())
def test_normalize_key_is_idempotent(value: str) -> None:
    key = normalize_key(value)
    assert normalize_key(key) == key


@given(st.sampled_from(sorted(c.alpha_2 for c in pycountry.countries)), st.data())
def test_case_spacing_and_dots_do_not_matter(code: str, data: st.DataObject) -> None:
    name = resolve_country(code).name  # type: ignore[union-attr]
    variant = data.draw(
        st.sampled_from([name.upper(), name.lower(), f"  {name}  ", name.replace(" ", "   ")])
    )
    assert alpha2(variant) == code


# Subdivisions


@pytest.mark.parametrize(
    ("country", "typed", "code"),
    [
        ("US", "CA", "US-CA"),
        ("US", "ca", "US-CA"),
        ("US", "US-CA", "US-CA"),
        ("US", "California", "US-CA"),
        ("us", " california ", "US-CA"),
        ("US", "Washington DC", "US-DC"),
        ("US", "D.C.", "US-DC"),
        ("US", "District of Columbia", "US-DC"),
        ("US", "Washington", "US-WA"),
        ("US", "Puerto Rico", "US-PR"),
        ("DE", "Bavaria", "DE-BY"),
        ("DE", "Bayern", "DE-BY"),
        ("DE", "BY", "DE-BY"),
        ("DE", "Baden-Württemberg", "DE-BW"),
        ("DE", "Baden-Wuerttemberg", "DE-BW"),
        ("DE", "North Rhine-Westphalia", "DE-NW"),
        ("CA", "Québec", "CA-QC"),
        ("CA", "Quebec", "CA-QC"),
        ("CA", "QC", "CA-QC"),
        ("GB", "England", "GB-ENG"),
        ("GB", "Scotland", "GB-SCT"),
        ("GB", "Wales", "GB-WLS"),
        ("GB", "Cymru", "GB-WLS"),
        ("GB", "Northern Ireland", "GB-NIR"),
        ("GB", "Kent", "GB-KEN"),
        ("GB", "Vale of Glamorgan", "GB-VGL"),
        ("FR", "Île-de-France", "FR-IDF"),
        ("FR", "Ile de France", "FR-IDF"),
        ("FR", "Dordogne", "FR-24"),
        ("ES", "Cataluña", "ES-CT"),
        ("ES", "Catalonia", "ES-CT"),
        ("ES", "La Rioja", "ES-RI"),  # the community (top level), not the province of the same name
        ("ES", "Comunidad de Madrid", "ES-MD"),
        ("IT", "Lombardia", "IT-25"),
        ("IT", "Milano", "IT-MI"),
        ("CH", "Zurich", "CH-ZH"),
        ("MX", "CDMX", "MX-CMX"),
        ("SE", "SE-01", "SE-AB"),  # the older code in pycountry's annotation
    ],
)
def test_resolves_subdivisions(country: str, typed: str, code: str) -> None:
    found = resolve_subdivision(country, typed)
    assert found is not None and found.code == code


def test_subdivision_names_drop_iso_annotations() -> None:
    assert resolve_subdivision("GB", "GB-WLS") == Subdivision("GB-WLS", "Wales")
    assert resolve_subdivision("US", "CA") == Subdivision("US-CA", "California")


@pytest.mark.parametrize(
    ("country", "typed"),
    [("US", "XX"), ("US", "Bavaria"), ("US", ""), ("US", "Other"), ("US", "CA-QC"), ("CA", "California"),
     ("DE", "N/A"), ("XK", "Pristina"), ("ZZ", "CA")],
)  # fmt: skip
def test_unknown_subdivisions_resolve_to_nothing(country: str, typed: str) -> None:
    assert resolve_subdivision(country, typed) is None


def test_has_subdivisions() -> None:
    assert has_subdivisions("US") and has_subdivisions("de") and has_subdivisions("GB")
    assert not has_subdivisions("XK")
    assert not has_subdivisions("ZZ")


@pytest.mark.parametrize("country", sorted({s.country_code for s in pycountry.subdivisions}))
def test_every_iso_subdivision_resolves_by_code_and_name(country: str) -> None:
    for record in pycountry.subdivisions.get(country_code=country):
        assert resolve_subdivision(country, record.code).code == record.code  # type: ignore[union-attr]
        by_code_part = resolve_subdivision(country, record.code.split("-", 1)[1])
        assert by_code_part is not None and by_code_part.code == record.code
        by_name = resolve_subdivision(country, record.name.split("[")[0])
        # A name two subdivisions share resolves to one of them (the top level when there are two levels).
        assert by_name is not None
        assert normalize_key(by_name.name) == normalize_key(record.name.split("[")[0])


def test_lookups_are_cached() -> None:
    resolve_country("Deutschland")
    before = resolve_country.cache_info().hits
    assert resolve_country("Deutschland") is resolve_country("Deutschland")
    assert resolve_country.cache_info().hits == before + 2
