# Imports stay under the guard: worker processes import the main module under another name, and
# should not pay for the command line (see monitor/entry.py).
if __name__ == "__main__":
    from monitor.entry import main

    raise SystemExit(main())
