"""Realistic event leads, generated deterministically from a seed.

Used by the demo source (``leadgate demo``), the rule-engine benchmark (``python -m bench``) and tests. The
same ``(n, seed)`` always gives the same leads, byte for byte, on any machine with the
same phonenumbers metadata (phones start from its example numbers). Only phonenumbers (and pycountry, for
the invalid_state leads) is needed: the generator does not import leadgate.

    >>> from leadgate.demo.generator import generate_leads, write_csv
    >>> rows = list(generate_leads(1000, seed=7))        # dicts keyed by COLUMNS, every value a str
    >>> kinds = write_csv("leads.csv", 100_000, seed=7)   # Counter of LeadKind, for expected outcomes

Columns (17, in ``COLUMNS`` order): email, first_name, last_name, company, job_title, job_level (picklist),
company_size (picklist), industry (picklist), country, state, city, postal_code, phone, opt_in (consent),
registered_on (ISO date), website (URL), notes (free text). Empty cells are empty strings.

What the leads look like
------------------------
* People from 28 countries, named in their own language and script: English, German, French,
  Spanish, Portuguese, Italian, Dutch, Swedish, Polish, Turkish, Japanese, Chinese, Korean, Arabic,
  Hebrew, Hindi, Greek, Russian and Vietnamese; non-Latin names are sometimes written in Latin letters
  instead (most often in India). A few names are ALL CAPS or lower case (badge scanners), padded with
  spaces, or in decomposed Unicode (NFD).
* Companies in the same language (``株式会社桜井製作所``, ``ООО «Вектор Софт»``, ``כרמל מערכות בע"מ``,
  ``Müller Logistik GmbH``); emails derived from the name at the company's domain, with an ASCII local
  part (``juergen.mueller@``, ``j.mueller@``, ``juergenmueller@``…) except for about 1 in 100
  Latin-script leads with accents, which keep them (``jürgen.müller@``, valid SMTPUTF8). Some domains
  are internationalised (``müller-logistik.de``, ``桜井製作所.jp``, ``вектор-софт.рф``). Every email is
  unique, ignoring case, unless the lead is a duplicate.
* Countries as people type them: ``United States``, ``USA``, ``US``, ``U.S.``, ``UK``, ``Deutschland``,
  ``España``, ``Türkiye``, ``Turkey``, ``South Korea``, ``UAE``, ``Brasil``, ISO alpha-2 and alpha-3
  codes… (``COUNTRY_SPELLINGS`` maps each to its ISO code). States or provinces for the US, Canada,
  Australia, India, Brazil, Mexico and Germany, as a code (``CA``, ``NSW``) or a name (``Bayern``,
  ``São Paulo``).
* Phones built from ``phonenumbers.example_number_for_type`` for the lead's country (mobile and fixed
  line) with the trailing digits varied and kept only when phonenumbers says they are valid, written in
  international, national or E.164 format with spaces, dashes, dots, slashes or a ``00`` prefix.
* Picklist values mostly canonical, sometimes an alias (``Vice President``), another case or extra
  spaces; non-required fields sometimes left empty. Notes in many languages, some with quotes, commas,
  line breaks or emoji.

The mix
-------
Exactly per block of 1,000 leads (the order is shuffled within each block), so 100,000 leads hold
exactly 100 times these counts. Each error lead carries exactly one error, so its disposition under
``bench.rules.default_rules()`` is known (``EXPECTED_DISPOSITION``; codes below without their
``REJECT_LEAD_`` prefix):

==================  =====  ==========================================================  ================
kind                 /1000  what the lead carries                                       disposition
==================  =====  ==========================================================  ================
clean                  880  nothing wrong                                               ACCEPT_LEAD
duplicate               20  the email of an earlier clean lead (among the previous      DUPLICATE
                            20,000), sometimes in another case; the same person
invalid_email           10  broken syntax: no @, ``..``, a space, no dot in the         INVALID_EMAIL
                            domain, trailing dot, ``(at)``, a comma…
free_mail               12  a free-mail domain (gmail.com, web.de, qq.com, naver.com…)  BLOCKED_EMAIL_DOMAIN
disposable_mail          5  a disposable domain (guerrillamail.com, 10minutemail.com…)  BLOCKED_EMAIL_DOMAIN
invalid_list_value      12  a value on no picklist: job_level ``Chief``, ``Head of      INVALID_LIST_VALUE
                            Marketing``…; company_size ``500-1000``; industry
                            ``Crypto``…
invalid_phone            8  too short, too long or impossible for the lead's country    INVALID_PHONE
spreadsheet_phone        5  a phone a spreadsheet turned into a float: ``4.41632E+11``  INVALID_PHONE
unknown_country          6  ``Atlantis``, ``Wakanda``, ``Europe``, ``XX``… (phone in     INVALID_COUNTRY
                            international format, no state)
invalid_state            6  a subdivision of another country (``Bavaria`` for the US)   INVALID_STATE
                            or ``ZZ``
missing_required        12  email, first name, last name or country empty (or only      MISSING_REQUIRED_FIELD
                            spaces)
field_too_long           6  first or last name over 40, company over 80, notes over     FIELD_TOO_LONG
                            500 characters
invalid_date             6  registered_on ``2026-02-30``, ``31/31/2025``,               INVALID_VALUE
                            ``yesterday``…
invalid_url              6  website ``not a website``, ``http://``,                     INVALID_VALUE
                            ``http://exa mple.com``…
no_consent               6  opt_in ``false``, ``no``, ``0``…                            MISSING_REQUIRED_FIELD
==================  =====  ==========================================================  ================

So 10 % of leads carry an error, 2 % are duplicates and 88 % should be accepted. A duplicate drawn
before any clean lead exists (only possible in the first rows) is emitted as a clean lead instead, and
labelled so.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import random
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

COLUMNS: tuple[str, ...] = (
    "email",
    "first_name",
    "last_name",
    "company",
    "job_title",
    "job_level",
    "company_size",
    "industry",
    "country",
    "state",
    "city",
    "postal_code",
    "phone",
    "opt_in",
    "registered_on",
    "website",
    "notes",
)

DEFAULT_SEED = 2026


class LeadKind(StrEnum):
    """What a generated lead carries: nothing wrong, a duplicate email, or exactly one kind of error."""

    CLEAN = "clean"
    DUPLICATE = "duplicate"
    INVALID_EMAIL = "invalid_email"
    FREE_MAIL = "free_mail"
    DISPOSABLE_MAIL = "disposable_mail"
    INVALID_LIST_VALUE = "invalid_list_value"
    INVALID_PHONE = "invalid_phone"
    SPREADSHEET_PHONE = "spreadsheet_phone"
    UNKNOWN_COUNTRY = "unknown_country"
    INVALID_STATE = "invalid_state"
    MISSING_REQUIRED = "missing_required"
    FIELD_TOO_LONG = "field_too_long"
    INVALID_DATE = "invalid_date"
    INVALID_URL = "invalid_url"
    NO_CONSENT = "no_consent"


#: Leads of each kind per block of 1,000 (see the module docstring).
MIX: dict[LeadKind, int] = {
    LeadKind.CLEAN: 880,
    LeadKind.DUPLICATE: 20,
    LeadKind.INVALID_EMAIL: 10,
    LeadKind.FREE_MAIL: 12,
    LeadKind.DISPOSABLE_MAIL: 5,
    LeadKind.INVALID_LIST_VALUE: 12,
    LeadKind.INVALID_PHONE: 8,
    LeadKind.SPREADSHEET_PHONE: 5,
    LeadKind.UNKNOWN_COUNTRY: 6,
    LeadKind.INVALID_STATE: 6,
    LeadKind.MISSING_REQUIRED: 12,
    LeadKind.FIELD_TOO_LONG: 6,
    LeadKind.INVALID_DATE: 6,
    LeadKind.INVALID_URL: 6,
    LeadKind.NO_CONSENT: 6,
}
BLOCK = sum(MIX.values())
assert BLOCK == 1000

#: The disposition code each kind gets under bench.rules.default_rules() (SPEC §2).
EXPECTED_DISPOSITION: dict[LeadKind, str] = {
    LeadKind.CLEAN: "ACCEPT_LEAD",
    LeadKind.DUPLICATE: "REJECT_LEAD_DUPLICATE",
    LeadKind.INVALID_EMAIL: "REJECT_LEAD_INVALID_EMAIL",
    LeadKind.FREE_MAIL: "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN",
    LeadKind.DISPOSABLE_MAIL: "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN",
    LeadKind.INVALID_LIST_VALUE: "REJECT_LEAD_INVALID_LIST_VALUE",
    LeadKind.INVALID_PHONE: "REJECT_LEAD_INVALID_PHONE",
    LeadKind.SPREADSHEET_PHONE: "REJECT_LEAD_INVALID_PHONE",
    LeadKind.UNKNOWN_COUNTRY: "REJECT_LEAD_INVALID_COUNTRY",
    LeadKind.INVALID_STATE: "REJECT_LEAD_INVALID_STATE",
    LeadKind.MISSING_REQUIRED: "REJECT_LEAD_MISSING_REQUIRED_FIELD",
    LeadKind.FIELD_TOO_LONG: "REJECT_LEAD_FIELD_TOO_LONG",
    LeadKind.INVALID_DATE: "REJECT_LEAD_INVALID_VALUE",
    LeadKind.INVALID_URL: "REJECT_LEAD_INVALID_VALUE",
    LeadKind.NO_CONSENT: "REJECT_LEAD_MISSING_REQUIRED_FIELD",
}


def expected_dispositions(kinds: Counter[LeadKind]) -> Counter[str]:
    """The disposition counts a correct engine gives leads of these kinds under the default rules."""
    out: Counter[str] = Counter()
    for kind, count in kinds.items():
        out[EXPECTED_DISPOSITION[kind]] += count
    return out


# --- Picklists: the vocabulary bench.rules turns into leadgate Picklists ------------------------------------

JOB_LEVELS: tuple[str, ...] = (
    "C-Level",
    "VP",
    "Director",
    "Manager",
    "Individual Contributor",
    "Student",
    "Other",
)
JOB_LEVEL_ALIASES: dict[str, str] = {
    "CXO": "C-Level",
    "C-Suite": "C-Level",
    "Vice President": "VP",
    "SVP": "VP",
    "EVP": "VP",
    "Dir.": "Director",
    "Mgr": "Manager",
    "Team Lead": "Manager",
    "IC": "Individual Contributor",
    "Staff": "Individual Contributor",
}
COMPANY_SIZES: tuple[str, ...] = (
    "1-10",
    "11-50",
    "51-200",
    "201-500",
    "501-1,000",
    "1,001-5,000",
    "5,001-10,000",
    "10,001+",
)
COMPANY_SIZE_ALIASES: dict[str, str] = {
    "Self-employed": "1-10",
    "1-10 employees": "1-10",
    "501-1000": "501-1,000",
    "1001-5000": "1,001-5,000",
    "5001-10000": "5,001-10,000",
    "10001+": "10,001+",
    "10,000+": "10,001+",
}
INDUSTRIES: tuple[str, ...] = (
    "Software & Internet",
    "Financial Services",
    "Healthcare & Life Sciences",
    "Manufacturing",
    "Retail & Consumer Goods",
    "Education",
    "Government & Public Sector",
    "Telecommunications",
    "Energy & Utilities",
    "Media & Entertainment",
    "Professional Services",
    "Transportation & Logistics",
    "Non-profit",
    "Other",
)
INDUSTRY_ALIASES: dict[str, str] = {
    "Software": "Software & Internet",
    "IT": "Software & Internet",
    "Banking": "Financial Services",
    "Insurance": "Financial Services",
    "Pharma": "Healthcare & Life Sciences",
    "Healthcare": "Healthcare & Life Sciences",
    "Public Sector": "Government & Public Sector",
    "Logistics": "Transportation & Logistics",
    "Nonprofit": "Non-profit",
}
#: Values people submit that are on no list (nor an alias): the invalid_list_value leads.
INVALID_LIST_VALUES: dict[str, tuple[str, ...]] = {
    "job_level": ("Chief", "Head of Marketing", "Senior", "Owner", "Partner", "Intern", "Executive"),
    "company_size": ("500-1000", "1000-5000", "Lots", "approx. 200", "50+", "Enterprise"),
    "industry": ("Crypto", "Aerospace", "Hospitality", "Agriculture", "Web3", "Sports"),
}

# --- Email domains ---

FREE_MAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "aol.com",
    "live.com",
    "protonmail.com",
)
#: On the disposable list only (not also on the free list), so the kind is unambiguous.
DISPOSABLE_DOMAINS: tuple[str, ...] = (
    "guerrillamail.com",
    "10minutemail.com",
    "trashmail.com",
    "sharklasers.com",
    "temp-mail.org",
    "dispostable.com",
    "getnada.com",
    "throwawaymail.com",
    "mailnesia.com",
)

UNKNOWN_COUNTRIES: tuple[str, ...] = (
    "Atlantis",
    "Wakanda",
    "Narnia",
    "Westeros",
    "Europe",
    "EMEA",
    "XX",
    "Planet Earth",
)
#: States and provinces given for the wrong country, each with the country it belongs to (its English name
#: may be an alias there: "Bavaria" is a fine state for Germany).
FOREIGN_STATES: dict[str, str] = {
    "Bavaria": "DE",
    "Ontario": "CA",
    "Queensland": "AU",
    "Texas": "US",
    "Lombardy": "IT",
    "Catalonia": "ES",
    "Provence": "FR",
    "ZZ": "",
}
INVALID_DATES: tuple[str, ...] = (
    "2026-02-30",
    "2025-13-05",
    "2025-00-10",
    "31/31/2025",
    "yesterday",
    "20251305",
    "2025-11-31",
)
INVALID_URLS: tuple[str, ...] = (
    "not a website",
    "http://",
    "https://",
    "http://exa mple.com",
    "https://.com",
    "ht!tp://broken",
    "www..com",
)
CONSENT_GIVEN: tuple[tuple[str, int], ...] = (("true", 40), ("yes", 25), ("Yes", 15), ("1", 10), ("TRUE", 10))
CONSENT_REFUSED: tuple[str, ...] = ("false", "no", "No", "0", "FALSE")

# --- People and companies, per language ---------------------------------------------------------------------


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """Parse ``"Jürgen|juergen Anna de_la_Cruz|delacruz"`` into (as written, ASCII) pairs.

    ``_`` stands for a space in the written form; without ``|`` the ASCII form is the lower-cased word.
    """
    out = []
    for token in text.split():
        written, _, ascii_form = token.partition("|")
        written = written.replace("_", " ")
        out.append((written, ascii_form or written.lower()))
    return tuple(out)


@dataclass(frozen=True)
class Language:
    """Names, companies and job titles in one language."""

    first_names: tuple[tuple[str, str], ...]
    last_names: tuple[tuple[str, str], ...]
    company_stems: tuple[tuple[str, str], ...]
    company_sectors: tuple[tuple[str, str], ...]
    #: Format strings with {stem}, {sector}; the company as written in this language.
    company_formats: tuple[str, ...]
    latin_script: bool = True
    #: Share of leads (non-Latin scripts) whose name and company are written in Latin letters instead.
    latin_share: float = 0.0
    latin_legal: tuple[str, ...] = ("Ltd.",)
    #: Share of companies whose email domain is internationalised, and its TLD ("" = the country's).
    idn_share: float = 0.0
    idn_tld: str = ""
    titles: dict[str, tuple[str, ...]] = field(default_factory=dict)


LANGUAGES: dict[str, Language] = {
    "en": Language(
        _pairs(
            "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Susan Emily "
            "Daniel Sarah Chris Jessica Matthew Ashley Andrew Olivia Ethan Grace Noah"
        ),
        _pairs(
            "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin "
            "Jackson Thompson White Harris Clark Lewis Walker O'Brien|obrien McAllister|mcallister Nguyen "
            "Patel"
        ),
        _pairs(
            "Northwind Bluefin Ironbridge Clearwater Brightline Redwood Silverline Oakridge Evergreen "
            "Pinecrest Lakeshore Copperleaf Foxglove Kestrel Stonegate Harbor_&_Finch|harborfinch"
        ),
        _pairs(
            "Analytics Systems Logistics Health Software Capital Labs Networks Energy Media Consulting "
            "Manufacturing Robotics Foods Security"
        ),
        (
            "{stem} {sector} Inc.",
            "{stem} {sector} LLC",
            "{stem} {sector}",
            "{stem} {sector} Ltd",
            "{stem} Group",
        ),
    ),
    "de": Language(
        _pairs(
            "Jürgen|juergen Anna Lukas Sophie Maximilian Marie Felix Lena Jörg|joerg Katharina Stefan "
            "Björn|bjoern Sabine Uwe Ines Tobias Hannah Günther|guenther"
        ),
        _pairs(
            "Müller|mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schäfer|schaefer Koch "
            "Groß|gross Hoffmann Schröder|schroeder Köhler|koehler Weiß|weiss Krüger|krueger Lindner"
        ),
        _pairs(
            "Nordwind Bergmann Müller|mueller Sonnenfeld Rheinland Alpen Weißkopf|weisskopf Schäfer|schaefer "
            "Elbtal Bodensee Hirsch Lindner"
        ),
        _pairs(
            "Logistik Maschinenbau Software Energie Medizintechnik Beratung Automatisierung Versicherung "
            "Handel Bau"
        ),
        ("{stem} {sector} GmbH", "{stem} {sector} AG", "{stem} {sector} SE", "{stem} GmbH & Co. KG"),
        idn_share=0.3,
        titles={
            "C-Level": ("Geschäftsführer", "Geschäftsführerin", "Vorstand"),
            "Director": ("Leiterin Marketing", "Bereichsleiter Vertrieb", "Leiter IT"),
            "Manager": ("Teamleiter", "Projektleiterin", "Marketing-Managerin"),
            "Individual Contributor": (
                "Softwareentwickler",
                "Sachbearbeiterin",
                "Referent Öffentlichkeitsarbeit",
            ),
        },
    ),
    "fr": Language(
        _pairs(
            "Amélie|amelie Jean-Pierre|jean-pierre Élodie|elodie François|francois Chloé|chloe Léa|lea "
            "Théo|theo Camille Hélène|helene Mathis Inès|ines Benoît|benoit Margaux Hugo"
        ),
        _pairs(
            "Dubois Lefèvre|lefevre Moreau Laurent Girard Rousseau Bonnet Dupont Lambert Fontaine Chevalier "
            "Lefebvre Mercier Garnier Faure Duchêne|duchene"
        ),
        _pairs(
            "Lumière|lumiere Bellevue Château|chateau Rivière|riviere Montagne Étoile|etoile Sèvres|sevres "
            "Vallée|vallee Océan|ocean Horizon"
        ),
        _pairs(
            "Conseil Logiciels Énergie|energie Transports Santé|sante Industrie Informatique Distribution"
        ),
        ("{stem} {sector} SAS", "{stem} {sector} SA", "{stem} {sector} SARL", "Groupe {stem}"),
        idn_share=0.2,
        titles={
            "C-Level": ("Directeur général", "PDG", "Directrice générale"),
            "Director": ("Directeur commercial", "Directrice marketing"),
            "Manager": ("Chef de projet", "Responsable marketing"),
            "Individual Contributor": (
                "Ingénieur logiciel",
                "Chargée de communication",
                "Analyste de données",
            ),
        },
    ),
    "es": Language(
        _pairs(
            "José|jose María|maria Alejandro Lucía|lucia Javier Carmen Sofía|sofia Pablo Inés|ines "
            "Álvaro|alvaro Martina Andrés|andres Ximena Guadalupe"
        ),
        _pairs(
            "García|garcia Fernández|fernandez González|gonzalez Rodríguez|rodriguez López|lopez "
            "Martínez|martinez Sánchez|sanchez Pérez|perez Gómez|gomez Muñoz|munoz Jiménez|jimenez "
            "Ibáñez|ibanez Núñez|nunez de_la_Cruz|delacruz"
        ),
        _pairs("Olivo Brisa Montaña|montana Río|rio Alborada Cumbre Mar_Azul|marazul Sierra Alameda"),
        _pairs("Soluciones Tecnología|tecnologia Logística|logistica Energía|energia Consultores Sistemas"),
        ("{stem} {sector} S.L.", "{stem} {sector} S.A.", "Grupo {stem}", "{stem} {sector} S.A. de C.V."),
        idn_share=0.15,
        titles={
            "C-Level": ("Director General", "Consejera Delegada"),
            "Director": ("Directora de Marketing", "Director Comercial"),
            "Manager": ("Gerente de Ventas", "Jefa de Proyecto"),
            "Individual Contributor": ("Ingeniero de Software", "Analista de Datos"),
        },
    ),
    "pt": Language(
        _pairs(
            "João|joao Ana Gonçalo|goncalo Beatriz Tiago Inês|ines Luís|luis Mariana Thiago Letícia|leticia "
            "Rafael Conceição|conceicao"
        ),
        _pairs(
            "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Gonçalves|goncalves Sousa "
            "Araújo|araujo Simões|simoes Magalhães|magalhaes"
        ),
        _pairs("Horizonte Aurora Atlântico|atlantico Estrela Cerrado Tejo Ipê|ipe Paraíso|paraiso"),
        _pairs("Tecnologia Logística|logistica Soluções|solucoes Energia Consultoria Sistemas Alimentos"),
        ("{stem} {sector} Ltda.", "{stem} {sector} S.A.", "{stem} {sector} Lda."),
        idn_share=0.1,
        titles={
            "C-Level": ("Diretor Executivo", "Diretora Presidente"),
            "Director": ("Diretora de Marketing", "Diretor Comercial"),
            "Manager": ("Gerente de Vendas", "Gerente de Projetos"),
            "Individual Contributor": ("Engenheiro de Software", "Analista de Marketing"),
        },
    ),
    "it": Language(
        _pairs("Giulia Alessandro Francesca Lorenzo Chiara Matteo Niccolò|niccolo Federica Andrea Elena"),
        _pairs("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino De_Luca|deluca"),
        _pairs("Vesuvio Adriatica Dolomiti Laguna Stella Monte_Rosa|monterosa Aurora"),
        _pairs("Tecnologie Logistica Consulenze Energia Sistemi Meccanica"),
        ("{stem} {sector} S.r.l.", "{stem} {sector} S.p.A."),
    ),
    "nl": Language(
        _pairs("Daan Sanne Bram Fleur Joris Lotte Sem Anouk Thijs Eva"),
        _pairs(
            "de_Jong|dejong Jansen de_Vries|devries van_den_Berg|vandenberg Bakker Visser Smit "
            "van_Dijk|vandijk Meijer"
        ),
        _pairs("Noordzee Tulp Dijkstra Polder Zeewind Molenaar Oranje"),
        _pairs("Techniek Logistiek Software Energie Advies"),
        ("{stem} {sector} B.V.", "{stem} {sector} N.V."),
    ),
    "sv": Language(
        _pairs("Åsa|asa Björn|bjorn Linnéa|linnea Erik Märta|marta Oskar Ingrid Sören|soren Elsa Nils"),
        _pairs(
            "Andersson Johansson Karlsson Nilsson Eriksson Lindström|lindstrom Åberg|aberg "
            "Söderberg|soderberg Ekström|ekstrom Holm"
        ),
        _pairs("Norrsken Fjäll|fjall Skog Älv|alv Ljung Havsbris Björk|bjork Stjärn|stjarn"),
        _pairs("Teknik Logistik System Energi Konsult Data"),
        ("{stem} {sector} AB", "{stem}{sector} AB"),
        idn_share=0.1,
    ),
    "pl": Language(
        _pairs(
            "Łukasz|lukasz Agnieszka Małgorzata|malgorzata Paweł|pawel Katarzyna Michał|michal Zofia "
            "Wojciech Joanna Grzegorz Żaneta|zaneta"
        ),
        _pairs(
            "Nowak Kowalski Wiśniewski|wisniewski Wójcik|wojcik Kowalczyk Kamiński|kaminski Lewandowska "
            "Zieliński|zielinski Szymańska|szymanska Dąbrowski|dabrowski Łukasiewicz|lukasiewicz"
        ),
        _pairs("Wisła|wisla Orzeł|orzel Bursztyn Tatry Mazowsze Sokół|sokol Jantar Żuraw|zuraw"),
        _pairs("Technologie Logistyka Systemy Energia Doradztwo Budownictwo"),
        ("{stem} {sector} Sp. z o.o.", "{stem} {sector} S.A."),
        idn_share=0.1,
    ),
    "tr": Language(
        _pairs(
            "Ayşe|ayse Mehmet Fatma Mustafa Elif Emre Zeynep Çağrı|cagri Gökhan|gokhan Şule|sule "
            "İbrahim|ibrahim Özge|ozge"
        ),
        _pairs(
            "Yılmaz|yilmaz Kaya Demir Şahin|sahin Çelik|celik Yıldız|yildiz Öztürk|ozturk Aydın|aydin "
            "Arslan Doğan|dogan Kılıç|kilic Işık|isik"
        ),
        _pairs("Anadolu Boğaziçi|bogazici Yıldız|yildiz Ege Kartal Marmara Toros Çınar|cinar Güneş|gunes"),
        _pairs("Teknoloji Lojistik Enerji Yazılım|yazilim Danışmanlık|danismanlik Gıda|gida"),
        ("{stem} {sector} A.Ş.", "{stem} {sector} Ltd. Şti."),
        idn_share=0.1,
    ),
    "ja": Language(
        _pairs(
            "太郎|taro 花子|hanako 翔太|shota 美咲|misaki 健一|kenichi 由美|yumi 大輔|daisuke さくら|sakura "
            "拓也|takuya 陽菜|hina 悠斗|yuto 直子|naoko"
        ),
        _pairs(
            "佐藤|sato 鈴木|suzuki 高橋|takahashi 田中|tanaka 伊藤|ito 渡辺|watanabe 山本|yamamoto "
            "中村|nakamura 小林|kobayashi 加藤|kato 吉田|yoshida 山田|yamada"
        ),
        _pairs("桜井|sakurai 青木|aoki 富士|fuji 北星|hokusei 東光|toko 大和|yamato 朝日|asahi 双葉|futaba"),
        _pairs(
            "製作所|seisakusho 商事|shoji 電機|denki システムズ|systems 物流|butsuryu 化学|kagaku "
            "情報サービス|joho"
        ),
        ("株式会社{stem}{sector}", "{stem}{sector}株式会社"),
        latin_script=False,
        latin_share=0.2,
        latin_legal=("Co., Ltd.", "Corporation", "K.K."),
        idn_share=0.05,
        idn_tld="jp",
        titles={
            "C-Level": ("代表取締役社長", "取締役"),
            "Director": ("マーケティング部長", "営業本部長"),
            "Manager": ("課長", "プロジェクトマネージャー"),
            "Individual Contributor": ("エンジニア", "営業担当"),
        },
    ),
    "zh": Language(
        _pairs(
            "伟|wei 芳|fang 娜|na 秀英|xiuying 敏|min 静|jing 磊|lei 强|qiang 洋|yang 艳|yan 杰|jie 婷|ting "
            "子涵|zihan 浩然|haoran"
        ),
        _pairs(
            "王|wang 李|li 张|zhang 刘|liu 陈|chen 杨|yang 黄|huang 赵|zhao 吴|wu 周|zhou 徐|xu 孙|sun "
            "欧阳|ouyang"
        ),
        _pairs(
            "华信|huaxin 长城|changcheng 东方|dongfang 天成|tiancheng 金桥|jinqiao 新元|xinyuan 恒达|hengda"
        ),
        _pairs("科技|tech 电子|dianzi 物流|wuliu 软件|ruanjian 能源|nengyuan 信息技术|infotech"),
        ("{stem}{sector}有限公司", "{stem}{sector}股份有限公司"),
        latin_script=False,
        latin_share=0.25,
        latin_legal=("Co., Ltd.", "Group", "Technology Co., Ltd."),
        titles={
            "C-Level": ("总经理", "首席执行官"),
            "Director": ("市场总监", "销售总监"),
            "Manager": ("项目经理", "市场经理"),
            "Individual Contributor": ("软件工程师", "数据分析师"),
        },
    ),
    "ko": Language(
        _pairs(
            "민준|minjun 서연|seoyeon 지훈|jihoon 지우|jiwoo 현우|hyunwoo 수빈|subin 도윤|doyoon 하은|haeun "
            "준서|junseo 예은|yeeun"
        ),
        _pairs("김|kim 이|lee 박|park 최|choi 정|jung 강|kang 조|cho 윤|yoon 장|jang 임|lim"),
        _pairs("한빛|hanbit 미래|mirae 대한|daehan 새한|saehan 동진|dongjin 세종|sejong 푸른|pureun"),
        _pairs("전자|electronics 소프트|soft 물류|logistics 에너지|energy 정보통신|ict 바이오|bio"),
        ("(주){stem}{sector}", "{stem}{sector} 주식회사", "주식회사 {stem}{sector}"),
        latin_script=False,
        latin_share=0.2,
        latin_legal=("Co., Ltd.", "Corp."),
        titles={
            "C-Level": ("대표이사",),
            "Director": ("마케팅 이사",),
            "Manager": ("팀장", "과장"),
            "Individual Contributor": ("소프트웨어 엔지니어", "연구원"),
        },
    ),
    "ar": Language(
        _pairs(
            "محمد|mohammed أحمد|ahmed فاطمة|fatima عائشة|aisha علي|ali مريم|maryam يوسف|youssef نور|nour "
            "خالد|khaled سارة|sara عمر|omar ليلى|layla"
        ),
        _pairs(
            "العتيبي|alotaibi الحربي|alharbi القحطاني|alqahtani الشمري|alshammari حسن|hassan "
            "إبراهيم|ibrahim عبد_الله|abdullah منصور|mansour الزهراني|alzahrani سالم|salem"
        ),
        _pairs("النور|alnoor الفجر|alfajr الصقر|alsaqr الواحة|alwaha النخيل|alnakheel الريادة|alriyada"),
        _pairs(
            "للتقنية|tech للتجارة|trading للخدمات_اللوجستية|logistics للطاقة|energy للاستشارات|consulting"
        ),
        ("شركة {stem} {sector}", "مجموعة {stem}"),
        latin_script=False,
        latin_share=0.3,
        latin_legal=("LLC", "Group", "Co."),
    ),
    "he": Language(
        _pairs(
            "נועה|noa יוסף|yosef תמר|tamar דוד|david מיכל|michal אורי|uri שירה|shira איתי|itai יעל|yael "
            "אביגיל|avigail"
        ),
        _pairs(
            "כהן|cohen לוי|levi מזרחי|mizrahi פרץ|peretz ביטון|biton אברהם|avraham פרידמן|friedman "
            "שפירא|shapira גולן|golan"
        ),
        _pairs("אורה|ora גלבוע|gilboa כרמל|carmel נגב|negev ארז|erez שחר|shahar תבור|tavor"),
        _pairs("טכנולוגיות|tech מערכות|systems תוכנה|software אנרגיה|energy לוגיסטיקה|logistics"),
        ('{stem} {sector} בע"מ',),
        latin_script=False,
        latin_share=0.25,
        latin_legal=("Ltd.",),
    ),
    "hi": Language(
        _pairs(
            "आरव|aarav अनन्या|ananya विवान|vivaan दीया|diya अर्जुन|arjun प्रिया|priya राहुल|rahul नेहा|neha "
            "रोहन|rohan कविता|kavita अमित|amit पूजा|pooja"
        ),
        _pairs(
            "शर्मा|sharma वर्मा|verma गुप्ता|gupta सिंह|singh कुमार|kumar पटेल|patel मेहता|mehta जोशी|joshi "
            "अग्रवाल|agarwal रेड्डी|reddy नायर|nair चौधरी|chaudhary"
        ),
        _pairs("गंगा|ganga हिमालय|himalaya सह्याद्रि|sahyadri कावेरी|kaveri वायु|vayu सूर्य|surya सिंधु|indus"),
        _pairs(
            "इन्फोटेक|infotech सिस्टम्स|systems लॉजिस्टिक्स|logistics फार्मा|pharma सॉल्यूशंस|solutions एनर्जी|energy"
        ),
        ("{stem} {sector} प्राइवेट लिमिटेड",),
        latin_script=False,
        latin_share=0.65,
        latin_legal=("Pvt Ltd", "Private Limited", "Ltd"),
    ),
    "el": Language(
        _pairs(
            "Γιώργος|giorgos Μαρία|maria Δημήτρης|dimitris Ελένη|eleni Νίκος|nikos Κατερίνα|katerina "
            "Κώστας|kostas Σοφία|sofia Γιάννης|giannis Αθηνά|athina"
        ),
        _pairs(
            "Παπαδόπουλος|papadopoulos Παπαδοπούλου|papadopoulou Βλάχος|vlachos Γεωργίου|georgiou "
            "Οικονόμου|oikonomou Νικολάου|nikolaou Καραγιάννης|karagiannis Αντωνίου|antoniou Μακρή|makri"
        ),
        _pairs("Αιγαίο|aigaio Όλυμπος|olympos Ερμής|ermis Αρκαδία|arkadia Κρήτη|kriti Ποσειδών|poseidon"),
        _pairs(
            "Τεχνολογίες|technologies Συστήματα|systems Ενέργεια|energy Εφοδιαστική|logistics "
            "Λογισμικό|software"
        ),
        ("{stem} {sector} Α.Ε.", "{stem} {sector} Ε.Π.Ε."),
        latin_script=False,
        latin_share=0.2,
        latin_legal=("S.A.",),
    ),
    "ru": Language(
        _pairs(
            "Александр|aleksandr Елена|elena Дмитрий|dmitry Ольга|olga Сергей|sergey Наталья|natalya "
            "Андрей|andrey Татьяна|tatyana Иван|ivan Юлия|yulia Михаил|mikhail Анастасия|anastasia"
        ),
        _pairs(
            "Иванов|ivanov Смирнова|smirnova Кузнецов|kuznetsov Попова|popova Васильев|vasilyev "
            "Петрова|petrova Соколов|sokolov Михайлова|mikhailova Новиков|novikov Фёдоров|fedorov "
            "Морозова|morozova Волков|volkov"
        ),
        _pairs(
            "Вектор|vektor Северный|severny Альфа|alfa Сибирь|sibir Восток|vostok Гранит|granit Орбита|orbita"
        ),
        _pairs(
            "Технологии|tech Логистик|logistic Софт|soft Энерго|energo Системы|sistemy Консалтинг|consulting"
        ),
        ("ООО «{stem} {sector}»", "АО «{stem} {sector}»"),
        latin_script=False,
        latin_share=0.2,
        latin_legal=("LLC", "JSC"),
        idn_share=0.1,
        idn_tld="рф",
        titles={
            "C-Level": ("Генеральный директор",),
            "Director": ("Директор по маркетингу", "Коммерческий директор"),
            "Manager": ("Руководитель проектов", "Менеджер по продажам"),
            "Individual Contributor": ("Инженер-программист", "Аналитик"),
        },
    ),
    "vi": Language(
        _pairs(
            "Anh Minh Hương|huong Tuấn|tuan Linh Dũng|dung Thảo|thao Quang Ngọc|ngoc Hải|hai Phương|phuong "
            "Đức|duc"
        ),
        _pairs(
            "Nguyễn|nguyen Trần|tran Lê|le Phạm|pham Hoàng|hoang Huỳnh|huynh Phan Vũ|vu Võ|vo Đặng|dang "
            "Bùi|bui Đỗ|do"
        ),
        _pairs(
            "Sao_Việt|saoviet Hoàng_Long|hoanglong Phú_Thịnh|phuthinh Minh_Phát|minhphat "
            "Thành_Công|thanhcong Đại_Dương|daiduong"
        ),
        _pairs("Công_nghệ|tech Phần_mềm|software Năng_lượng|energy Thương_mại|trading Logistics"),
        ("Công ty TNHH {sector} {stem}", "Công ty Cổ phần {sector} {stem}"),
    ),
}

TITLES_EN: dict[str, tuple[str, ...]] = {
    "C-Level": (
        "Chief Executive Officer",
        "CEO",
        "Chief Marketing Officer",
        "CMO",
        "Chief Technology Officer",
        "CTO",
        "Chief Financial Officer",
        "Chief Revenue Officer",
        "Founder & CEO",
        "Chief Data Officer",
    ),
    "VP": (
        "VP Marketing",
        "VP of Sales",
        "Vice President, Engineering",
        "SVP Operations",
        "VP Demand Generation",
        "VP Customer Success",
    ),
    "Director": (
        "Director of Marketing",
        "Marketing Director",
        "Head of Demand Generation",
        "Director, IT",
        "Sales Director",
        "Head of Events",
        "Director of Engineering",
    ),
    "Manager": (
        "Marketing Manager",
        "Event Manager",
        "Product Manager",
        "IT Manager",
        "Sales Manager",
        "Project Manager",
        "Field Marketing Manager",
        "Engineering Manager",
    ),
    "Individual Contributor": (
        "Software Engineer",
        "Data Analyst",
        "Marketing Specialist",
        "Account Executive",
        "Solutions Architect",
        "Designer",
        "Data Scientist",
        "Sales Development Representative",
    ),
    "Student": ("Student", "PhD Candidate", "MBA Student"),
    "Other": ("Consultant", "Freelancer", "Journalist", "Advisor", "Retired"),
}
JOB_LEVEL_WEIGHTS: tuple[int, ...] = (8, 10, 18, 26, 30, 3, 5)  # in JOB_LEVELS order
COMPANY_SIZE_WEIGHTS: tuple[int, ...] = (10, 14, 18, 16, 12, 14, 7, 9)  # in COMPANY_SIZES order

NOTES: tuple[str, ...] = (
    "Met at booth B12 — interested in the enterprise plan.",
    "Asked for a demo next week.",
    "Wants pricing for 50 seats, budget approved for Q3.",
    "Spoke at the keynote; follow up in January.",
    'Scanned badge twice, "VIP" guest.',
    "Prefers email, not phone.\nAvailable after 3pm CET.",
    "👍 great conversation, send the deck",
    "Budget: $50,000; timeline: Q2",
    "-- call back after the event",
    "Interessiert an einer Demo, bitte auf Deutsch.",
    "Souhaite recevoir la documentation technique.",
    "Quiere una llamada con ventas.",
    "Pediu proposta comercial.",
    "Vill ha en offert.",
    "デモを希望。来月フォローアップ。",
    "需要报价，下周联系。",
    "다음 주에 데모 요청",
    "مهتم بالعرض التوضيحي",
    "מעוניין בהדגמה",
    "डेमो चाहिए, अगले हफ्ते कॉल करें",
    "Ενδιαφέρεται για demo.",
    "Просит презентацию и прайс.",
    "Quan tâm đến bản demo.",
    "Zainteresowany wdrożeniem w Q4.",
    "Demo talep etti, İstanbul ofisi.",
)

# --- Countries ---


@dataclass(frozen=True)
class City:
    name: str
    latin_name: str
    state_code: str  # "" where the country's leads carry no state
    state_name: str
    postal: str  # pattern: "#" a digit, "@" a capital letter


@dataclass(frozen=True)
class Country:
    """A country as leads from it look: how it is typed, its languages, cities and free-mail providers."""

    alpha2: str
    weight: int
    spellings: tuple[tuple[str, int], ...]
    languages: tuple[tuple[str, int], ...]
    tld: str
    cities: tuple[City, ...]
    #: Share of leads that fill in the state (only countries whose cities name one).
    state_share: float = 0.0
    free_mail: tuple[str, ...] = ()


def _cities(*rows: str) -> tuple[City, ...]:
    """``"東京|Tokyo;;;100-####"`` → City: name[|Latin name]; state code; state name; postal pattern."""
    out = []
    for row in rows:
        name, code, state, postal = row.split(";")
        written, _, latin = name.partition("|")
        out.append(City(written, latin or written, code, state, postal))
    return tuple(out)


COUNTRIES: tuple[Country, ...] = (
    Country(
        "US",
        22,
        (
            ("United States", 30),
            ("USA", 25),
            ("US", 15),
            ("United States of America", 10),
            ("U.S.", 5),
            ("U.S.A.", 5),
            ("united states", 5),
            ("usa", 5),
        ),
        (("en", 80), ("es", 6), ("zh", 4), ("hi", 4), ("ko", 2), ("vi", 2), ("ru", 2)),
        "com",
        _cities(
            "New York;NY;New York;100##",
            "San Francisco;CA;California;941##",
            "Austin;TX;Texas;787##",
            "Chicago;IL;Illinois;606##",
            "Seattle;WA;Washington;981##",
            "Boston;MA;Massachusetts;021##",
            "Atlanta;GA;Georgia;303##",
            "Denver;CO;Colorado;802##",
            "Miami;FL;Florida;331##",
        ),
        0.9,
        ("comcast.net", "yahoo.com", "gmail.com"),
    ),
    Country(
        "GB",
        8,
        (("United Kingdom", 35), ("UK", 30), ("GB", 10), ("Great Britain", 10), ("U.K.", 10), ("GBR", 5)),
        (("en", 85), ("hi", 8), ("ar", 3), ("pl", 4)),
        "co.uk",
        _cities("London;;;EC1A #@@", "Manchester;;;M1 #@@", "Edinburgh;;;EH1 #@@", "Bristol;;;BS1 #@@"),
        free_mail=("btinternet.com", "yahoo.co.uk", "hotmail.co.uk"),
    ),
    Country(
        "DE",
        10,
        (("Germany", 50), ("Deutschland", 25), ("DE", 15), ("DEU", 5), ("germany", 5)),
        (("de", 88), ("tr", 6), ("pl", 3), ("en", 3)),
        "de",
        _cities(
            "Berlin;BE;Berlin;10###",
            "München;BY;Bayern;80###",
            "Hamburg;HH;Hamburg;20###",
            "Köln;NW;Nordrhein-Westfalen;50###",
            "Frankfurt am Main;HE;Hessen;60###",
            "Stuttgart;BW;Baden-Württemberg;70###",
            "Leipzig;SN;Sachsen;04###",
        ),
        0.35,
        ("gmx.de", "web.de", "t-online.de"),
    ),
    Country(
        "FR",
        6,
        (("France", 80), ("FR", 15), ("FRA", 5)),
        (("fr", 92), ("ar", 5), ("en", 3)),
        "fr",
        _cities("Paris;;;750##", "Lyon;;;6900#", "Toulouse;;;310##", "Nantes;;;440##"),
        free_mail=("orange.fr", "free.fr", "laposte.net"),
    ),
    Country(
        "ES",
        4,
        (("Spain", 60), ("España", 25), ("ES", 15)),
        (("es", 100),),
        "es",
        _cities("Madrid;;;280##", "Barcelona;;;080##", "Sevilla;;;410##", "Valencia;;;460##"),
        free_mail=("hotmail.es", "yahoo.es"),
    ),
    Country(
        "PL",
        3,
        (("Poland", 60), ("Polska", 25), ("PL", 15)),
        (("pl", 100),),
        "pl",
        _cities("Warszawa;;;0#-###", "Kraków;;;3#-###", "Wrocław;;;5#-###", "Gdańsk;;;80-###"),
        free_mail=("wp.pl", "o2.pl", "onet.pl"),
    ),
    Country(
        "TR",
        3,
        (("Turkey", 50), ("Türkiye", 30), ("TR", 20)),
        (("tr", 100),),
        "com.tr",
        _cities("İstanbul;;;34###", "Ankara;;;06###", "İzmir;;;35###"),
        free_mail=("hotmail.com", "mynet.com"),
    ),
    Country(
        "JP",
        5,
        (("Japan", 85), ("JP", 15)),
        (("ja", 100),),
        "co.jp",
        _cities(
            "東京|Tokyo;;;100-####",
            "大阪|Osaka;;;530-####",
            "横浜|Yokohama;;;220-####",
            "福岡|Fukuoka;;;810-####",
        ),
        free_mail=("yahoo.co.jp",),
    ),
    Country(
        "CN",
        4,
        (("China", 85), ("CN", 15)),
        (("zh", 100),),
        "com.cn",
        _cities(
            "北京|Beijing;;;100###",
            "上海|Shanghai;;;200###",
            "深圳|Shenzhen;;;518###",
            "杭州|Hangzhou;;;310###",
        ),
        free_mail=("qq.com", "163.com", "126.com", "sina.com"),
    ),
    Country(
        "KR",
        3,
        (("South Korea", 60), ("Korea, Republic of", 15), ("KR", 15), ("Republic of Korea", 10)),
        (("ko", 100),),
        "co.kr",
        _cities("서울|Seoul;;;0####", "부산|Busan;;;4####", "인천|Incheon;;;2####"),
        free_mail=("naver.com", "hanmail.net"),
    ),
    Country(
        "SA",
        1,
        (("Saudi Arabia", 85), ("SA", 15)),
        (("ar", 100),),
        "com.sa",
        _cities("الرياض|Riyadh;;;1####", "جدة|Jeddah;;;2####"),
    ),
    Country(
        "AE",
        1,
        (("United Arab Emirates", 60), ("UAE", 25), ("AE", 15)),
        (("ar", 60), ("en", 20), ("hi", 20)),
        "ae",
        _cities("دبي|Dubai;;;", "أبو ظبي|Abu Dhabi;;;"),
    ),
    Country(
        "EG",
        1,
        (("Egypt", 85), ("EG", 15)),
        (("ar", 100),),
        "com.eg",
        _cities("القاهرة|Cairo;;;11###", "الإسكندرية|Alexandria;;;21###"),
    ),
    Country(
        "IL",
        2,
        (("Israel", 85), ("IL", 15)),
        (("he", 85), ("ar", 10), ("ru", 5)),
        "co.il",
        _cities("תל אביב|Tel Aviv;;;6######", "ירושלים|Jerusalem;;;9######", "חיפה|Haifa;;;3######"),
    ),
    Country(
        "IN",
        6,
        (("India", 85), ("IN", 10), ("IND", 5)),
        (("hi", 100),),
        "in",
        _cities(
            "Mumbai;MH;Maharashtra;4000##",
            "Bengaluru;KA;Karnataka;5600##",
            "New Delhi;DL;Delhi;1100##",
            "Chennai;TN;Tamil Nadu;6000##",
            "Pune;MH;Maharashtra;4110##",
        ),
        0.8,
        ("rediffmail.com", "gmail.com"),
    ),
    Country(
        "GR",
        2,
        (("Greece", 85), ("GR", 15)),
        (("el", 100),),
        "gr",
        _cities("Αθήνα|Athens;;;10# ##", "Θεσσαλονίκη|Thessaloniki;;;54# ##"),
    ),
    Country(
        "RU",
        3,
        (("Russia", 60), ("Russian Federation", 30), ("RU", 10)),
        (("ru", 100),),
        "ru",
        _cities(
            "Москва|Moscow;;;101###", "Санкт-Петербург|Saint Petersburg;;;190###", "Казань|Kazan;;;420###"
        ),
        free_mail=("mail.ru", "yandex.ru"),
    ),
    Country(
        "VN",
        2,
        (("Vietnam", 60), ("Viet Nam", 25), ("VN", 15)),
        (("vi", 100),),
        "com.vn",
        _cities("Hà Nội;;;100000", "Thành phố Hồ Chí Minh;;;700000", "Đà Nẵng;;;550000"),
    ),
    Country(
        "BR",
        4,
        (("Brazil", 60), ("Brasil", 25), ("BR", 15)),
        (("pt", 100),),
        "com.br",
        _cities(
            "São Paulo;SP;São Paulo;0####-###",
            "Rio de Janeiro;RJ;Rio de Janeiro;2####-###",
            "Belo Horizonte;MG;Minas Gerais;3####-###",
            "Curitiba;PR;Paraná;8####-###",
        ),
        0.85,
        ("uol.com.br", "bol.com.br", "terra.com.br"),
    ),
    Country(
        "PT",
        2,
        (("Portugal", 85), ("PT", 15)),
        (("pt", 100),),
        "pt",
        _cities("Lisboa;;;1###-###", "Porto;;;4###-###"),
        free_mail=("sapo.pt",),
    ),
    Country(
        "SE",
        2,
        (("Sweden", 70), ("Sverige", 15), ("SE", 15)),
        (("sv", 100),),
        "se",
        _cities("Stockholm;;;11# ##", "Göteborg;;;41# ##", "Malmö;;;21# ##"),
    ),
    Country(
        "CA",
        4,
        (("Canada", 85), ("CA", 10), ("CAN", 5)),
        (("en", 70), ("fr", 20), ("zh", 5), ("hi", 5)),
        "ca",
        _cities(
            "Toronto;ON;Ontario;M5V #@#",
            "Vancouver;BC;British Columbia;V6B #@#",
            "Montréal;QC;Québec;H2X #@#",
            "Calgary;AB;Alberta;T2P #@#",
        ),
        0.9,
    ),
    Country(
        "AU",
        3,
        (("Australia", 80), ("AU", 15), ("AUS", 5)),
        (("en", 90), ("zh", 5), ("vi", 5)),
        "com.au",
        _cities(
            "Sydney;NSW;New South Wales;2###",
            "Melbourne;VIC;Victoria;3###",
            "Brisbane;QLD;Queensland;4###",
            "Perth;WA;Western Australia;6###",
        ),
        0.85,
    ),
    Country(
        "MX",
        2,
        (("Mexico", 60), ("México", 25), ("MX", 15)),
        (("es", 100),),
        "com.mx",
        _cities(
            "Ciudad de México;CMX;Ciudad de México;06###",
            "Guadalajara;JAL;Jalisco;44###",
            "Monterrey;NLE;Nuevo León;64###",
        ),
        0.7,
    ),
    Country(
        "IT",
        3,
        (("Italy", 70), ("Italia", 15), ("IT", 15)),
        (("it", 100),),
        "it",
        _cities("Milano;;;201##", "Roma;;;001##", "Torino;;;101##"),
        free_mail=("libero.it",),
    ),
    Country(
        "NL",
        3,
        (("Netherlands", 55), ("The Netherlands", 20), ("NL", 15), ("Nederland", 10)),
        (("nl", 95), ("tr", 5)),
        "nl",
        _cities("Amsterdam;;;10## @@", "Rotterdam;;;30## @@", "Utrecht;;;35## @@"),
    ),
    Country(
        "CH",
        2,
        (("Switzerland", 70), ("Schweiz", 15), ("CH", 15)),
        (("de", 65), ("fr", 25), ("it", 10)),
        "ch",
        _cities("Zürich;;;80##", "Genève;;;12##", "Basel;;;40##"),
        free_mail=("bluewin.ch",),
    ),
    Country(
        "AT",
        2,
        (("Austria", 70), ("Österreich", 15), ("AT", 15)),
        (("de", 100),),
        "at",
        _cities("Wien;;;1##0", "Graz;;;80##", "Linz;;;40##"),
        free_mail=("gmx.at",),
    ),
)

#: Every way the generator writes a country, mapped to its ISO 3166-1 alpha-2 code.
COUNTRY_SPELLINGS: dict[str, str] = {
    spelling: country.alpha2 for country in COUNTRIES for spelling, _ in country.spellings
}

T = TypeVar("T")

# --- The generator ---

_PHONE_POOL = 300  # valid numbers per country and number type
_RECENT = 20_000  # duplicates repeat a clean lead from this many leads back at most
_START_DATE = dt.date(2025, 6, 1)
_EMAIL_STYLES: tuple[tuple[str, int], ...] = (
    ("{f}.{l}", 40),
    ("{f}{l}", 10),
    ("{i}{l}", 15),
    ("{i}.{l}", 8),
    ("{f}_{l}", 5),
    ("{l}.{f}", 5),
    ("{f}", 5),
    ("{f}-{l}", 4),
    ("{l}{i}", 8),
)


@dataclass(frozen=True)
class _Phone:
    international: str
    national: str
    e164: str


def _weighted(pairs: Sequence[tuple[T, int]]) -> tuple[list[T], list[int]]:
    """Values and cumulative weights, for ``Random.choices(values, cum_weights=...)``."""
    values = [v for v, _ in pairs]
    cumulative, total = [], 0
    for _, w in pairs:
        total += w
        cumulative.append(total)
    return values, cumulative


def _phone_is_valid(text: str, region: str | None) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, region))
    except phonenumbers.NumberParseException:
        return False


def _ascii_slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and (ch.isalnum() or ch == "-"))


class LeadGenerator:
    """Generates leads one by one; the same seed always gives the same leads.

    Most callers want :func:`generate_leads`, :func:`generate_labelled` or :func:`write_csv`.
    """

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self._emails: set[str] = set()  # lower-cased, so no two leads share an email by accident
        self._recent: list[dict[str, str]] = []  # ring buffer of recent clean leads, for duplicates
        self._recent_at = 0
        self._phones: dict[tuple[str, PhoneNumberType], list[_Phone]] = {}
        self._countries = _weighted([(c, c.weight) for c in COUNTRIES])
        self._state_countries = _weighted([(c, c.weight) for c in COUNTRIES if c.state_share])
        self._country_spellings = {c.alpha2: _weighted(c.spellings) for c in COUNTRIES}
        self._country_languages = {c.alpha2: _weighted(c.languages) for c in COUNTRIES}
        self._email_styles = _weighted(_EMAIL_STYLES)
        self._consent = _weighted(CONSENT_GIVEN)
        self._job_levels = _weighted(list(zip(JOB_LEVELS, JOB_LEVEL_WEIGHTS, strict=True)))
        self._sizes = _weighted(list(zip(COMPANY_SIZES, COMPANY_SIZE_WEIGHTS, strict=True)))
        self._aliases = {
            "job_level": self._aliases_of(JOB_LEVEL_ALIASES),
            "company_size": self._aliases_of(COMPANY_SIZE_ALIASES),
            "industry": self._aliases_of(INDUSTRY_ALIASES),
        }

    @staticmethod
    def _aliases_of(aliases: dict[str, str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for alias, canonical in aliases.items():
            out.setdefault(canonical, []).append(alias)
        return out

    # -- the stream ----------------------------------------------------------------------------------------

    def labelled(self, n: int) -> Iterator[tuple[LeadKind, dict[str, str]]]:
        """``n`` leads with the kind each one is, in the exact per-1,000 mix of ``MIX``."""
        block = [kind for kind, count in MIX.items() for _ in range(count)]
        produced = 0
        while produced < n:
            self.rng.shuffle(block)
            for kind in block[: min(BLOCK, n - produced)]:
                yield self._lead(kind)
            produced += BLOCK

    # -- one lead ------------------------------------------------------------------------------------------

    def _lead(self, kind: LeadKind) -> tuple[LeadKind, dict[str, str]]:
        if kind is LeadKind.DUPLICATE:
            if self._recent:
                return kind, self._duplicate()
            kind = LeadKind.CLEAN
        rng = self.rng
        states = self._state_countries if kind is LeadKind.INVALID_STATE else self._countries
        country = rng.choices(states[0], cum_weights=states[1])[0]
        if kind is LeadKind.INVALID_STATE:
            city = rng.choice([c for c in country.cities if c.state_code])
        else:
            city = rng.choice(country.cities)
        languages = self._country_languages[country.alpha2]
        language = LANGUAGES[rng.choices(languages[0], cum_weights=languages[1])[0]]
        latin = language.latin_script or rng.random() < language.latin_share

        first, last = rng.choice(language.first_names), rng.choice(language.last_names)
        company, domain, idn_domain = self._company(language, country, latin)
        level = rng.choices(self._job_levels[0], cum_weights=self._job_levels[1])[0]
        local_titles = language.titles.get(level)
        title = rng.choice(local_titles if local_titles and rng.random() < 0.4 else TITLES_EN[level])
        spellings = self._country_spellings[country.alpha2]
        phone_international = kind in (LeadKind.UNKNOWN_COUNTRY, LeadKind.MISSING_REQUIRED)

        row = {
            "email": self._email(first, last, idn_domain or domain, language),
            "first_name": self._name(first, latin),
            "last_name": self._name(last, latin),
            "company": company,
            "job_title": title,
            "job_level": self._picklist_value("job_level", level),
            "company_size": self._picklist_value(
                "company_size", rng.choices(self._sizes[0], cum_weights=self._sizes[1])[0]
            ),
            "industry": self._picklist_value("industry", rng.choice(INDUSTRIES)),
            "country": rng.choices(spellings[0], cum_weights=spellings[1])[0],
            "state": self._state(country, city),
            "city": city.name if not latin else city.latin_name,
            "postal_code": self._postal(city.postal),
            "phone": self._phone(country.alpha2, international=phone_international),
            "opt_in": rng.choices(self._consent[0], cum_weights=self._consent[1])[0],
            "registered_on": (_START_DATE + dt.timedelta(days=rng.randrange(365))).isoformat(),
            "website": self._website(domain),
            "notes": rng.choice(NOTES) if rng.random() < 0.3 else "",
        }
        self._break(kind, row, country, language, first, last)
        if kind is LeadKind.CLEAN:
            self._remember(row)
        return kind, row

    def _name(self, name: tuple[str, str], latin: bool) -> str:
        """The name as written in its script, or in Latin letters; a few in capitals, padded or NFD."""
        text = name[0] if not latin or _is_latin(name[0]) else name[1].title()
        roll = self.rng.random()
        if not _is_latin(text):
            return text
        if roll < 0.02:
            return text.upper()
        if roll < 0.04:
            return text.lower()
        if roll < 0.06:
            return f" {text}  "
        if roll < 0.07:
            return unicodedata.normalize("NFD", text)
        return text

    def _company(self, language: Language, country: Country, latin: bool) -> tuple[str, str, str | None]:
        """The company as written, its ASCII domain and, sometimes, an internationalised domain."""
        rng = self.rng
        stem, sector = rng.choice(language.company_stems), rng.choice(language.company_sectors)
        if latin and not language.latin_script:
            name = f"{stem[1].title()} {sector[1].title()} {rng.choice(language.latin_legal)}"
        else:
            name = rng.choice(language.company_formats).format(stem=stem[0], sector=sector[0])
        tld = country.tld if rng.random() < 0.7 else "com"
        roll = rng.random()
        if roll < 0.45:
            label, idn_label = f"{stem[1]}-{sector[1]}", f"{stem[0]}-{sector[0]}"
        elif roll < 0.7:
            label, idn_label = f"{stem[1]}{sector[1]}", f"{stem[0]}{sector[0]}"
        else:
            label, idn_label = stem[1], stem[0]
        domain = f"{_ascii_slug(label)}.{tld}"
        idn = None
        idn_label = idn_label.lower().replace(" ", "")
        if not idn_label.isascii() and rng.random() < language.idn_share:
            idn = f"{idn_label}.{language.idn_tld or tld}"
        return name, domain, idn

    def _email(self, first: tuple[str, str], last: tuple[str, str], domain: str, language: Language) -> str:
        """An email derived from the name: ASCII local part, or (rarely) the name with its accents."""
        rng = self.rng
        if language.latin_script and rng.random() < 0.01 and not (first[0] + last[0]).isascii():
            local = f"{first[0]}.{last[0]}".lower().replace(" ", "")
        else:
            style = rng.choices(self._email_styles[0], cum_weights=self._email_styles[1])[0]
            f, last_ascii = _ascii_slug(first[1]), _ascii_slug(last[1])
            local = style.format(f=f, l=last_ascii, i=f[:1])
        return self._unique(local, domain)

    def _unique(self, local: str, domain: str) -> str:
        email = f"{local}@{domain}"
        suffix = 2
        while email.lower() in self._emails:
            email = f"{local}{suffix}@{domain}"
            suffix += 1
        self._emails.add(email.lower())
        return email

    def _picklist_value(self, field_key: str, canonical: str) -> str:
        """The value as submitted: mostly canonical, sometimes an alias, another case or extra spaces."""
        roll = self.rng.random()
        aliases = self._aliases[field_key].get(canonical)
        if roll < 0.03:
            return ""
        if roll < 0.13 and aliases:
            return self.rng.choice(aliases)
        if roll < 0.19:
            return canonical.lower()
        if roll < 0.22:
            return canonical.upper()
        if roll < 0.25:
            return f" {canonical.replace(' ', '  ')} "
        return canonical

    def _state(self, country: Country, city: City) -> str:
        if not city.state_code or self.rng.random() >= country.state_share:
            return ""
        return city.state_code if self.rng.random() < 0.5 else city.state_name

    def _postal(self, pattern: str) -> str:
        rng = self.rng
        return "".join(
            str(rng.randrange(10)) if ch == "#" else chr(65 + rng.randrange(26)) if ch == "@" else ch
            for ch in pattern
        )

    def _phone_pool(self, region: str, number_type: PhoneNumberType) -> list[_Phone]:
        """Valid numbers for one region and type: the example number with its trailing digits varied.

        Seeded per region and type, so a pool never depends on which lead asked for it first.
        """
        key = (region, number_type)
        pool = self._phones.get(key)
        if pool is not None:
            return pool
        pool = []
        example = phonenumbers.example_number_for_type(region, number_type)
        if example is not None:
            rng = random.Random(f"{self.seed}:{region}:{int(number_type)}")
            digits = str(example.national_number)
            vary = min(6, len(digits) - 2)
            seen: set[str] = set()
            for _ in range(_PHONE_POOL * 4):
                tail = "".join(str(rng.randrange(10)) for _ in range(vary))
                candidate = digits[:-vary] + tail
                if candidate in seen:
                    continue
                seen.add(candidate)
                number = copy.copy(example)
                number.national_number = int(candidate)
                if phonenumbers.is_valid_number(number):
                    pool.append(
                        _Phone(
                            phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
                            phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
                            phonenumbers.format_number(number, PhoneNumberFormat.E164),
                        )
                    )
                    if len(pool) == _PHONE_POOL:
                        break
        self._phones[key] = pool
        return pool

    def _valid_phone(self, region: str) -> _Phone:
        number_type = PhoneNumberType.MOBILE if self.rng.random() < 0.6 else PhoneNumberType.FIXED_LINE
        pool = self._phone_pool(region, number_type) or self._phone_pool(region, PhoneNumberType.MOBILE)
        return self.rng.choice(pool)

    def _phone(self, region: str, international: bool = False) -> str:
        rng = self.rng
        if rng.random() < 0.12:
            return ""
        phone = self._valid_phone(region)
        roll = rng.random()
        if international or roll < 0.35:
            return phone.international if roll < 0.9 else phone.e164
        if roll < 0.65:
            return phone.national
        if roll < 0.75:
            return phone.e164
        if roll < 0.85:
            return phone.international.replace(" ", "-")
        if roll < 0.92:
            if region in ("DE", "AT", "CH"):
                return phone.national.replace(" ", "/", 1)  # 030/123456
            return phone.national.replace("(", "").replace(")", "").replace(" ", ".").replace("-", ".")
        if roll < 0.97:
            # 00 is the international call prefix of most countries, not all (US 011, Japan 010)
            text = "00" + phone.e164[1:]
            return text if _phone_is_valid(text, region) else phone.international
        return phone.national.replace(" ", "")

    def _website(self, domain: str) -> str:
        roll = self.rng.random()
        if roll < 0.15:
            return ""
        if roll < 0.85:
            return f"https://www.{domain}"
        if roll < 0.95:
            return f"http://{domain}"
        return f"https://{domain}/en/"

    # -- errors ------------------------------------------------------------------------------------------

    def _break(
        self,
        kind: LeadKind,
        row: dict[str, str],
        country: Country,
        language: Language,
        first: tuple[str, str],
        last: tuple[str, str],
    ) -> None:
        """Give ``row`` exactly the one error ``kind`` names (nothing for clean leads)."""
        rng = self.rng
        if kind is LeadKind.INVALID_EMAIL:
            row["email"] = self._broken_email(row["email"])
        elif kind is LeadKind.FREE_MAIL:
            self._emails.discard(row["email"].lower())
            domain = rng.choice(country.free_mail + FREE_MAIL_DOMAINS)
            row["email"] = self._unique(f"{_ascii_slug(first[1])}.{_ascii_slug(last[1])}", domain)
        elif kind is LeadKind.DISPOSABLE_MAIL:
            self._emails.discard(row["email"].lower())
            local = f"{_ascii_slug(first[1])}{rng.randrange(10, 100)}"
            row["email"] = self._unique(local, rng.choice(DISPOSABLE_DOMAINS))
        elif kind is LeadKind.INVALID_LIST_VALUE:
            key = rng.choices(("job_level", "company_size", "industry"), weights=(2, 1, 1))[0]
            row[key] = rng.choice(INVALID_LIST_VALUES[key])
        elif kind is LeadKind.INVALID_PHONE:
            row["phone"] = self._invalid_phone(country.alpha2)
        elif kind is LeadKind.SPREADSHEET_PHONE:
            row["phone"] = self._spreadsheet_phone(country.alpha2)
        elif kind is LeadKind.UNKNOWN_COUNTRY:
            row["country"] = rng.choice(UNKNOWN_COUNTRIES)
            row["state"] = ""
        elif kind is LeadKind.INVALID_STATE:
            row["state"] = self._foreign_state(country)
        elif kind is LeadKind.MISSING_REQUIRED:
            key = rng.choices(("email", "first_name", "last_name", "country"), weights=(3, 3, 2, 2))[0]
            row[key] = "  " if rng.random() < 0.15 else ""
            if key == "country":
                row["state"] = ""
        elif kind is LeadKind.FIELD_TOO_LONG:
            self._lengthen(row, language)
        elif kind is LeadKind.INVALID_DATE:
            row["registered_on"] = rng.choice(INVALID_DATES)
        elif kind is LeadKind.INVALID_URL:
            row["website"] = rng.choice(INVALID_URLS)
        elif kind is LeadKind.NO_CONSENT:
            row["opt_in"] = rng.choice(CONSENT_REFUSED)

    def _broken_email(self, email: str) -> str:
        """``email`` with its syntax broken in one of the ways people and forms break it."""
        local, _, domain = email.partition("@")
        head, _, tld = domain.rpartition(".")
        breakers = (
            lambda: f"{local}{domain}",  # the @ lost
            lambda: f"{local}(at){domain}",
            lambda: f"{local}..x@{domain}",
            lambda: f"{local} {local}@{domain}",
            lambda: f"{local}@{domain.split('.')[0]}",  # no dot in the domain
            lambda: f"{local}@{domain}.",
            lambda: f"{local}@{head},{tld}",
            lambda: f".{local}@{domain}",
            lambda: f"{local}@@{domain}",
            lambda: f"{local}@-{domain}",
        )
        return self.rng.choice(breakers)()

    def _invalid_phone(self, region: str) -> str:
        phone = self._valid_phone(region)
        digits = "".join(ch for ch in phone.national if ch.isdigit())
        candidates = [
            digits[:-3],
            digits + "4321",
            phone.e164[:5],
            "12345",
            "000 000 0000",
            phone.e164 + "99",
        ]
        self.rng.shuffle(candidates)
        for text in candidates:
            if not _phone_is_valid(text, region):
                return text
        return "123"

    def _spreadsheet_phone(self, region: str) -> str:
        """A number the way Excel shows it after reading it as a float: ``4.41632E+11``."""
        for _ in range(10):
            phone = self._valid_phone(region)
            text = f"{int(phone.e164[1:]):.5E}"
            if not _phone_is_valid(text, region):
                return text
        return "4.41632E+11"

    def _foreign_state(self, country: Country) -> str:
        choices = [
            state
            for state, owner in FOREIGN_STATES.items()
            if owner != country.alpha2 and not _state_of(country.alpha2, state)
        ]
        return self.rng.choice(choices)

    def _lengthen(self, row: dict[str, str], language: Language) -> None:
        """Make one length-limited field too long, the way it happens: many given names, a pasted note."""
        rng = self.rng
        key = rng.choice(("first_name", "last_name", "company", "notes"))
        if key == "notes":
            parts = [row["notes"]] if row["notes"] else []
            while len(" ".join(parts)) <= 520:
                parts.append(rng.choice(NOTES))
            row["notes"] = " ".join(parts)
        elif key == "company":
            text = row["company"].strip()
            for part in (
                " – Niederlassung Süd",
                ", Abteilung Vertrieb",
                " und Marketing Services",
                " (EMEA)",
            ):
                text += part
            while len(text) <= 85:
                text += " International"
            row["company"] = text
        else:
            names = language.first_names if key == "first_name" else language.last_names
            text = row[key].strip() or rng.choice(names)[0]
            while len(text) <= 45:
                text = f"{text} {rng.choice(names)[0]}"
            row[key] = text

    # -- duplicates ------------------------------------------------------------------------------------

    def _remember(self, row: dict[str, str]) -> None:
        if len(self._recent) < _RECENT:
            self._recent.append(row)
        else:
            self._recent[self._recent_at] = row
            self._recent_at = (self._recent_at + 1) % _RECENT

    def _duplicate(self) -> dict[str, str]:
        """A clean lead seen again: same person and email (maybe in another case), a later registration."""
        rng = self.rng
        row = dict(rng.choice(self._recent))
        email = row["email"]
        roll = rng.random()
        if roll < 0.2:
            email = email.upper()
        elif roll < 0.4:
            local, _, domain = email.partition("@")
            email = f"{local.title()}@{domain}"
        # Only case changes that lower-case back to the same address ("ß".upper() is "SS": another domain).
        if email.lower() == row["email"].lower():
            row["email"] = email
        row["registered_on"] = (_START_DATE + dt.timedelta(days=rng.randrange(365))).isoformat()
        row["notes"] = rng.choice(NOTES) if rng.random() < 0.5 else ""
        return row


def _is_latin(text: str) -> bool:
    return all(ch.isascii() or "LATIN" in unicodedata.name(ch, "") for ch in text if ch.isalpha())


_KNOWN_STATES: dict[str, set[str]] = {}


def _state_of(alpha2: str, value: str) -> bool:
    """Whether ``value`` names a subdivision of the country (code, code suffix or name), per pycountry."""
    known = _KNOWN_STATES.get(alpha2)
    if known is None:
        import pycountry

        known = set()
        for s in pycountry.subdivisions.get(country_code=alpha2) or ():
            known |= {s.code.casefold(), s.code.split("-", 1)[1].casefold(), s.name.casefold()}
        _KNOWN_STATES[alpha2] = known
    return value.casefold() in known


# --- Public API ------------------------------------------------------------------------------------------


def generate_labelled(n: int, seed: int = DEFAULT_SEED) -> Iterator[tuple[LeadKind, dict[str, str]]]:
    """``n`` leads, each with the :class:`LeadKind` it was generated as."""
    return LeadGenerator(seed).labelled(n)


def generate_leads(n: int, seed: int = DEFAULT_SEED) -> Iterator[dict[str, str]]:
    """``n`` leads as dicts keyed by :data:`COLUMNS` (every value a ``str``, empty cells ``""``)."""
    for _, row in generate_labelled(n, seed):
        yield row


def write_csv(path: str | Path, n: int, seed: int = DEFAULT_SEED) -> Counter[LeadKind]:
    """Write ``n`` leads to ``path`` (UTF-8, comma, a header row of :data:`COLUMNS`).

    Returns how many leads of each kind were written.
    """
    kinds: Counter[LeadKind] = Counter()
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for kind, row in generate_labelled(n, seed):
            kinds[kind] += 1
            writer.writerow([row[c] for c in COLUMNS])
    return kinds
