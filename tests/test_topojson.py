import shapely

from truceline.io.topojson import read_topojson


def test_countries_decode_with_crimea_inside_ukraine(shared_data):
    feats = read_topojson(shared_data / "world" / "visionscarto_countries-50m.topojson.json", "countries")
    by_name = {f.properties.get("name"): f.geometry for f in feats}
    ukraine, russia = by_name["Ukraine"], by_name["Russia"]
    assert ukraine.is_valid and russia.is_valid
    simferopol, kyiv, belgorod, moscow = (
        shapely.Point(34.10, 44.96),
        shapely.Point(30.52, 50.45),
        shapely.Point(36.59, 50.60),
        shapely.Point(37.62, 55.75),
    )
    assert ukraine.contains(simferopol) and ukraine.contains(kyiv)
    assert not russia.contains(simferopol)
    assert russia.contains(belgorod) and russia.contains(moscow)
