"""The ``monitor`` console script.

Nothing is imported at module level on purpose: multiprocessing's forkserver and spawn children
re-run the main script to rebuild ``__main__``, so whatever it imports, every extraction worker
imports too (the command line pulls in httpx, SQLAlchemy and the tagger: ~45 MB a worker).
"""


def main() -> int:
    from monitor.cli import main as cli_main

    return cli_main()
