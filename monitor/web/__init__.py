"""The press office's workspace in the browser (``monitor web``): ``app.py`` builds the
application, ``pages.py`` the pages, ``api.py`` the JSON API, ``security.py`` sessions, CSRF,
the sign-in throttle and the response headers, ``words.py`` the pages' words."""
