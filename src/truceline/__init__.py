"""truceline: the information system of a ceasefire monitoring mission."""

__version__ = "0.1.0"
