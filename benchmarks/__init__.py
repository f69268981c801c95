"""Benchmarks of the clinic lead service (``make bench``, contract section 6).

``python -m benchmarks`` measures every figure side by side in one run, prints progress to stderr, a human
table to stdout, and as its last line one JSON object of figures. ``--quick`` runs a reduced version (fewer
rounds and requests) used by the smoke test; its figures are not meant to be quoted. See README.md.
"""
