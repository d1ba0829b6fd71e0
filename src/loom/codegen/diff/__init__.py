"""``loom diff OLD NEW``: what changed in the Python API between two SDKs, and what breaks.

Each side is a schema (any source ``loom generate`` reads, with its configuration) or an SDK
tree ``loom generate`` wrote (its ``loom-api.json``). Both become a ``Surface``
(``diff.surface``), ``diff.compare`` lists the changes, ``diff.report`` prints them and
``diff.cli`` is the command (this package imports nothing, so ``loom --help`` stays instant).
"""
