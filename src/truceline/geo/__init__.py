"""The geometry engine: projection, line-of-contact derivation, side / distance / zone queries for arrays of points."""
