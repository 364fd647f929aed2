"""Instant alerts: rules in ``sources.yaml`` (``alerts:``) that send a story through webhooks,
e-mail or chat tools within the cycle that stored it.

- ``rules``: the configured rules and channels, and the pure decisions on them (which story a
  rule wants, quiet hours, the hourly limit and its roll-up, the back-off of a failing channel);
- ``messages``: what an alert says (the ``stories`` JSON, the chat text, the e-mail);
- ``send``: one message through one channel;
- ``engine``: the step the cycle runs: record new stories, send what is pending.
"""
