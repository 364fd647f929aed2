"""Multilingual monitor of news about cooperation in the film industry.

Pipeline: config -> fetch -> parse -> extract -> tag -> store -> digest.
``monitor.pipeline.run_cycle`` runs one cycle; ``monitor.cli`` is the command line.
"""

__version__ = "0.2.0"
