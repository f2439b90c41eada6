"""Fuzzing of the ``plan`` CLI with hypothesis (see ``fuzzkit``)."""
