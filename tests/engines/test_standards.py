"""The encoded 2019 Shandong standards match the seed text and validate."""

import pytest
import yaml

from app.engines import standards as st

CITY, COUNTY, COMMUNITY = "sd-city-2019", "sd-county-2019", "sd-community-2019"


def _ind(code, number):
    return next(i for i in st.load_standard(code)["indicators"] if i["number"] == number)


def _cell(code, number, column):
    return _ind(code, number)["cells"][column - 1]


def test_all_three_standards_load():
    assert {CITY, COUNTY, COMMUNITY} <= set(st.available_codes())


@pytest.mark.parametrize("code,count", [(CITY, 49), (COUNTY, 52)])
def test_star_standard_shape(code, count):
    std = st.load_standard(code)
    assert len(std["indicators"]) == count
    assert st.full_marks(std) == 500 == std["max_total"]
    numbers = [i["number"] for i in std["indicators"]]
    assert numbers == [str(n) for n in range(1, count + 1)]
    assert all(len(i["cells"]) == 5 for i in std["indicators"])


def test_titles():
    assert st.load_standard(CITY)["title"] == "山东省市级新型智慧城市试点示范建设标准（试行）"
    assert st.load_standard(COUNTY)["title"] == "山东省县级新型智慧城市试点示范建设标准（试行）"


def test_community_has_25_items():
    std = st.load_standard(COMMUNITY)
    assert [i["number"] for i in std["items"]] == [str(n) for n in range(1, 26)]
    cats = [i["category"] for i in std["items"]]
    assert cats.count("基础设施") == 8 and cats.count("社区服务") == 10
    assert cats.count("社区安全") == 6 and cats[-1] == "服务创新"
    item = std["items"][11]
    assert item["name"] == "便捷通行" and "社区停车位共享率超过5%" in item["assessment"]


@pytest.mark.parametrize(
    "code,number,column,points,condition",
    [
        (CITY, "1", 1, 2, {"op": ">=", "value": 50}),
        (CITY, "2", 5, 10, {"op": ">=", "value": 30}),
        (
            CITY,
            "4",
            2,
            3,
            {
                "all": [
                    {"field": "coverage", "op": ">=", "value": 70},
                    {"field": "intact", "op": ">=", "value": 70},
                ]
            },
        ),
        (CITY, "6", 1, 2, {"field": "contribution", "op": ">=", "value": 20}),
        (
            CITY,
            "6",
            5,
            10,
            {
                "all": [
                    {"field": "contribution", "op": ">=", "value": 60},
                    {"field": "departments", "op": ">=", "value": 6},
                ]
            },
        ),
        (CITY, "13", 5, 10, {"op": ">", "value": 85}),
        (CITY, "17", 1, 7, {"op": "<=", "value": 16}),
        (CITY, "17", 5, 15, {"op": "<=", "value": 3}),
        (CITY, "23", 5, 15, {"op": ">", "value": 95}),
        (CITY, "35", 3, 3, {"op": ">=", "value": 8.5}),
        (CITY, "36", 4, 6, {"op": ">", "value": 10}),
        (
            CITY,
            "46",
            4,
            6,
            {
                "all": [
                    {"field": "national", "op": ">=", "value": 1},
                    {"field": "provincial", "op": ">=", "value": 2},
                ]
            },
        ),
        (CITY, "48", 5, 50, {"op": ">=", "value": 3}),
        (COUNTY, "6", 3, 4, {"op": ">=", "value": 70}),
        (COUNTY, "12", 1, 5, {"op": ">=", "value": 10}),
        (COUNTY, "15", 2, 6, {"op": "<=", "value": 100}),
        (COUNTY, "15", 5, 15, {"op": "<=", "value": 25}),
        (COUNTY, "29", 1, 3, {"op": ">=", "value": 30}),
        (
            COUNTY,
            "37",
            5,
            12,
            {
                "all": [
                    {"field": "municipal", "op": ">=", "value": 4},
                    {"field": "provincial", "op": ">=", "value": 1},
                ]
            },
        ),
        (COUNTY, "40", 5, 6, {"op": ">=", "value": 1.8}),
        (
            COUNTY,
            "49",
            2,
            2,
            {"sum": ["national", "provincial", "related"], "op": ">=", "value": 1},
        ),
        (
            COUNTY,
            "49",
            5,
            8,
            {
                "any": [
                    {"field": "national", "op": ">=", "value": 1},
                    {"field": "provincial", "op": ">=", "value": 2},
                ]
            },
        ),
    ],
)
def test_spot_checks_against_seed(code, number, column, points, condition):
    cell = _cell(code, number, column)
    assert cell["points"] == points
    assert cell["condition"] == condition


