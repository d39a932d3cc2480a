"""Value types and rules with no I/O: intervals, versions, series and model records, ISO times.

Every other package may import from here; this package imports nothing from them.
"""
