"""The ``monitor`` console script.

Nothing is imported at module level on purpose: multiprocessing's forkserver and spawn children
re-run the main script to rebuild ``__main__``, so whatever it imports, every extraction worker
imports too (the command line pulls in httpx, SQLAlchemy and the tagger: ~45 MB a worker).
"""


def main() -> int:
    from monitor.cli import main as cli_main

    code = cli_main()
    from monitor.interrupt import EXIT_INTERRUPTED

    if code == EXIT_INTERRUPTED:
        # An interrupted run has unwound and closed its store. Leave now: the interpreter's own
        # shutdown (module teardown, worker joins) can take a second, and once it has restored
        # the default signal handlers a further Ctrl-C would end the process by the signal
        # (status -2, a traceback) instead of the promised 130.
        import logging
        import os
        import sys

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
