# The long fuzz run is a script (`python tests/fuzz/fuzz_parser.py`), not part of the test suite.
collect_ignore_glob = ["*.py"]
