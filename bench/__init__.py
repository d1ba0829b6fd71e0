"""Side-by-side benchmarks of loom against named peers; run all with ``make bench``."""
