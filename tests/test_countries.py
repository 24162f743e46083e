from survey.countries import COUNTRY_CODES, country_choices, country_name


def test_exactly_the_iso_3166_1_countries() -> None:
    assert len(COUNTRY_CODES) == 249
    assert {"CA", "SA", "US", "GB", "AX", "SS"} <= COUNTRY_CODES
    assert not {"EU", "UN", "XK", "ZZ", "AC"} & COUNTRY_CODES


def test_choices_are_named_and_sorted_by_name() -> None:
    choices = country_choices("en")
    names = [name for _, name in choices]
    assert dict(choices)["SA"] == "Saudi Arabia"
    assert names.index("Åland Islands") < names.index("Albania")
    assert country_name("CA") == "Canada"
    assert country_name("SA", "ar") == "المملكة العربية السعودية"
