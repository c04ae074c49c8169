import math

import numpy as np
import pytest

from truceline.geo.coords import as_lonlat
from truceline.geo.errors import InvalidCoordinateError


def test_scalars_and_lists_become_equal_arrays():
    lon, lat = as_lonlat(35.0, 48.0)
    assert lon.shape == lat.shape == (1,)
    lon, lat = as_lonlat([30, 31], (48, 49))
    assert lon.dtype == np.float64 and lat.tolist() == [48.0, 49.0]


@pytest.mark.parametrize(
    ("lon", "lat", "field", "index"),
    [
        ([30, math.nan], [48, 48], "lon", 1),
        ([30, 31, 32], [48, 91, 95], "lat", 1),
        ([181, 30], [48, 48], "lon", 0),
        ([30], [math.inf], "lat", 0),
    ],
)
def test_bad_coordinates_name_point_field_and_value(lon, lat, field, index):
    with pytest.raises(InvalidCoordinateError) as err:
        as_lonlat(lon, lat)
    assert err.value.field == field and err.value.index == index
    assert f"point {index}: {field}=" in str(err.value)


def test_count_of_bad_points_is_reported():
    with pytest.raises(InvalidCoordinateError, match="2 more bad points") as err:
        as_lonlat([30, 30, 30], [91, 92, 93])
    assert err.value.count == 3


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="lon has 2 values but lat has 1"):
        as_lonlat([30, 31], [48])
