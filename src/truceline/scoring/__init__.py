"""Scoring any result set against a simulator's ground truth (the IDC-style scorecard).

Apart from :mod:`truceline.sim` (which makes the truth) so that a result from any source, the
simulator's oracle included, is graded by the same code. Entry point:
:func:`truceline.scoring.score.score_dirs`; definitions in ``docs/scoring.md``.
"""
