"""Tests of the schema catalogue: governance, diff, upcasting, export, HTTP face and validators."""
