"""The pure part of quantity-true links: cell conditions and what a value feeds."""

from app.engines.quantities import cell_conditions, feed, input_fields, meets, standard_of, standard_row

CITY = standard_of("sd-city-2019")


def test_cell_conditions_and_meets():
    conds = cell_conditions("realtime", ">=", 90, [{"part": "stops", "op": ">", "value": 20}])
    assert conds == [("realtime", ">=", 90), ("stops", ">", 20)]
    assert meets(conds, {"realtime": 90, "stops": 20.5}) is True
    assert meets(conds, {"realtime": 90, "stops": 20}) is False  # 超过 20%
    assert meets(conds, {"realtime": 100}) is None  # a part missing: cannot be judged
    assert meets(conds, 95) is None
    assert cell_conditions(None, None, None, None) == []  # a descriptive cell
    assert meets([(None, "<=", 6)], 4) is True  # a rank on the number itself


def test_input_fields():
    assert input_fields(standard_row(CITY, "6")) == {"contribution": "%", "departments": "个"}
    assert input_fields(standard_row(CITY, "46"))["national"] == "项"
    assert input_fields(standard_row(CITY, "25")) == {"air": "%", "water": "%", "noise": "%"}
    assert input_fields(standard_row(CITY, "14")) is None


def test_feed():
    assert feed(CITY, "14", "stops", [{"key": "stops"}], {"realtime": 61.5, "stops": 12.0}) == 12.0
    assert feed(CITY, "14", "stops", [{"key": "stops"}], 61.5) is None
    value = {"national": 1, "provincial": 2, "note": 3}
    assert feed(CITY, "46", None, [{"key": "national"}, {"key": "provincial"}], value) == {
        "national": 1,
        "provincial": 2,
    }
    assert feed(CITY, "4", None, None, {"coverage": 95}) is None  # intact missing
    assert feed(CITY, "40", None, None, {"level": 4}) == {"level": 4}
    assert feed(CITY, "40", None, None, 4) is None  # a level-only indicator takes levels only
    assert feed(CITY, "99", None, None, 4) is None
