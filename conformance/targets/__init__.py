"""Targets the suite can run against: the reference gateway and its fault catalogue."""
