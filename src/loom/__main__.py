from loom.cli import run

run()