def test_slash_cells_and_texts():
    assert _cell(CITY, "12", 4) == {"text": "/", "points": None, "condition": None}
    assert _cell(CITY, "1", 1)["text"] == "家庭光纤宽带入户率达到50%，2分"
    assert _cell(COUNTY, "20", 3)["text"] == "社区停车位共享率达到5%，2分"


def test_flags_inputs_and_parts():
    assert _ind(CITY, "10")["star"] and _ind(CITY, "10")["name"] == "IPv6网站支持率"
    assert not _ind(CITY, "1")["star"]
    assert _ind(CITY, "15")["parts"] == ["wifi", "multimedia", "remote"]
    assert _ind(COUNTY, "29")["parts"] == ["air", "water", "noise"]
    level_only = {
        CITY: ["29", "40", "41", "42", "43", "47"],
        COUNTY: ["33", "43", "44", "45", "46", "50", "51"],
    }
    for code, numbers in level_only.items():
        found = [i["number"] for i in st.load_standard(code)["indicators"] if i["input"] == "level-only"]
        assert found == numbers
    invest = _ind(CITY, "43")
    assert invest["star"] and [c["points"] for c in invest["cells"]] == [
        None,
        6,
        9,
        12,
        15,
    ]
    assert all(c["condition"] is None for c in invest["cells"])


@pytest.mark.parametrize("code,number", [(CITY, "45"), (COUNTY, "48")])
def test_deduction_indicator(code, number):
    ind = _ind(code, number)
    assert ind["name"] == "信息安全" and ind["input"] == "deduction"
    assert ind["deduction_per_incident"] == 5
    assert all(c["points"] is None for c in ind["cells"])


def test_star_bands():
    std = st.load_standard(CITY)
    edges = {
        0: 0,
        49: 0,
        50: 1,
        99: 1,
        100: 2,
        209: 2,
        210: 3,
        339: 3,
        340: 4,
        449: 4,
        450: 5,
        500: 5,
    }
    assert {t: st.stars_for(std, t) for t in edges} == edges


def test_load_standard_returns_a_copy():
    st.load_standard(CITY)["indicators"].clear()
    assert len(st.load_standard(CITY)["indicators"]) == 49


def test_unknown_code():
    with pytest.raises(ValueError, match="unknown standard"):
        st.load_standard("sd-nowhere-2019")


def _broken(tmp_path, mutate):
    data = yaml.safe_load((st.STANDARDS_DIR / f"{CITY}.yaml").read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / f"{CITY}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError) as err:
        st.load_file(path)
    return str(err.value)


def test_broken_points_names_file_and_path(tmp_path):
    def mutate(d):
        d["indicators"][0]["cells"][1]["points"] = "4分"

    msg = _broken(tmp_path, mutate)
    assert msg.startswith(f"{CITY}.yaml: indicators[0].cells[1].points:")


def test_broken_cell_count_names_path(tmp_path):
    msg = _broken(tmp_path, lambda d: d["indicators"][2]["cells"].pop())
    assert "indicators[2].cells" in msg and "5 cells" in msg


def test_broken_condition_and_numbering(tmp_path):
    def bad_op(d):
        d["indicators"][5]["cells"][4]["condition"]["all"][0]["op"] = "≥"

    assert "indicators[5].cells[4].condition.all[0].op" in _broken(tmp_path, bad_op)

    def bad_number(d):
        d["indicators"][7]["number"] = "9"

    assert "indicators[7].number" in _broken(tmp_path, bad_number)

    def bad_total(d):
        d["indicators"][0]["cells"][4]["points"] = 11

    assert "max_total" in _broken(tmp_path, bad_total)


def test_each_load_is_a_fresh_copy_the_next_load_does_not_see_changed():
    first = st.load_standard("sd-city-2019")
    first["indicators"][0]["cells"][0]["points"] = 999
    first["star_bands"].clear()
    again = st.load_standard("sd-city-2019")
    assert again["indicators"][0]["cells"][0]["points"] != 999
    assert again["star_bands"] and again == st.load_standard("sd-city-2019")
