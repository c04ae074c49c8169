"""Fusion: associate detections into events, locate them, pair launches with impacts, attribute.

Stages so far: :mod:`truceline.fusion.locate` (vectorized time-difference and bearing location with
calibrated covariance). Association, pairing and attribution follow (issue "Fusion engine").
"""
