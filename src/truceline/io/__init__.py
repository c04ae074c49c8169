"""Readers and writers, one module per format, registered once in :mod:`truceline.io.formats`.

Every reader takes a path or an open stream (:mod:`truceline.io.streams`) and every writer takes
records and a path or an open stream. Formats: JSON Lines (:mod:`~truceline.io.jsonl`), JSON
documents (:mod:`~truceline.io.jsondoc`), CSV (:mod:`~truceline.io.csv`; detections in bulk:
:mod:`~truceline.io.detections`), GeoJSON (:mod:`~truceline.io.geojson`), TopoJSON
(:mod:`~truceline.io.topojson`, read only), GeoParquet (:mod:`~truceline.io.geoparquet`) and KML
(:mod:`~truceline.io.kml`). Observation files become batches of good records and problems
(:mod:`~truceline.io.records`, :mod:`~truceline.io.batches`), every problem a
:class:`~truceline.io.problems.RecordProblem`; their kinds are in :mod:`~truceline.io.kinds`.
"""
