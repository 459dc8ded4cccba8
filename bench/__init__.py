"""Benchmarks of Pejling against references measured in the same run (issue 5).

Run them with ``.venv/bin/python -m bench.run``; they write ``bench/RESULTS.md``.
"""
